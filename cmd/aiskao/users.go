package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
)

const usersUsage = `Usage: aiskao users create NAME -role ROLE[,ROLE] [-full-name N] [-unit U -position P]
       aiskao users reset|disable|enable|totp NAME
       aiskao users roles NAME -role ROLE[,ROLE]
       aiskao users hold NAME -unit U -position P
       aiskao users list                                   [-config FILE|DIR] [-data DIR]

Управлява акаунтите на служителите в хранилището на хъба / manages the staff's local accounts in the
hub's store. create and reset print a one-time token, once: the person signs in with it and chooses a
password. totp prints, once, the otpauth URI of a new second factor for the person's authenticator app.
Every change is journaled. Roles: administrator, auditor, citizen, clerk, expert, head_of_unit,
operator, security_officer (docs/roles.md).`

// runUsers manages staff accounts in the store the configuration names, opened directly, so that
// it works whether the hub runs or not (and before any administrator can sign in).
func runUsers(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("users", "create|reset|disable|enable|totp|roles|hold|list NAME", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usersUsage); fs.PrintDefaults() }
	config := fs.String("config", defaultConfig, "configuration file or folder: its store keeps the accounts")
	data := fs.String("data", "data", "data folder, as given to serve")
	roleList := fs.String("role", "", "create, roles: the account's roles, separated by commas")
	fullName := fs.String("full-name", "", "create: the person's name as shown to people")
	unit := fs.String("unit", "", "create, hold: the unit of the position (made when missing)")
	position := fs.String("position", "", "create, hold: a position the person holds (made in -unit when missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	words := fs.Args()
	want := map[string]int{"create": 1, "reset": 1, "disable": 1, "enable": 1, "totp": 1, "roles": 1, "hold": 1, "list": 0}
	if len(words) == 0 {
		fs.Usage()
		return errUsage
	}
	cmd, rest := words[0], words[1:]
	if n, ok := want[cmd]; !ok || len(rest) != n {
		fs.Usage()
		return errUsage
	}
	if *roleList != "" && cmd != "create" && cmd != "roles" {
		return fmt.Errorf("-role is only for create and roles")
	}
	if (*unit != "" || *position != "") && cmd != "create" && cmd != "hold" {
		return fmt.Errorf("-unit and -position are only for create and hold")
	}
	if (*unit == "") != (*position == "") || cmd == "hold" && *position == "" {
		return fmt.Errorf("-unit and -position go together")
	}
	var roles []identity.Role
	if cmd == "create" || cmd == "roles" {
		if *roleList == "" {
			return fmt.Errorf("-role: give at least one role")
		}
		for _, s := range strings.Split(*roleList, ",") {
			r, err := identity.ParsePersonRole(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("-role: %w", err)
			}
			roles = append(roles, r)
		}
	}
	if len(rest) == 1 {
		if err := account.CheckName(rest[0]); err != nil {
			return err
		}
	}
	ps, closeStore, err := openPeopleStore(*config, *data)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := account.New(ps, ps, ps, ps, account.Config{})
	if err != nil {
		return err
	}
	ctx, actor := context.Background(), cliActor()
	switch cmd {
	case "create":
		tok, err := svc.Create(ctx, actor, rest[0], *fullName, roles)
		if errors.Is(err, account.ErrExists) {
			return fmt.Errorf("an account named %s exists", rest[0])
		}
		if err != nil {
			return err
		}
		if *position != "" {
			if err := holdPosition(ctx, svc, ps, actor, rest[0], *unit, *position); err != nil {
				return err
			}
		}
		return printSecret(stdout, stderr, tok, rest[0], "one-time sign-in token")
	case "reset":
		tok, err := svc.Reset(ctx, actor, rest[0])
		if err != nil {
			return notFound(err, rest[0])
		}
		return printSecret(stdout, stderr, tok, rest[0], "one-time sign-in token")
	case "totp":
		uri, err := svc.EnrolTOTP(ctx, actor, rest[0])
		if err != nil {
			return notFound(err, rest[0])
		}
		return printSecret(stdout, stderr, uri, rest[0], "second factor (otpauth URI)")
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, actor, rest[0], cmd == "disable"); err != nil {
			return notFound(err, rest[0])
		}
		fmt.Fprintf(stdout, "%sd account %s\n", cmd, rest[0])
		return nil
	case "roles":
		if err := svc.SetRoles(ctx, actor, rest[0], roles); err != nil {
			return notFound(err, rest[0])
		}
		fmt.Fprintf(stdout, "account %s has roles %s; its sessions were ended\n", rest[0], *roleList)
		return nil
	case "hold":
		if err := holdPosition(ctx, svc, ps, actor, rest[0], *unit, *position); err != nil {
			return notFound(err, rest[0])
		}
		fmt.Fprintf(stdout, "account %s holds %s\n", rest[0], *position)
		return nil
	}
	return listUsers(ctx, stdout, svc, ps)
}

// printSecret prints a secret alone on stdout, so that X=$(aiskao users ...) works, and the
// warning on stderr.
func printSecret(stdout, stderr io.Writer, secret, name, what string) error {
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "%s на %s се показва само сега / the %s of %s is shown only now: give it to the person alone.\n", what, name, what, name)
	return nil
}

func notFound(err error, name string) error {
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("no account named %s", name)
	}
	return err
}

// holdPosition makes name a holder of position in unit, making the unit and the position
// when missing.
func holdPosition(ctx context.Context, svc *account.Service, o org.Store, actor, name, unit, position string) error {
	for _, id := range []string{unit, position} {
		if err := org.CheckID(id); err != nil {
			return err
		}
	}
	if err := o.AddUnit(ctx, org.Unit{ID: unit, Name: unit}); err != nil && !errors.Is(err, org.ErrExists) {
		return err
	}
	if err := o.AddPosition(ctx, org.Position{ID: position, Unit: unit, Title: position}); err != nil && !errors.Is(err, org.ErrExists) {
		return err
	}
	return svc.Hold(ctx, actor, name, position)
}

func listUsers(ctx context.Context, stdout io.Writer, svc *account.Service, o org.Store) error {
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLES\tPOSITIONS\tSTATE\tCREATED")
	for _, a := range list {
		positions, err := o.PositionsOf(ctx, a.Name)
		if err != nil {
			return err
		}
		state := "active"
		switch {
		case a.Disabled:
			state = "disabled"
		case a.MustChange:
			state = "must-set-password"
		}
		roles := make([]string, len(a.Roles))
		for i, r := range a.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, orDash(strings.Join(roles, ",")), orDash(strings.Join(positions, ",")),
			state, a.Created.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliActor names who runs the command, for the journal.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "cli:" + name
}

// peopleStore is what the users command needs of a store.
type peopleStore interface {
	account.Store
	org.Store
	session.Store
	store.Journal
}

// openPeopleStore opens the store of the configuration at config, with data as its data folder.
func openPeopleStore(config, data string) (peopleStore, func(), error) {
	cat := routes.DefaultCatalog()
	cfg, err := routes.Load(cat, config)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration %s is invalid:\n%w", config, err)
	}
	return peopleStoreOf(cfg, data)
}
