package envelope

import (
	"testing"

	"github.com/google/uuid"
)

func TestNewIDIsTimeOrdered(t *testing.T) {
	prev := ""
	for i := range 1000 {
		id := NewID()
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("NewID() = %q: %v", id, err)
		}
		if u.Version() != 7 {
			t.Fatalf("NewID() = %q, version %d, want 7", id, u.Version())
		}
		if id <= prev {
			t.Fatalf("id %d, %q, does not sort after %q", i, id, prev)
		}
		prev = id
	}
}
