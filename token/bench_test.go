package token

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// cachedProvider returns a Provider whose cache holds delegated tokens
// for tenants × 3 scopes, and those tenants and scopes.
func cachedProvider(b *testing.B, tenants int) (*Provider, []string, []string) {
	b.Helper()
	p, err := NewProvider(testCredentials())
	if err != nil {
		b.Fatal(err)
	}
	scopes := []string{graphScope, pcScope, exoResource + "/.default"}
	ids := make([]string, tenants)
	now := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		for _, s := range scopes {
			k := cacheKey{kind: Delegated, client: testAppID, tenant: ids[i], scope: s}
			p.cache.put(k, Token{AccessToken: NewSecret("at-" + ids[i]), Expiry: now.Add(time.Hour), TenantID: ids[i], Scope: s, Kind: Delegated}, now, p.window)
		}
	}
	return p, ids, scopes
}

// BenchmarkCachedToken measures a cache hit of Provider.Token with 10,000
// tenants × 3 scopes cached; the target is under 1 µs and at most one
// allocation per hit.
func BenchmarkCachedToken(b *testing.B) {
	p, tenants, scopes := cachedProvider(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Token(ctx, tenants[i%len(tenants)], scopes[i%len(scopes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCachedTokenParallel is BenchmarkCachedToken from all CPUs at
// once, as API clients in a worker pool call it.
func BenchmarkCachedTokenParallel(b *testing.B) {
	p, tenants, scopes := cachedProvider(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := p.Token(ctx, tenants[i%len(tenants)], scopes[i%len(scopes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkCachedSource measures a hit through a Source, whose key is
// built once.
func BenchmarkCachedSource(b *testing.B) {
	p, tenants, scopes := cachedProvider(b, 10_000)
	srcs := make([]Source, 0, 3000)
	for i := range 1000 {
		for _, s := range scopes {
			srcs = append(srcs, p.Source(tenants[i*7], s))
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := srcs[i%len(srcs)].Token(ctx); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
