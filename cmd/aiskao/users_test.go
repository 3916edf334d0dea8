package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

// aiskao users makes and changes accounts in the store, prints each secret once and alone on
// stdout, says what is wrong, and journals every change.
func TestUsersCLI(t *testing.T) {
	config, data := filepath.Join("..", "..", "configs", "demo.yaml"), t.TempDir()
	run := func(args ...string) (string, int) {
		return cli(t, append([]string{"users", "-config", config, "-data", data}, args...)...)
	}
	stdout := func(args ...string) string {
		cmd := exec.Command(binary, append([]string{"users", "-config", config, "-data", data}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("users %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	token := stdout("create", "m.ivanova", "-role", "clerk", "-unit", "front", "-position", "front.desk-1")
	if len(token) != 43 {
		t.Fatalf("create printed %q, want the one-time token alone", token)
	}
	uri := stdout("totp", "m.ivanova")
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "m.ivanova") {
		t.Errorf("totp printed %q", uri)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create", "g.petrov", "-role", "root"}, 1, `role "root" is not one of administrator, auditor, citizen`},
		{[]string{"create", "g.petrov", "-role", "integrator"}, 1, "is not one of"},
		{[]string{"create", "G Petrov", "-role", "expert"}, 1, "only lower-case letters"},
		{[]string{"create", "g.petrov"}, 1, "give at least one role"},
		{[]string{"create", "g.petrov", "-role", "expert", "-unit", "grao"}, 1, "-unit and -position go together"},
		{[]string{"create", "m.ivanova", "-role", "expert"}, 1, "an account named m.ivanova exists"},
		{[]string{"create", "g.petrov", "-role", "expert,head_of_unit", "-unit", "grao", "-position", "grao.head"}, 0, ""},
		{[]string{"reset", "nobody"}, 1, "no account named nobody"},
		{[]string{"disable", "g.petrov", "-role", "expert"}, 1, "-role is only for create and roles"},
		{[]string{"disable", "g.petrov"}, 0, "disabled account g.petrov"},
		{[]string{"roles", "m.ivanova", "-role", "clerk,auditor"}, 0, "account m.ivanova has roles clerk,auditor"},
		{[]string{"hold", "m.ivanova", "-unit", "grao", "-position", "grao.head"}, 0, "account m.ivanova holds grao.head"},
		{[]string{"list"}, 0, "g.petrov   expert,head_of_unit  grao.head               disabled"},
		{[]string{"list"}, 0, "m.ivanova  clerk,auditor        front.desk-1,grao.head  must-set-password"},
		{[]string{"enable", "g.petrov"}, 0, "enabled account g.petrov"},
		{[]string{"rename", "x"}, 2, "Usage: aiskao users"},
	} {
		out, code := run(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("users %v: exit %d\n%s\nwant exit %d and %q", c.args, code, out, c.code, c.want)
		}
	}
	reset := stdout("reset", "m.ivanova")
	if len(reset) != 43 || reset == token {
		t.Errorf("reset printed %q", reset)
	}

	// The store has the accounts as the commands left them, and the journal every change.
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	svc, err := account.New(st, st, st, st, account.Config{FailFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckPassword(ctx, "m.ivanova", token, "127.0.0.1"); err == nil {
		t.Error("the first token works after a reset")
	}
	if next, err := svc.CheckPassword(ctx, "m.ivanova", reset, "127.0.0.1"); err != nil || next != account.NeedTOTP {
		t.Errorf("the reset token: %v, %v; want the second factor next", next, err)
	}
	p, err := svc.Principal(ctx, "m.ivanova")
	if err != nil || len(p.Roles) != 2 || strings.Join(p.Positions, ",") != "front.desk-1,grao.head" {
		t.Errorf("Principal = %+v, %v", p, err)
	}
	es, err := st.ListJournal(ctx, store.JournalFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(es) - 1; i >= 0; i-- {
		if strings.HasPrefix(es[i].Kind, "account.") {
			kinds = append(kinds, es[i].Kind)
			if !strings.HasPrefix(es[i].Actor, "cli:") {
				t.Errorf("%s journaled with actor %q", es[i].Kind, es[i].Actor)
			}
		}
		for _, secret := range []string{token, reset} {
			if strings.Contains(es[i].Subject+es[i].Detail["roles"], secret) {
				t.Errorf("the journal holds a token: %+v", es[i])
			}
		}
	}
	want := "account.created account.position_held account.totp_enrolled account.created account.position_held account.disabled " +
		"account.roles_changed account.position_held account.enabled account.password_reset"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("journal:\n%s\nwant\n%s", got, want)
	}
}
