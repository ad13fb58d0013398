package sam

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/token"
)

// sharedEpoch is when the refresh tokens of the shared-file tests were
// obtained: token n at sharedEpoch + n ms, so that a token's name says
// when it was obtained.
var sharedEpoch = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func sharedToken(n int) (token.Secret, time.Time) {
	return token.NewSecret(fmt.Sprintf("rt-%05d", n)), sharedEpoch.Add(time.Duration(n) * time.Millisecond)
}

// watchFile reads the file until stop closes and reports every time it
// stepped back, or held a token with another's time.
func watchFile(t *testing.T, path string, stop <-chan struct{}) func() []string {
	t.Helper()
	s := NewFileStore(path)
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := time.Time{}
		for {
			select {
			case <-stop:
				return
			default:
			}
			doc, err := s.read()
			if err != nil {
				problems = append(problems, "read: "+err.Error())
				return
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(doc.RefreshToken, "rt-"))
			if _, at := sharedToken(n); doc.RefreshToken != "initial" && !at.Equal(doc.RefreshTokenObtainedAt) {
				problems = append(problems, fmt.Sprintf("%s recorded as obtained at %v", doc.RefreshToken, doc.RefreshTokenObtainedAt))
			}
			if doc.RefreshTokenObtainedAt.Before(last) {
				problems = append(problems, fmt.Sprintf("stepped back from a token of %v to %s of %v", last, doc.RefreshToken, doc.RefreshTokenObtainedAt))
			}
			last = doc.RefreshTokenObtainedAt
		}
	}()
	return func() []string { <-done; return problems }
}

// saveShuffled saves the tokens ns in a random order, so that older and
// newer tokens interleave, from workers goroutines.
func saveShuffled(ctx context.Context, s *FileStore, ns []int, workers int) error {
	ns = append([]int(nil), ns...)
	rand.Shuffle(len(ns), func(i, j int) { ns[i], ns[j] = ns[j], ns[i] })
	work := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range work {
				rt, at := sharedToken(n)
				if err := s.SaveRefreshTokenObtained(ctx, token.RefreshSAM, rt, at); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, n := range ns {
		work <- n
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// newSharedFile makes a credentials file holding an initial token obtained
// before every token of the test.
func newSharedFile(t *testing.T) *FileStore {
	t.Helper()
	s := newTestStore(t)
	c := testCredentials()
	c.RefreshToken = token.NewSecret("initial")
	s.now = func() time.Time { return sharedEpoch.Add(-time.Hour) }
	require.NoError(t, s.Save(t.Context(), c))
	return NewFileStore(s.Path())
}

func assertNewest(t *testing.T, path string, n int) {
	t.Helper()
	got, err := NewFileStore(path).Load(t.Context())
	require.NoError(t, err)
	want, _ := sharedToken(n)
	assert.True(t, got.RefreshToken.Equal(want), "the file should end with the newest token, rt-%05d", n)
	c := testCredentials()
	c.RefreshToken = got.RefreshToken
	assertSameCredentials(t, got, c)
}

// TestFileStoreSharedNeverStepsBack: two stores on one file, as two
// processes would hold, save older and newer tokens concurrently; the
// file's token only ever moves forward and ends at the newest.
func TestFileStoreSharedNeverStepsBack(t *testing.T) {
	t.Parallel()
	a := newSharedFile(t)
	b := NewFileStore(a.Path())
	const n = 200
	var odd, even []int
	for i := range n {
		if i%2 == 1 {
			odd = append(odd, i)
		} else {
			even = append(even, i)
		}
	}
	stop := make(chan struct{})
	problems := watchFile(t, a.Path(), stop)
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, saveShuffled(t.Context(), a, even, 4)) })
	wg.Go(func() { assert.NoError(t, saveShuffled(t.Context(), b, odd, 4)) })
	wg.Wait()
	close(stop)
	assert.Empty(t, problems(), "the file stepped back")
	assertNewest(t, a.Path(), n-1)
}

// sharedChildEnv makes the test binary a second process saving the odd
// tokens of TestFileStoreSharedByTwoProcesses.
const sharedChildEnv = "SAMKIT_TEST_SHARED_STORE"

func TestFileStoreSharedByTwoProcesses(t *testing.T) {
	if path := os.Getenv(sharedChildEnv); path != "" {
		n, _ := strconv.Atoi(os.Getenv(sharedChildEnv + "_N"))
		var odd []int
		for i := 1; i < n; i += 2 {
			odd = append(odd, i)
		}
		fmt.Println("shared-child-ready")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := saveShuffled(ctx, NewFileStore(path), odd, 4); err != nil {
			fmt.Println("shared-child-error", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	s := newSharedFile(t)
	const n = 200
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileStoreSharedByTwoProcesses$")
	cmd.Env = append(os.Environ(), sharedChildEnv+"="+s.Path(), sharedChildEnv+"_N="+strconv.Itoa(n))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	require.True(t, sc.Scan(), "the child process said nothing")
	require.Equal(t, "shared-child-ready", sc.Text())

	stop := make(chan struct{})
	problems := watchFile(t, s.Path(), stop)
	var even []int
	for i := 0; i < n; i += 2 {
		even = append(even, i)
	}
	require.NoError(t, saveShuffled(t.Context(), s, even, 4))
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	require.NoError(t, cmd.Wait(), "the child process: %v", rest)
	close(stop)
	assert.Empty(t, problems(), "the file stepped back")
	assertNewest(t, s.Path(), n-1)
}

// TestFileStoreSharedByProviders plays two cron jobs on one credentials
// file: each round, each loads the file, as a new process does, and
// redeems its refresh token a few times through a token.Provider that
// saves every rotation to the file. The file's refresh token only ever
// moves forward, and the one it ends with works.
func TestFileStoreSharedByProviders(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	e.setup(t.Context(), e.options())
	path := e.store.Path()
	partner := e.s.Partner().TenantID
	scopes := []string{e.s.Cloud().Graph.Scope(), e.s.Cloud().PartnerCenter.Scope(), e.s.Cloud().Exchange.Scope()}

	stop := make(chan struct{})
	var steppedBack []string
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s := NewFileStore(path)
		last := time.Time{}
		for {
			select {
			case <-stop:
				return
			default:
			}
			doc, err := s.read()
			if err != nil {
				steppedBack = append(steppedBack, "read: "+err.Error())
				return
			}
			if doc.RefreshTokenObtainedAt.Before(last) {
				steppedBack = append(steppedBack, fmt.Sprintf("from a token obtained at %v to one of %v", last, doc.RefreshTokenObtainedAt))
			}
			last = doc.RefreshTokenObtainedAt
		}
	}()
	var wg sync.WaitGroup
	for job := range 2 {
		wg.Go(func() {
			for round := range 10 {
				store := NewFileStore(path)
				creds, err := store.Load(t.Context())
				if !assert.NoError(t, err) {
					return
				}
				p, err := token.NewProvider(creds, token.WithCloud(e.s.Cloud()), token.WithHTTPClient(e.s.Client()), token.WithRefreshTokenStore(store))
				if !assert.NoError(t, err) {
					return
				}
				for _, scope := range scopes {
					_, err := p.Token(t.Context(), partner, scope)
					assert.NoError(t, err, "job %d, round %d, %s", job, round, scope)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	assert.Empty(t, steppedBack, "the file stepped back to an older refresh token")
	_, err := e.provider().Token(t.Context(), partner, e.s.Cloud().Graph.Scope())
	assert.NoError(t, err, "the refresh token the file ends with")
}
