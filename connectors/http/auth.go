package httpconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/jwtauth"
	"github.com/aiskao/aiskao/internal/tlsconf"
)

// tokenCacheTTL is how long the ingress remembers a token's record.
const tokenCacheTTL = time.Second

// newGuard builds the check of the source's auth option; nil for type none.
func newGuard(env connectors.Env, c Config) (*httpauth.Guard, error) {
	role := identity.Role(c.Auth.Role)
	g := &httpauth.Guard{Listener: env.Name, Permission: identity.RoutesSend}
	switch c.Auth.Type {
	case "none":
		return nil, nil
	case "api_key":
		ts := env.Tokens
		if env.Check {
			// Checking opens no store; serve refuses one that keeps no tokens.
			return g, nil
		}
		if ts == nil {
			return nil, errors.New("api_key needs a store that keeps API tokens (sqlite or postgres)")
		}
		// The ingress takes every request of a busy sender: a token's record is remembered for
		// a second rather than read from the store each time (measured: the read per request
		// cost the demo's ingress about 15 % of its throughput). A revocation takes effect
		// within that second.
		// The reads themselves are bounded, and a record read before serves while the store
		// cannot be read (steadyTokens), so that a database outage does not stop the ingress.
		g.Auth = httpauth.Token{Auth: apitoken.Authenticator{Store: &apitoken.Cache{Lookup: newSteadyTokens(ts, env.Log()), TTL: tokenCacheTTL}}}
	case "mtls":
		roots, err := tlsconf.Roots(resolve(env.BaseDir, c.Auth.CA))
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		cert := httpauth.Certificate{Roots: roots}
		if len(c.Auth.Subjects) == 0 {
			cert.Default = role
		} else {
			cert.Roles = map[string]identity.Role{}
			for _, s := range c.Auth.Subjects {
				cert.Roles[s] = role
			}
		}
		g.Auth = cert
	case "jwt":
		v, err := jwtauth.New(jwtauth.Config{
			Issuer: c.Auth.Issuer, Audience: c.Auth.Audience, JWKSURL: c.Auth.JWKSURL,
			JWKSFile: resolve(env.BaseDir, c.Auth.JWKSFile), Algorithms: c.Auth.Algorithms,
			Leeway: c.Auth.Leeway.D(), Role: role, Subjects: c.Auth.Subjects,
		})
		if err != nil {
			return nil, err
		}
		g.Auth = v
	default:
		return nil, fmt.Errorf("type %q is not one of none, api_key, mtls, jwt", c.Auth.Type)
	}
	return g, nil
}

// resolve makes a relative file name relative to the configuration's folder.
func resolve(base, name string) string { return tlsconf.Path(base, name) }
