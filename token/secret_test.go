package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-value-Zx9"
	s := NewSecret(value)
	type holder struct {
		Exported   Secret
		unexported Secret
	}
	h := holder{Exported: s, unexported: s}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outputs = append(outputs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln([]Secret{s}))
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("msg", "secret", s, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("msg", "secret", s, "holder", h)
	outputs = append(outputs, buf.String())
	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked in %q", out)
		}
	}
	if got := fmt.Sprint(s); got != redacted {
		t.Errorf("Sprint = %q, want %q", got, redacted)
	}
	if got := s.Reveal(); got != value {
		t.Errorf("Reveal() = %q, want the value", got)
	}
}

func TestSecretZero(t *testing.T) {
	t.Parallel()
	var z Secret
	if !z.IsZero() || z.Reveal() != "" || z.String() != "" {
		t.Errorf("zero Secret: IsZero=%v Reveal=%q String=%q", z.IsZero(), z.Reveal(), z.String())
	}
	if !NewSecret("").IsZero() {
		t.Error("NewSecret(\"\") is not zero")
	}
	if !NewSecret("a").Equal(NewSecret("a")) || NewSecret("a").Equal(NewSecret("b")) {
		t.Error("Equal compares values wrongly")
	}
}
