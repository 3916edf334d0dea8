package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

var cheap = account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// fixture is a Service on a new SQLite store with a clock the test moves.
type fixture struct {
	svc   *account.Service
	st    *sqlite.Store
	clock *time.Time
	slept *time.Duration
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := account.New(st, st, st, st, account.Config{Params: cheap, MaxFailures: 3, MaxAddrFailures: 6})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var slept time.Duration
	account.SetClock(svc, func() time.Time { return clock }, func(_ context.Context, d time.Duration) { slept += d })
	return fixture{svc: svc, st: st, clock: &clock, slept: &slept}
}

// person creates name with roles, signs in with the first token and sets password.
func (f fixture) person(t *testing.T, name, password string, roles ...identity.Role) {
	t.Helper()
	tok, err := f.svc.Create(context.Background(), "cli", name, "Иван Иванов", roles)
	if err != nil {
		t.Fatal(err)
	}
	if next, err := f.svc.CheckPassword(context.Background(), name, tok, "192.0.2.1"); err != nil || next != account.ChangePassword {
		t.Fatalf("sign-in with the first token: %v, %v", next, err)
	}
	if err := f.svc.SetPassword(context.Background(), name, password, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) journal(t *testing.T) []store.JournalEntry {
	t.Helper()
	es, err := f.st.ListJournal(context.Background(), store.JournalFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func kinds(es []store.JournalEntry) string {
	var k []string
	for i := len(es) - 1; i >= 0; i-- {
		k = append(k, es[i].Kind)
	}
	return strings.Join(k, " ")
}

const pw = "кон-маса-лампа-7"

func TestSignInWithPasswordAndTOTP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "ivanova", pw, identity.Clerk)
	if next, err := f.svc.CheckPassword(ctx, "ivanova", pw, "192.0.2.1"); err != nil || next != account.Done {
		t.Fatalf("password only, no second factor: %v, %v", next, err)
	}
	uri, err := f.svc.EnrolTOTP(ctx, "person:admin", "ivanova")
	if err != nil {
		t.Fatal(err)
	}
	secret := uri[strings.Index(uri, "secret=")+7:]
	secret = secret[:strings.IndexAny(secret+"&", "&")]
	if next, err := f.svc.CheckPassword(ctx, "ivanova", pw, "192.0.2.1"); err != nil || next != account.NeedTOTP {
		t.Fatalf("password with a second factor enrolled: %v, %v", next, err)
	}
	code, _ := account.TOTPCode(secret, *f.clock)
	if next, err := f.svc.CheckTOTP(ctx, "ivanova", code, "192.0.2.1"); err != nil || next != account.Done {
		t.Fatalf("CheckTOTP: %v, %v", next, err)
	}
	if _, err := f.svc.CheckTOTP(ctx, "ivanova", code, "192.0.2.1"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("the same code again: %v, want ErrRefused", err)
	}
	earlier, _ := account.TOTPCode(secret, f.clock.Add(-30*time.Second))
	if _, err := f.svc.CheckTOTP(ctx, "ivanova", earlier, "192.0.2.1"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("an earlier code after a later one: %v, want ErrRefused", err)
	}
	*f.clock = f.clock.Add(30 * time.Second)
	next, _ := account.TOTPCode(secret, *f.clock)
	if _, err := f.svc.CheckTOTP(ctx, "ivanova", next, "192.0.2.1"); err != nil {
		t.Errorf("the next step's code: %v", err)
	}
	p, err := f.svc.Principal(ctx, "ivanova")
	if err != nil || p.String() != "person:ivanova" || !p.Can(identity.ApplicationsRegister) {
		t.Errorf("Principal = %+v, %v", p, err)
	}
	for _, e := range f.journal(t) {
		s := fmt.Sprint(e)
		for _, secretText := range []string{pw, code, secret} {
			if strings.Contains(s, secretText) {
				t.Errorf("journal entry %s holds a secret: %s", e.Kind, s)
			}
		}
	}
}

// Wrong passwords lock the name after MaxFailures, unknown names alike, each failure taking the
// floor's time; the lock ends after LockFor, and too many failures from one address refuse it.
func TestLockOutAndThrottle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "petrov", pw, identity.Expert)
	for _, name := range []string{"petrov", "nobody"} {
		for i := 1; i <= 3; i++ {
			*f.slept = 0
			_, err := f.svc.CheckPassword(ctx, name, "грешна-парола-1", "192.0.2.9")
			want := account.ErrRefused
			if i == 3 {
				want = account.ErrLocked
			}
			if !errors.Is(err, want) || *f.slept != f.svc.Config().FailFloor {
				t.Errorf("%s failure %d: %v after %v, want %v after the floor", name, i, err, *f.slept, want)
			}
		}
		if _, err := f.svc.CheckPassword(ctx, name, pw, "192.0.2.10"); !errors.Is(err, account.ErrLocked) {
			t.Errorf("%s locked, right password: %v, want ErrLocked", name, err)
		}
	}
	// The address has failed 6 times: refused, even for a right password of another account.
	if _, err := f.svc.CheckPassword(ctx, "other", pw, "192.0.2.9"); !errors.Is(err, account.ErrThrottled) {
		t.Errorf("seventh try from one address: %v, want ErrThrottled", err)
	}
	*f.clock = f.clock.Add(16 * time.Minute)
	if next, err := f.svc.CheckPassword(ctx, "petrov", pw, "192.0.2.9"); err != nil || next != account.Done {
		t.Errorf("after the lock: %v, %v", next, err)
	}
	// An hour on, the counts left are stale: nobody's count and lock, and the address's (petrov's went at its sign-in).
	*f.clock = f.clock.Add(time.Hour)
	if n, err := f.svc.Sweep(ctx); err != nil || n != 3 {
		t.Errorf("Sweep = %d, %v; want 3 stale counts", n, err)
	}
	j := f.journal(t)
	if k := kinds(j); strings.Count(k, "signin.locked") != 2 || strings.Count(k, "signin.failed") != 6 || !strings.Contains(k, "signin.throttled") {
		t.Errorf("journal: %s", k)
	}
	for _, e := range j {
		if e.Kind == "signin.failed" && strings.Contains(e.Subject, "nobody") {
			t.Errorf("an unknown name is journaled: %+v", e)
		}
		if e.Kind == "signin.failed" && e.Detail["addr"] != "192.0.2.9" {
			t.Errorf("failure without its address: %+v", e)
		}
	}
}

func TestResetDisableRolesPositions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "georgiev", pw, identity.Expert)
	tok, err := f.svc.Reset(ctx, "person:admin", "georgiev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckPassword(ctx, "georgiev", pw, "192.0.2.1"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("old password after a reset: %v", err)
	}
	if next, err := f.svc.CheckPassword(ctx, "georgiev", tok, "192.0.2.1"); err != nil || next != account.ChangePassword {
		t.Errorf("reset token: %v, %v; want ChangePassword", next, err)
	}
	if err := f.svc.SetPassword(ctx, "georgiev", "short", "192.0.2.1"); !errors.Is(err, account.ErrWeakPassword) {
		t.Errorf("weak new password: %v", err)
	}
	if err := f.svc.SetPassword(ctx, "georgiev", "ново-дълго-слово-8", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckPassword(ctx, "georgiev", tok, "192.0.2.1"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("reset token used twice: %v", err)
	}
	// A token past its time does not work.
	tok, _ = f.svc.Reset(ctx, "person:admin", "georgiev")
	*f.clock = f.clock.Add(73 * time.Hour)
	if _, err := f.svc.CheckPassword(ctx, "georgiev", tok, "192.0.2.1"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("expired reset token: %v", err)
	}
	if err := f.svc.SetDisabled(ctx, "person:admin", "georgiev", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Principal(ctx, "georgiev"); !errors.Is(err, account.ErrRefused) {
		t.Errorf("Principal of a disabled account: %v", err)
	}
	if err := f.svc.SetDisabled(ctx, "person:admin", "georgiev", false); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRoles(ctx, "person:sec", "georgiev", []identity.Role{identity.HeadOfUnit}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRoles(ctx, "person:sec", "georgiev", []identity.Role{identity.Integrator}); err == nil {
		t.Error("a person made integrator")
	}
	if err := f.st.AddUnit(ctx, org.Unit{ID: "grao", Name: "ГРАО"}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddPosition(ctx, org.Position{ID: "grao.head", Unit: "grao", Title: "началник"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Hold(ctx, "person:admin", "georgiev", "grao.head"); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.Principal(ctx, "georgiev")
	if err != nil || !p.Can(identity.TasksAssign) || len(p.Positions) != 1 || p.Positions[0] != "grao.head" {
		t.Errorf("Principal = %+v, %v", p, err)
	}
	want := "account.created signin.password_ok account.password_changed signin.ok account.password_reset signin.failed " +
		"signin.password_ok account.password_changed signin.ok signin.failed account.password_reset signin.failed " +
		"account.disabled account.enabled account.roles_changed account.position_held"
	if k := kinds(f.journal(t)); k != want {
		t.Errorf("journal:\n%s\nwant\n%s", k, want)
	}
	for _, e := range f.journal(t) {
		if e.Kind == "account.roles_changed" && (e.Actor != "person:sec" || e.Detail["before"] != "expert" || e.Detail["roles"] != "head_of_unit") {
			t.Errorf("role change journaled as %+v", e)
		}
	}
	if _, err := f.svc.Create(ctx, "cli", "georgiev", "", nil); !errors.Is(err, account.ErrExists) {
		t.Errorf("Create twice: %v", err)
	}
	if _, err := f.svc.Create(ctx, "cli", "Bad Name", "", nil); err == nil {
		t.Error("a name with a space")
	}
}

// A sign-in under raised costs keeps the password hashed with them.
func TestRehashAtSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "dimitrova", pw, identity.Expert)
	stronger := cheap
	stronger.Time = 2
	svc, err := account.New(f.st, f.st, f.st, f.st, account.Config{Params: stronger})
	if err != nil {
		t.Fatal(err)
	}
	if next, err := svc.CheckPassword(ctx, "dimitrova", pw, "192.0.2.1"); err != nil || next != account.Done {
		t.Fatalf("sign-in under raised costs: %v, %v", next, err)
	}
	a, err := f.st.AccountByName(ctx, "dimitrova")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Password, "$argon2id$v=19$m=64,t=2,p=1$") {
		t.Errorf("hash after the sign-in: %s, want t=2", a.Password)
	}
	if ok, rehash, err := account.VerifyPassword(pw, a.Password, stronger); !ok || rehash || err != nil {
		t.Errorf("new hash: %v %v %v", ok, rehash, err)
	}
}
