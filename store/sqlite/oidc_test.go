package sqlite

import (
	"testing"

	"github.com/aiskao/aiskao/identity/oidc"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestOIDC(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) oidc.Store {
		s := open(t, Config{}, t.TempDir())
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
