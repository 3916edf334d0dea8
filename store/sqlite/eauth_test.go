package sqlite

import (
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestEAuth(t *testing.T) {
	storetest.RunEAuth(t, func(t *testing.T) eauth.Store {
		s := open(t, Config{}, t.TempDir())
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
