package httpx

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		limit   int64
		want    string
		wantErr error
	}{
		{"under", "hello", 10, "hello", nil},
		{"exact", "hello", 5, "hello", nil},
		{"over", "hello!", 5, "hello", ErrBodyTooLarge},
		{"empty", "", 5, "", nil},
		{"default limit", strings.Repeat("x", 1000), 0, strings.Repeat("x", 1000), nil},
	}
	for _, tt := range tests {
		got, err := ReadBody(strings.NewReader(tt.body), tt.limit)
		if string(got) != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: ReadBody = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := ReadBody(iotest.ErrReader(errors.New("boom")), 5); err == nil || err.Error() != "boom" {
		t.Errorf("read error = %v, want boom", err)
	}
}
