package sqlite

import (
	"testing"

	"github.com/aiskao/aiskao/store/storetest"
)

func TestPeople(t *testing.T) {
	storetest.RunPeople(t, func(t *testing.T) storetest.PeopleStore {
		s := open(t, Config{}, t.TempDir())
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
