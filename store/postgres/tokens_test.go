package postgres

import (
	"testing"

	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/apitoken/apitokentest"
)

func TestTokens(t *testing.T) {
	apitokentest.Run(t, func(t *testing.T) apitoken.Store { return open(t, testConfig(t)) })
}
