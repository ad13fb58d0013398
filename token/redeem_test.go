package token

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormEncodesInOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields [][2]string
		want   string
	}{
		{"one", [][2]string{{"client_id", "abc"}}, "client_id=abc"},
		{"scope with spaces", [][2]string{{"scope", "https://graph.microsoft.com/.default offline_access"}, {"grant_type", "refresh_token"}},
			"scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+offline_access&grant_type=refresh_token"},
		{"reserved characters", [][2]string{{"client_secret", "a&b=c+d%e f~"}}, "client_secret=a%26b%3Dc%2Bd%25e+f~"},
		{"empty value", [][2]string{{"refresh_token", ""}, {"x", "y"}}, "refresh_token=&x=y"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var f form
			want := url.Values{}
			for _, kv := range c.fields {
				f.add(kv[0], kv[1])
				want.Add(kv[0], kv[1])
			}
			assert.Equal(t, c.want, f.String())
			got, err := url.ParseQuery(f.String())
			require.NoError(t, err)
			assert.Equal(t, want, got, "the body decodes to the fields added")
		})
	}
}
