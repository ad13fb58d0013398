package cloud

import (
	"strings"
	"testing"
)

func TestBuiltinsValidate(t *testing.T) {
	t.Parallel()
	for _, c := range Builtins() {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		got, err := ByName(c.Name)
		if err != nil || got != c {
			t.Errorf("ByName(%q) = %v, %v; want the built-in", c.Name, got.Name, err)
		}
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	if got, want := Public.Graph.Scope(), "https://graph.microsoft.com/.default"; got != want {
		t.Errorf("Scope() = %q, want %q", got, want)
	}
}

func TestByNameUnknown(t *testing.T) {
	t.Parallel()
	_, err := ByName("mars")
	if err == nil || !strings.Contains(err.Error(), "use public, usgov, usgovdod or china") {
		t.Errorf("ByName(mars) error = %v, want one naming the choices", err)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Configuration)
		want   string
	}{
		{"relative login", func(c *Configuration) { c.LoginEndpoint = "login.example" }, "not an absolute URL"},
		{"plain http", func(c *Configuration) { c.Graph.Endpoint = "http://graph.example" }, "must use https"},
		{"trailing slash", func(c *Configuration) { c.Exchange.Endpoint = "https://outlook.example/" }, "trailing slash"},
		{"empty resource", func(c *Configuration) { c.PartnerCenter.Resource = "" }, "Partner Center resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Public
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	loop := Public
	loop.LoginEndpoint = "http://127.0.0.1:8080"
	if err := loop.Validate(); err != nil {
		t.Errorf("http on loopback should be allowed: %v", err)
	}
}
