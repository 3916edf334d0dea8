package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
)

const tokensUsage = `Usage: aiskao tokens create NAME -role ROLE | revoke NAME | list   [-config FILE|DIR] [-data DIR]

Създава, отменя и изброява API ключовете в хранилището на хъба / makes, revokes and lists the API
tokens kept in the hub's store. The token is printed once, by create; the store keeps only its
SHA-256. Roles: operator (replay, delete and read dead letters, read the journal), auditor (read
dead letters and the journal, personal data masked), integrator (send into routes).`

// runTokens manages API tokens in the store the configuration names, opened directly, so that it
// works whether the hub runs or not.
func runTokens(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokens", "create NAME -role ROLE | revoke NAME | list", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, tokensUsage); fs.PrintDefaults() }
	config := fs.String("config", defaultConfig, "configuration file or folder: its store keeps the tokens")
	data := fs.String("data", "data", "data folder, as given to serve")
	role := fs.String("role", "", "create: the token's role: operator, auditor or integrator")
	if err := fs.Parse(args); err != nil {
		return err
	}
	words := fs.Args()
	if len(words) == 0 {
		fs.Usage()
		return errUsage
	}
	cmd, rest := words[0], words[1:]
	want := map[string]int{"create": 1, "revoke": 1, "list": 0}
	n, ok := want[cmd]
	if !ok || len(rest) != n {
		fs.Usage()
		return errUsage
	}
	if cmd != "create" && *role != "" {
		return fmt.Errorf("-role is only for create")
	}
	var r identity.Role
	var err error
	if cmd == "create" {
		if r, err = identity.ParseRole(*role); err != nil {
			return fmt.Errorf("-role: %w", err)
		}
		if err := apitoken.CheckName(rest[0]); err != nil {
			return err
		}
	}
	if cmd == "create" {
		tok, err := issueToken(*config, *data, rest[0], r)
		if err != nil {
			return err
		}
		// The token alone on stdout, so that TOKEN=$(aiskao tokens create ...) works; the
		// warning on stderr.
		fmt.Fprintln(stdout, tok)
		fmt.Fprintf(stderr, "Ключът %s (роля %s) се показва само сега / token %s (role %s) is shown only now: keep it secret.\n", rest[0], r, rest[0], r)
		return nil
	}
	ts, closeStore, err := openTokenStore(*config, *data)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx := context.Background()
	switch cmd {
	case "revoke":
		if err := ts.RevokeToken(ctx, rest[0], time.Now()); err != nil {
			if errors.Is(err, apitoken.ErrNotFound) {
				return fmt.Errorf("no active token named %s", rest[0])
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked token %s\n", rest[0])
		return nil
	}
	list, err := ts.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tID\tCREATED\tREVOKED")
	for _, t := range list {
		revoked := "-"
		if !t.Active() {
			revoked = t.Revoked.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.ID, t.Created.Local().Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

// issueToken makes a new API token named name with role in the store of the configuration at
// config, with data as its data folder, and returns it: the only time it is seen in clear.
func issueToken(config, data, name string, role identity.Role) (string, error) {
	if err := apitoken.CheckName(name); err != nil {
		return "", err
	}
	ts, closeStore, err := openTokenStore(config, data)
	if err != nil {
		return "", err
	}
	defer closeStore()
	tok, rec, err := apitoken.New(name, role, time.Now())
	if err != nil {
		return "", err
	}
	if err := ts.CreateToken(context.Background(), rec); err != nil {
		if errors.Is(err, apitoken.ErrExists) {
			return "", fmt.Errorf("an active token named %s exists; revoke it first or choose another name", name)
		}
		return "", err
	}
	return tok, nil
}

// errNoTokenStore says that the configuration's store keeps no API tokens (none of its HTTP
// sources can then take api_key: serve refuses that).
var errNoTokenStore = errors.New("the store keeps no API tokens")

// openTokenStore opens the store of the configuration at config, with data as its data folder.
func openTokenStore(config, data string) (apitoken.Store, func(), error) {
	cat := routes.DefaultCatalog()
	cfg, err := routes.Load(cat, config)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration %s is invalid:\n%w", config, err)
	}
	f, ok := cat.Stores.Lookup(cfg.Store.Type)
	if !ok {
		return nil, nil, fmt.Errorf("store type %q is not available", cfg.Store.Type)
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, nil, fmt.Errorf("data folder: %w", err)
	}
	st, err := f.New(cfg.Store.Config, store.Env{DataDir: data})
	if err != nil {
		return nil, nil, fmt.Errorf("store %s: %w", cfg.Store.Type, err)
	}
	ts, ok := st.(apitoken.Store)
	if !ok {
		_ = st.Close()
		return nil, nil, fmt.Errorf("store type %s: %w", cfg.Store.Type, errNoTokenStore)
	}
	return ts, func() { _ = st.Close() }, nil
}
