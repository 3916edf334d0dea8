package postgres

import (
	"testing"

	"github.com/aiskao/aiskao/identity/oidc"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestOIDC(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) oidc.Store {
		s := open(t, testConfig(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
