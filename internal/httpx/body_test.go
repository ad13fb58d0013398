package httpx

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestAppendBodyAppendsWithinItsLimit(t *testing.T) {
	t.Parallel()
	buf := make([]byte, 0, 64)
	buf = append(buf, "kept:"...)
	got, err := AppendBody(buf, strings.NewReader("hello"), 5)
	require.NoError(t, err)
	assert.Equal(t, "kept:hello", string(got), "the body follows what dst held")
	assert.Same(t, &buf[:1][0], &got[:1][0], "a dst with room is filled in place")

	// The limit counts the body, not what dst held before it.
	got, err = AppendBody([]byte("kept:"), strings.NewReader("hello!"), 5)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	assert.Equal(t, "kept:hello", string(got))

	// A reader that hands out a byte at a time, ending with the data.
	got, err = AppendBody(nil, iotest.DataErrReader(iotest.OneByteReader(strings.NewReader(strings.Repeat("y", 700)))), 0)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("y", 700), string(got))
}

func TestReadResponseBodySizesByContentLength(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("z", 3000)
	for _, tt := range []struct {
		name   string
		length int64
		limit  int64
		want   string
		err    error
	}{
		{"announced", 3000, 0, body, nil},
		{"unknown", -1, 0, body, nil},
		{"announced short", 10, 0, body, nil},
		{"announced long", 5000, 0, body, nil},
		{"over the limit", 3000, 100, body[:100], ErrBodyTooLarge},
		{"announced huge", 1 << 30, 0, body, nil},
	} {
		resp := &http.Response{ContentLength: tt.length, Body: io.NopCloser(strings.NewReader(body))}
		got, err := ReadResponseBody(resp, tt.limit)
		if tt.err != nil {
			require.ErrorIs(t, err, tt.err, tt.name)
		} else {
			require.NoError(t, err, tt.name)
		}
		assert.Equal(t, tt.want, string(got), tt.name)
		switch tt.name {
		case "announced":
			assert.Equal(t, 3001, cap(got), "sized by Content-Length, with room to read the end")
		case "announced huge":
			assert.Less(t, cap(got), 1<<20, "a Content-Length alone allocates no more than the body")
		}
	}
}
