package sqlite

import (
	"testing"

	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/apitoken/apitokentest"
)

func TestTokens(t *testing.T) {
	apitokentest.Run(t, func(t *testing.T) apitoken.Store {
		s := open(t, Config{}, t.TempDir())
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
