// Package identity says who a caller is and what it may do: a Principal (a name, how it proved
// itself, its roles) and the permissions each Role grants. It is the one model of authorisation
// for every listener of the hub and for the people's side that comes later: machines (API tokens,
// client certificates, OAuth2 bearer tokens) and people (logins) both end as a Principal, and
// every check asks Principal.Can for a Permission.
//
// The package imports nothing of the engine or of HTTP; identity/apitoken and the listeners' own
// code turn credentials into principals.
package identity

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kind says how a principal proved who it is.
type Kind string

// The kinds of principal the hub knows.
const (
	KindToken       Kind = "token"       // an API token kept hashed in the store
	KindCertificate Kind = "certificate" // a TLS client certificate chained to a configured CA
	KindJWT         Kind = "jwt"         // the subject of an OAuth2 bearer token from a configured issuer
	KindPerson      Kind = "person"      // a person signed in (the people's side)
)

// Permission is one thing a principal may do, named resource.action.
type Permission string

// The permissions the hub checks.
const (
	DeadLettersRead   Permission = "deadletters.read"
	DeadLettersReplay Permission = "deadletters.replay"
	DeadLettersDelete Permission = "deadletters.delete"
	JournalRead       Permission = "journal.read"
	// PersonalDataRead lets a principal see personal data (ЕГН, ЛНЧ) unmasked in what it reads.
	PersonalDataRead Permission = "personal_data.read"
	// RoutesSend lets a principal send messages into routes through an ingress.
	RoutesSend Permission = "routes.send"
	// ApplicationsSubmit lets a principal submit applications for services to the dossier core.
	ApplicationsSubmit Permission = "applications.submit"
	// FeedbackSubmit lets a principal submit inquiries, signals, proposals, complaints and praise.
	FeedbackSubmit Permission = "feedback.submit"
	// DossiersRead lets a principal read dossiers, their history, the task lists and feedback;
	// personal data in them stays masked without PersonalDataRead.
	DossiersRead Permission = "dossiers.read"
	// DossiersWrite lets a principal act on dossiers: complete tasks, file documents, notify
	// irregularities, record payments, issue and deliver results, close.
	DossiersWrite Permission = "dossiers.write"
)

// Role is a named set of permissions given to principals.
type Role string

// The roles machines are given.
const (
	// Operator handles failed messages: reads, replays and deletes dead letters, reads the journal
	// and sees personal data, since a replay re-runs queries about people. It also works on
	// dossiers through the dossier API: reads them with personal data and acts on them.
	Operator Role = "operator"
	// Auditor reads the journal, dead letters and dossiers with personal data masked, and changes
	// nothing.
	Auditor Role = "auditor"
	// Integrator sends messages into routes through the hub's ingress, and submits applications
	// and feedback to the dossier API and follows the dossiers, with personal data masked.
	Integrator Role = "integrator"
)

// grants is what each role may do. It is filled here and never changed, so that a role means the
// same everywhere.
var grants = map[Role][]Permission{
	Operator:   {DeadLettersRead, DeadLettersReplay, DeadLettersDelete, JournalRead, PersonalDataRead, DossiersRead, DossiersWrite},
	Auditor:    {DeadLettersRead, JournalRead, DossiersRead},
	Integrator: {RoutesSend, ApplicationsSubmit, FeedbackSubmit, DossiersRead},
}

// Roles returns the names of every known role, sorted.
func Roles() []Role {
	out := make([]Role, 0, len(grants))
	for r := range grants {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseRole returns the role named s, or an error listing the known ones.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := grants[r]; ok {
		return r, nil
	}
	names := make([]string, 0, len(grants))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("role %q is not one of %s", s, strings.Join(names, ", "))
}

// Permissions returns what r grants; nil for an unknown role.
func (r Role) Permissions() []Permission { return slices.Clone(grantsOf(r)) }

// Grants reports whether r grants p. An unknown role grants nothing.
func (r Role) Grants(p Permission) bool { return slices.Contains(grantsOf(r), p) }

// Principal is who a caller proved to be.
type Principal struct {
	// Name identifies the principal in the journal and in logs: a token's name, a certificate's
	// subject, a JWT's issuer and subject.
	Name  string
	Kind  Kind
	Roles []Role
	// Positions are the positions a person holds (see identity/org), so that a task given to a
	// position reaches them; empty for machines.
	Positions []string
}

// Can reports whether one of p's roles grants perm. The zero Principal can do nothing.
func (p Principal) Can(perm Permission) bool {
	for _, r := range p.Roles {
		if r.Grants(perm) {
			return true
		}
	}
	return false
}

// String names the principal as the journal records it: "token:ops-alice".
func (p Principal) String() string {
	if p.Name == "" {
		return ""
	}
	return string(p.Kind) + ":" + p.Name
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p, for the handlers after an authentication check.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of ctx and whether there is one.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
