package connectortest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	sqlitestore "github.com/aiskao/aiskao/store/sqlite"
)

// NewStore returns a hub store of the test's own (SQLite in a temporary folder), closed when
// the test ends: the route state and journal that pollers keep their cursors in.
func NewStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlitestore.New(sqlitestore.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Collector is an emit that keeps the messages it was given; it is safe for concurrent use.
type Collector struct {
	mu   sync.Mutex
	msgs []*message.Message
}

// Emit keeps msgs; it is a connectors.Emit.
func (c *Collector) Emit(_ context.Context, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, msgs...)
	return nil
}

// Messages returns the messages kept so far, in the order they came.
func (c *Collector) Messages() []*message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*message.Message(nil), c.msgs...)
}

// Running runs src with emit until the test ends, then stops it and fails the test if Run
// returned an error.
func Running(t testing.TB, src connectors.Source, emit connectors.Emit) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// FieldErrors returns the messages of the errors joined in err (a Validate's), failing the test
// for each that is not a spec.FieldError: options' errors must name their field.
func FieldErrors(t testing.TB, err error) []string {
	t.Helper()
	var out []string
	for _, e := range spec.Unjoin(err) {
		var fe *spec.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("%v is not a FieldError", e)
		}
		out = append(out, e.Error())
	}
	return out
}
