package postgres

import (
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestEAuth(t *testing.T) {
	storetest.RunEAuth(t, func(t *testing.T) eauth.Store {
		s := open(t, testConfig(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
