package testserver

// AddProblemCustomer adds a customer as AddCustomer does, broken by p as
// the sandbox's problem customers are: the spec's switch for p is set
// (ConsentBlocked, AdminOutsideGDAPGroups, DemandMFA, ExchangeDeny),
// a throttled customer's first two Graph reads of /users answer 429,
// and a deleted customer's tenant is gone while the partner's lists still
// name it. ProblemNone adds a healthy customer. It does not consent any
// app: GrantSandboxConsent does, where consent can be given.
func (s *Server) AddProblemCustomer(cs CustomerSpec, p Problem) SandboxCustomer {
	switch p {
	case ProblemConsentBlocked:
		cs.ConsentBlocked = true
	case ProblemOutsideGDAPGroups:
		cs.AdminOutsideGDAPGroups = true
	case ProblemMFARequired:
		cs.DemandMFA = true
	case ProblemExchangeDenied:
		cs.ExchangeDeny = true
	}
	c := s.addSandboxCustomer(cs)
	c.Problem = p
	switch p {
	case ProblemThrottled:
		s.Inject(Fault{Kind: Throttle, Service: "graph", Path: "/v1.0/users", Tenant: c.ID, Count: 2, RetryAfter: "1"})
	case ProblemDeleted:
		s.Mutate(func(w *World) { w.Tenants[c.ID].Deleted = true })
	}
	return c
}

// Problems lists every Problem but ProblemNone, in the order the sandbox
// adds its problem customers.
func Problems() []Problem {
	out := make([]Problem, len(sandboxProblems))
	for i, p := range sandboxProblems {
		out[i] = p.problem
	}
	return out
}
