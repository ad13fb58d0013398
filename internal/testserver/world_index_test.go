package testserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// relationshipByScan is RelationshipFor as a scan of every relationship:
// what the index must agree with.
func relationshipByScan(t *Tenant, customer string) *Relationship {
	var found *Relationship
	for _, r := range t.Relationships {
		if r.CustomerTenantID == customer && (found == nil || r.Status == "active") {
			found = r
		}
	}
	return found
}

func TestRelationshipForFollowsChanges(t *testing.T) {
	t.Parallel()
	rel := func(id, customer, status string) *Relationship {
		return &Relationship{ID: id, CustomerTenantID: customer, Status: status}
	}
	customers := []string{"a", "b", "c", "d"}
	p := &Tenant{}
	steps := []struct {
		name   string
		change func()
	}{
		{"empty", func() {}},
		{"one", func() { p.Relationships = append(p.Relationships, rel("1", "a", "expired")) }},
		{"an active one after it", func() { p.Relationships = append(p.Relationships, rel("2", "a", "active")) }},
		{"another customer", func() { p.Relationships = append(p.Relationships, rel("3", "b", "approvalPending")) }},
		{"prepended", func() { p.Relationships = append([]*Relationship{rel("4", "b", "active")}, p.Relationships...) }},
		{"status changed in place", func() { p.Relationships[2].Status = "terminated" }},
		{"customer changed in place", func() { p.Relationships[3].CustomerTenantID = "c" }},
		{"customer changed to one with none", func() { p.Relationships[0].CustomerTenantID = "d" }},
		{"slice replaced", func() { p.Relationships = []*Relationship{rel("5", "c", "expired"), rel("6", "c", "expired")} }},
		{"emptied", func() { p.Relationships = nil }},
	}
	for _, s := range steps {
		s.change()
		for _, c := range customers {
			assert.Same(t, relationshipByScan(p, c), p.RelationshipFor(c), "after %s: customer %s", s.name, c)
		}
	}
}
