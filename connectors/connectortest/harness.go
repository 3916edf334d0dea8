package connectortest

import (
	"context"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

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
