package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/samkit/samkit/internal/testserver"
)

// openPTY returns a pseudo-terminal: what is written to the first file is
// typed on the second, which is a terminal to samctl.
func openPTY(t *testing.T) (keyboard, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine (/dev/ptmx: %v); mount devpts to run this test", err)
	}
	t.Cleanup(func() { m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0), "unlock the pseudo-terminal")
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestOffboardAsksAtATerminal: at a terminal, offboard asks for the
// customer's tenant id or domain; anything else changes nothing, and the
// tenant id typed back offboards.
func TestOffboardAsksAtATerminal(t *testing.T) {
	isolate(t)
	s, flags, prospect := gdapSandbox(t)
	code, _, stderr := samctl(t, append([]string{"onboard", "--new", "--name", "Tailwind samkit", "--no-wait", "-o", "json"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	status := func() (id, st string) {
		s.Read(func(w *testserver.World) {
			for _, r := range w.Partner.Relationships {
				if r.DisplayName == "Tailwind samkit" {
					id, st = r.ID, r.Status
				}
			}
		})
		return id, st
	}
	rel, _ := status()
	require.NotEmpty(t, rel)
	require.NoError(t, s.ApproveRelationship(rel, prospect.ID))
	code, _, stderr = samctl(t, append([]string{"onboard", "--new", "--name", "Tailwind samkit"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)

	keyboard, tty := openPTY(t)
	offboard := func(typed string) (int, string, string) {
		_, err := keyboard.WriteString(typed + "\n")
		require.NoError(t, err)
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"offboard", "--customer", prospect.ID}, flags...), tty, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, stdout, stderr := offboard("contoso.onmicrosoft.com")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stdout, "Type the customer's tenant id or domain to confirm")
	assert.Contains(t, stderr, "not confirmed: nothing was changed")
	_, st := status()
	assert.Equal(t, testserver.RelActive, st, "a wrong answer ends nothing")

	code, stdout, stderr = offboard(strings.ToUpper(prospect.ID))
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, 2, strings.Count(stdout, ": done"), stdout)
	_, st = status()
	assert.NotEqual(t, testserver.RelActive, st, "the typed tenant id confirms")
}

// TestOffboardPromptEndsOnInterrupt: Ctrl-C at the confirmation prompt
// ends samctl with 130 and changes nothing, without a line typed.
func TestOffboardPromptEndsOnInterrupt(t *testing.T) {
	isolate(t)
	_, flags, prospect := gdapSandbox(t)
	_, tty := openPTY(t)
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	prompt := &promptWatch{want: "to confirm", seen: make(chan struct{})}
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"offboard", "--customer", prospect.ID}, flags...), tty, prompt, &errOut)
	}()
	select {
	case <-prompt.seen: // the prompt is up; the person presses Ctrl-C
	case code := <-done:
		t.Fatalf("offboard ended (exit %d) without asking: %s", code, errOut.String())
	}
	interrupt()
	select {
	case code := <-done:
		assert.Equal(t, exitInterrupted, code)
	case <-time.After(2 * time.Minute): // a hang, not slowness: it ends at once
		t.Fatal("offboard still waits for a line after Ctrl-C")
	}
	assert.NotContains(t, errOut.String(), "not confirmed", "an interrupt is not a refusal")
}

// promptWatch is samctl's stdout in a test that waits for a prompt: seen
// is closed once what was written holds want.
type promptWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (p *promptWatch) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	had := strings.Contains(p.buf.String(), p.want)
	p.buf.Write(b)
	if !had && strings.Contains(p.buf.String(), p.want) {
		close(p.seen)
	}
	return len(b), nil
}
