package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/identity/session"
)

// PeopleStore is what a store keeps of people: accounts, sessions, units and positions.
type PeopleStore interface {
	account.Store
	session.Store
	org.Store
}

// RunPeople runs the conformance tests of the people's tables against stores made by open, each
// new and empty; the caller closes them.
func RunPeople(t *testing.T, open func(t *testing.T) PeopleStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s PeopleStore)
	}{
		{"AccountRoundTrip", testAccountRoundTrip},
		{"AccountUpdate", testAccountUpdate},
		{"TOTPStepOnce", testTOTPStepOnce},
		{"FailureCounts", testFailureCounts},
		{"Sessions", testSessions},
		{"UnitsAndPositions", testUnitsAndPositions},
		{"InvalidText", testInvalidText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var when = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func testAccountRoundTrip(t *testing.T, s PeopleStore) {
	a := account.Account{Name: "m.ivanova", FullName: "Мария Иванова", Roles: []identity.Role{identity.Clerk, identity.Auditor},
		Password: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", TOTPSecret: "JBSWY3DPEHPK3PXP", ResetHash: []byte{1, 2, 3},
		ResetExpires: when.Add(time.Hour), MustChange: true, Created: when, Updated: when}
	if err := s.CreateAccount(ctx(t), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := s.CreateAccount(ctx(t), a); !errors.Is(err, account.ErrExists) {
		t.Errorf("CreateAccount twice: error %v, want ErrExists", err)
	}
	got, err := s.AccountByName(ctx(t), "m.ivanova")
	if err != nil {
		t.Fatalf("AccountByName: %v", err)
	}
	if got.FullName != a.FullName || !slices.Equal(got.Roles, a.Roles) || got.Password != a.Password || got.TOTPSecret != a.TOTPSecret ||
		!bytes.Equal(got.ResetHash, a.ResetHash) || !got.ResetExpires.Equal(a.ResetExpires) || !got.MustChange || got.Disabled ||
		!got.Created.Equal(when) || !got.Updated.Equal(when) {
		t.Errorf("AccountByName = %+v, want %+v", got, a)
	}
	if _, err := s.AccountByName(ctx(t), "nobody"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("AccountByName(nobody): error %v, want ErrNotFound", err)
	}
	if err := s.CreateAccount(ctx(t), account.Account{Name: "a.petrov", Created: when, Updated: when}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "a.petrov" || list[1].Name != "m.ivanova" || len(list[1].Roles) != 2 || len(list[0].Roles) != 0 {
		t.Fatalf("ListAccounts = %+v", list)
	}
	if list[1].Password != "" || list[1].TOTPSecret != "" || list[1].ResetHash != nil {
		t.Errorf("ListAccounts shows secrets: %+v", list[1])
	}
}

func testAccountUpdate(t *testing.T, s PeopleStore) {
	a := account.Account{Name: "g.georgiev", Roles: []identity.Role{identity.Expert}, ResetHash: []byte{9}, ResetExpires: when, MustChange: true, Created: when, Updated: when}
	if err := s.CreateAccount(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	a.Roles, a.Password, a.ResetHash, a.ResetExpires, a.MustChange, a.Disabled = []identity.Role{identity.HeadOfUnit}, "$argon2id$x", nil, time.Time{}, false, true
	a.Updated = when.Add(time.Minute)
	if err := s.UpdateAccount(ctx(t), a, when); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	got, err := s.AccountByName(ctx(t), a.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Roles, a.Roles) || got.Password != a.Password || got.ResetHash != nil || !got.ResetExpires.IsZero() ||
		got.MustChange || !got.Disabled || !got.Updated.Equal(a.Updated) || !got.Created.Equal(when) {
		t.Errorf("after UpdateAccount: %+v, want %+v", got, a)
	}
	// A change made from the account as it was before the last update is refused.
	stale := a
	stale.Disabled, stale.Updated = false, when.Add(2*time.Minute)
	if err := s.UpdateAccount(ctx(t), stale, when); !errors.Is(err, account.ErrConflict) {
		t.Errorf("UpdateAccount of a stale read: error %v, want ErrConflict", err)
	}
	if got, _ := s.AccountByName(ctx(t), a.Name); !got.Disabled {
		t.Error("a stale update undid the one before")
	}
	if err := s.UpdateAccount(ctx(t), account.Account{Name: "nobody", Updated: when}, when); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("UpdateAccount(nobody): error %v, want ErrNotFound", err)
	}
}

func testTOTPStepOnce(t *testing.T, s PeopleStore) {
	if err := s.CreateAccount(ctx(t), account.Account{Name: "t", Created: when, Updated: when}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		step int64
		ok   bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		ok, err := s.UseTOTPStep(ctx(t), "t", c.step)
		if err != nil || ok != c.ok {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", c.step, ok, err, c.ok)
		}
	}
	if got, _ := s.AccountByName(ctx(t), "t"); got.TOTPStep != 101 {
		t.Errorf("TOTPStep = %d, want 101", got.TOTPStep)
	}
}

func testFailureCounts(t *testing.T, s PeopleStore) {
	const key, window = "account:t", 15 * time.Minute
	if n, _, err := s.Failures(ctx(t), key); n != 0 || err != nil {
		t.Fatalf("Failures before any = %d, %v", n, err)
	}
	for i, at := range []time.Time{when, when.Add(time.Minute), when.Add(2 * time.Minute)} {
		n, since, err := s.CountFailure(ctx(t), key, at, window)
		if err != nil || n != i+1 || !since.Equal(when) {
			t.Errorf("CountFailure #%d = %d since %v, %v", i+1, n, since, err)
		}
	}
	// A failure after the window starts the count again.
	later := when.Add(window + time.Second)
	if n, since, err := s.CountFailure(ctx(t), key, later, window); err != nil || n != 1 || !since.Equal(later) {
		t.Errorf("CountFailure after the window = %d since %v, %v; want 1 since %v", n, since, err, later)
	}
	if n, _, _ := s.CountFailure(ctx(t), "addr:192.0.2.1", when, window); n != 1 {
		t.Errorf("another key shares the count: %d", n)
	}
	if n, err := s.DeleteStaleFailures(ctx(t), later); err != nil || n != 1 {
		t.Errorf("DeleteStaleFailures = %d, %v; want the address's count alone", n, err)
	}
	if n, _, _ := s.Failures(ctx(t), "addr:192.0.2.1"); n != 0 {
		t.Errorf("a stale count is left: %d", n)
	}
	if err := s.ClearFailures(ctx(t), key); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.Failures(ctx(t), key); n != 0 || err != nil {
		t.Errorf("Failures after ClearFailures = %d, %v", n, err)
	}
}

func testSessions(t *testing.T, s PeopleStore) {
	rec := func(b byte, person string, created time.Time) session.Record {
		return session.Record{Hash: bytes.Repeat([]byte{b}, 32), Person: person, Stage: session.SignedIn, Addr: "192.0.2.7", Created: created, Seen: created}
	}
	for _, r := range []session.Record{rec(1, "ana", when), rec(2, "ana", when), rec(3, "boris", when.Add(-time.Hour))} {
		if err := s.CreateSession(ctx(t), r); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	got, err := s.SessionByHash(ctx(t), rec(1, "", when).Hash)
	if err != nil || got.Person != "ana" || got.Stage != session.SignedIn || got.Addr != "192.0.2.7" || !got.Created.Equal(when) || !got.Seen.Equal(when) {
		t.Errorf("SessionByHash = %+v, %v", got, err)
	}
	if err := s.TouchSession(ctx(t), rec(1, "", when).Hash, when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SessionByHash(ctx(t), rec(1, "", when).Hash); !got.Seen.Equal(when.Add(time.Minute)) {
		t.Errorf("Seen after TouchSession = %v", got.Seen)
	}
	if err := s.TouchSession(ctx(t), rec(9, "", when).Hash, when); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("TouchSession(unknown): error %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteStaleSessions(ctx(t), when.Add(-time.Second), when.Add(-30*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteStaleSessions = %d, %v; want boris's one", n, err)
	}
	if n, err := s.DeletePersonSessions(ctx(t), "ana"); err != nil || n != 2 {
		t.Errorf("DeletePersonSessions(ana) = %d, %v; want 2", n, err)
	}
	for b := byte(1); b <= 3; b++ {
		if _, err := s.SessionByHash(ctx(t), rec(b, "", when).Hash); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("session %d after sign-out everywhere: error %v, want ErrNotFound", b, err)
		}
	}
	if err := s.DeleteSession(ctx(t), rec(1, "", when).Hash); err != nil {
		t.Errorf("DeleteSession of an ended session: %v", err)
	}
}

func testUnitsAndPositions(t *testing.T, s PeopleStore) {
	for _, u := range []org.Unit{{ID: "mun", Name: "Община"}, {ID: "grao", Name: "ГРАО", Parent: "mun"}, {ID: "front", Name: "ЗАО", Parent: "mun"}} {
		if err := s.AddUnit(ctx(t), u); err != nil {
			t.Fatalf("AddUnit(%s): %v", u.ID, err)
		}
	}
	if err := s.AddUnit(ctx(t), org.Unit{ID: "grao", Name: "x"}); !errors.Is(err, org.ErrExists) {
		t.Errorf("AddUnit twice: error %v, want ErrExists", err)
	}
	if err := s.AddUnit(ctx(t), org.Unit{ID: "lost", Name: "x", Parent: "none"}); !errors.Is(err, org.ErrNotFound) {
		t.Errorf("AddUnit under no parent: error %v, want ErrNotFound", err)
	}
	for _, p := range []org.Position{{ID: "front.clerk", Unit: "front", Title: "специалист"}, {ID: "grao.head", Unit: "grao", Title: "началник"}} {
		if err := s.AddPosition(ctx(t), p); err != nil {
			t.Fatalf("AddPosition(%s): %v", p.ID, err)
		}
	}
	if err := s.AddPosition(ctx(t), org.Position{ID: "x", Unit: "none", Title: "x"}); !errors.Is(err, org.ErrNotFound) {
		t.Errorf("AddPosition in no unit: error %v, want ErrNotFound", err)
	}
	for _, h := range [][2]string{{"ana", "front.clerk"}, {"boris", "front.clerk"}, {"ana", "grao.head"}, {"ana", "grao.head"}} {
		if err := s.Hold(ctx(t), h[0], h[1]); err != nil {
			t.Errorf("Hold(%s, %s): %v", h[0], h[1], err)
		}
	}
	if err := s.Hold(ctx(t), "ana", "none"); !errors.Is(err, org.ErrNotFound) {
		t.Errorf("Hold(no position): error %v, want ErrNotFound", err)
	}
	if got, err := s.HoldersOf(ctx(t), "front.clerk"); err != nil || !slices.Equal(got, []string{"ana", "boris"}) {
		t.Errorf("HoldersOf(front.clerk) = %v, %v", got, err)
	}
	if got, err := s.PositionsOf(ctx(t), "ana"); err != nil || !slices.Equal(got, []string{"front.clerk", "grao.head"}) {
		t.Errorf("PositionsOf(ana) = %v, %v", got, err)
	}
	if err := s.Release(ctx(t), "ana", "front.clerk"); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx(t), "ana", "front.clerk"); !errors.Is(err, org.ErrNotFound) {
		t.Errorf("Release twice: error %v, want ErrNotFound", err)
	}
	if got, _ := s.HoldersOf(ctx(t), "front.clerk"); !slices.Equal(got, []string{"boris"}) {
		t.Errorf("HoldersOf after Release = %v", got)
	}
	units, err := s.Units(ctx(t))
	if err != nil || len(units) != 3 {
		t.Fatalf("Units = %v, %v", units, err)
	}
	if path, err := org.Path(units, "grao"); err != nil || !slices.Equal(path, []string{"mun", "grao"}) {
		t.Errorf("Path(grao) = %v, %v", path, err)
	}
	if ps, err := s.Positions(ctx(t)); err != nil || len(ps) != 2 || ps[0].ID != "front.clerk" || ps[0].Unit != "front" || ps[0].Title != "специалист" {
		t.Errorf("Positions = %+v, %v", ps, err)
	}
}

// A name or key that is not valid UTF-8, as a client may send, is looked up and counted, not
// an error of the store.
func testInvalidText(t *testing.T, s PeopleStore) {
	bad := "ivan\xff\x00ova"
	if _, err := s.AccountByName(ctx(t), bad); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("AccountByName(invalid UTF-8): error %v, want ErrNotFound", err)
	}
	if n, _, err := s.CountFailure(ctx(t), "account:"+bad, when, time.Minute); err != nil || n != 1 {
		t.Errorf("CountFailure(invalid UTF-8) = %d, %v", n, err)
	}
	if err := s.ClearFailures(ctx(t), "account:"+bad); err != nil {
		t.Errorf("ClearFailures(invalid UTF-8): %v", err)
	}
}
