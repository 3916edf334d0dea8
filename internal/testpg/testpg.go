// Package testpg gives tests the PostgreSQL server they share: its URL (AISKAO_POSTGRES_URL, by
// default the local test database), the test skipped without it except under CI, and schemas
// of the test's own, dropped when it ends.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// URLVar names the environment variable with the test server's URL.
	URLVar = "AISKAO_POSTGRES_URL"
	// DefaultURL is the server tests use when URLVar is not set.
	DefaultURL = "postgres://postgres@127.0.0.1:5432/test"
)

// Reach connects to the test server once per run and reports its URL and whether it answered.
var Reach = sync.OnceValues(func() (string, error) {
	u := os.Getenv(URLVar)
	if u == "" {
		u = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return u, err
	}
	defer conn.Close(context.Background())
	return u, conn.Ping(ctx)
})

// URL returns the test server's URL. Without a server the test is skipped, except under CI (CI
// set), where a missing service must fail rather than pass unseen.
func URL(t testing.TB) string {
	t.Helper()
	u, err := Reach()
	if err != nil {
		msg := "PostgreSQL is not reachable at " + Redact(u) + " (set " + URLVar + " to a database where tests may create schemas): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// Name returns prefix followed by random hex: tests of several packages and runs share the
// server, so nothing they create may collide.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Schema returns a new schema name starting with prefix, dropped with what it holds when the
// test ends. The schema itself is created by whoever uses it.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	u := URL(t)
	name := Name(prefix)
	t.Cleanup(func() {
		if err := Drop(u, name); err != nil {
			t.Error(err)
		}
	})
	return name
}

// Drop drops schema on the server at u, with what it holds.
func Drop(u, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	return err
}

// Redact hides the password of a postgres:// URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	return u.Redacted()
}
