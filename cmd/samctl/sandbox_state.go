package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

// sandboxState keeps a sandbox's world in a folder (--state DIR) across
// restarts: world.json, the fake's state (tenants, apps, secrets, refresh
// tokens, consents, rehearsals, signing key), and sandbox.json, what the
// sandbox printed when it was made (its customers and their problems, the
// SAM app's credentials). Both hold the fake's secrets and are written
// with mode 0600, replaced atomically.
type sandboxState struct{ dir string }

func (st sandboxState) worldPath() string { return filepath.Join(st.dir, "world.json") }
func (st sandboxState) infoPath() string  { return filepath.Join(st.dir, "sandbox.json") }

// saved reports whether the folder holds a saved sandbox.
func (st sandboxState) saved() bool {
	_, err := os.Stat(st.worldPath())
	return !errors.Is(err, fs.ErrNotExist)
}

// load reads the saved sandbox into s.
func (st sandboxState) load(s *testserver.Server) (info testserver.SandboxInfo, err error) {
	world, err := os.ReadFile(st.worldPath())
	if err != nil {
		return info, withFix(fmt.Errorf("reading the sandbox's state: %w", err), "check the permissions of the --state folder")
	}
	raw, err := os.ReadFile(st.infoPath())
	if err == nil {
		err = json.Unmarshal(raw, &info)
	}
	if err == nil {
		err = s.LoadState(bytes.NewReader(world))
	}
	if err != nil {
		return info, withFix(fmt.Errorf("loading the sandbox's state from %s: %w", st.dir, err),
			"remove the folder (or choose another --state) to start a new sandbox")
	}
	return info, nil
}

// save writes the world and info.
func (st sandboxState) save(s *testserver.Server, info testserver.SandboxInfo) error {
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("saving the sandbox's state: %w", err)
	}
	var world bytes.Buffer
	if err := s.SaveState(&world); err != nil {
		return err
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("saving the sandbox's state: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{st.worldPath(), world.Bytes()}, {st.infoPath(), raw}} {
		if err := writeFileAtomic(f.path, f.data); err != nil {
			return fmt.Errorf("saving the sandbox's state: %w", err)
		}
	}
	return nil
}

// keep saves the world every interval while it changes (requests served,
// rehearsals staged), and once more when ctx ends.
func (st sandboxState) keep(ctx context.Context, s *testserver.Server, info testserver.SandboxInfo, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := stateMark(s)
	for {
		select {
		case <-ctx.Done():
			if err := st.save(s, info); err != nil {
				onErr(err)
			}
			return
		case <-t.C:
			if m := stateMark(s); !slices.Equal(m, last) {
				if err := st.save(s, info); err != nil {
					onErr(err)
				}
				last = m
			}
		}
	}
}

// stateMark changes when the world may have: a request served, a
// rehearsal staged or stopped.
func stateMark(s *testserver.Server) []string {
	mark := []string{fmt.Sprint(s.TotalRequests())}
	for _, r := range s.Rehearsals() {
		if r.Active {
			mark = append(mark, string(r.Name))
		}
	}
	return mark
}

// writeFileAtomic replaces path with data, readable by its owner only.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
