package identity

import (
	"context"
	"testing"
)

// The roles grant exactly what issue 17 gives them, and the dossier API's permissions of issue 19.
func TestRoles(t *testing.T) {
	all := []Permission{DeadLettersRead, DeadLettersReplay, DeadLettersDelete, JournalRead, PersonalDataRead, RoutesSend,
		ApplicationsSubmit, FeedbackSubmit, DossiersRead, DossiersWrite}
	want := map[Role][]Permission{
		Operator:   {DeadLettersRead, DeadLettersReplay, DeadLettersDelete, JournalRead, PersonalDataRead, DossiersRead, DossiersWrite},
		Auditor:    {DeadLettersRead, JournalRead, DossiersRead},
		Integrator: {RoutesSend, ApplicationsSubmit, FeedbackSubmit, DossiersRead},
		"nobody":   {},
	}
	for r, perms := range want {
		for _, p := range all {
			granted := false
			for _, q := range perms {
				granted = granted || q == p
			}
			if r.Grants(p) != granted {
				t.Errorf("%s grants %s: %v, want %v", r, p, r.Grants(p), granted)
			}
		}
	}
	if _, err := ParseRole("admin"); err == nil || err.Error() != `role "admin" is not one of auditor, integrator, operator` {
		t.Errorf("ParseRole(admin): %v", err)
	}
	if (Principal{}).Can(JournalRead) || (Principal{}).String() != "" {
		t.Error("the zero principal can do something")
	}
	p := Principal{Name: "ci", Kind: KindToken, Roles: []Role{Auditor, Integrator}}
	if !p.Can(RoutesSend) || !p.Can(JournalRead) || p.Can(PersonalDataRead) || p.String() != "token:ci" {
		t.Errorf("principal %v", p)
	}
	if got, ok := FromContext(WithPrincipal(context.Background(), p)); !ok || got.Name != "ci" {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("a principal in an empty context")
	}
}
