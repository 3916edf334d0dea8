package postgres

import (
	"testing"

	"github.com/aiskao/aiskao/store/storetest"
)

func TestPeople(t *testing.T) {
	storetest.RunPeople(t, func(t *testing.T) storetest.PeopleStore {
		s := open(t, testConfig(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
