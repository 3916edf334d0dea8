package dossierconn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/dossier/api"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/tlsconf"
	"github.com/aiskao/aiskao/spec"
)

// API is where the connector serves the dossier core's JSON API.
type API struct {
	Listen string  `yaml:"listen" doc:"Address of the JSON API: /api/v1/ (services, applications, dossiers, tasks, documents, feedback), described at /api/v1/openapi.yaml. On any address but a loopback one, cert and key are required." required:"true" example:"127.0.0.1:8090"`
	Auth   APIAuth `yaml:"auth" doc:"How callers prove who they are; the role of their token or certificate decides what they may do (docs/roles.md). The service catalogue and the description are open to anyone." required:"true"`
	Cert   string  `yaml:"cert" doc:"PEM certificate chain of the API's HTTPS server; relative to the configuration's folder." example:"certs/api.crt"`
	Key    string  `yaml:"key" doc:"PEM private key of cert; relative to the configuration's folder." example:"certs/api.key"`
}

// APIAuth says how callers of the API prove who they are.
type APIAuth struct {
	Type string `yaml:"type" doc:"api_key: an API token from the hub's store (aiskao tokens create NAME -role ROLE) sent as Authorization: Bearer, remembered for a second; mtls: a TLS client certificate chained to ca (needs cert and key)." enum:"api_key,mtls" required:"true" example:"api_key"`
	CA   string `yaml:"ca" doc:"mtls: file of the PEM CA certificates that client certificates must chain to; relative to the configuration's folder." example:"certs/clients-ca.pem"`
	Role string `yaml:"role" doc:"mtls: the role an accepted certificate is given." default:"integrator" example:"operator"`
}

// validate checks what the tags cannot.
func (a *API) validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, spec.FieldErrorf("api."+field, format, args...))
	}
	if (a.Cert == "") != (a.Key == "") {
		add("cert", "cert and key go together: give both or neither")
	}
	if host, _, err := net.SplitHostPort(a.Listen); err != nil {
		add("listen", "%q is not host:port: %v", a.Listen, err)
	} else if ip := net.ParseIP(host); a.Cert == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		add("listen", "%q is not a loopback address and the API has no cert: tokens and personal data would cross the network in clear; set cert and key, or listen on 127.0.0.1", a.Listen)
	}
	switch a.Auth.Type {
	case "mtls":
		if a.Auth.CA == "" {
			add("auth.ca", "mtls needs the CA file client certificates chain to")
		}
		if a.Cert == "" {
			add("cert", "mtls needs the API served over TLS: set cert and key")
		}
		if _, err := identity.ParseRole(a.Auth.Role); err != nil {
			add("auth.role", "%v", err)
		}
	case "api_key":
	default:
		add("auth.type", "%q is not one of api_key, mtls", a.Auth.Type)
	}
	return errs
}

// apiRoot is the path the API is mounted under.
const apiRoot = "/api/v1/"

// tokenCacheTTL is how long the API remembers a token's record; a revocation takes effect
// within it.
const tokenCacheTTL = time.Second

// serveAPI mounts the JSON API of n on its listener: the connector's source or sink, whichever
// the engine builds first, so that a connector used only as a sink serves it too, and one used as
// both serves it once (both halves run on the same dossiers).
func serveAPI(n *node, env connectors.Env) error {
	a := n.cfg.API
	var auth httpauth.Authenticator
	switch a.Auth.Type {
	case "api_key":
		if env.Check {
			break
		}
		if env.Tokens == nil {
			return errors.New("api.auth: api_key needs a store that keeps API tokens (sqlite or postgres)")
		}
		auth = httpauth.Token{Auth: apitoken.Authenticator{Store: &apitoken.Cache{Lookup: env.Tokens, TTL: tokenCacheTTL}}}
	case "mtls":
		roots, err := tlsconf.Roots(tlsconf.Path(env.BaseDir, a.Auth.CA))
		if err != nil {
			return spec.FieldErrorf("api.auth.ca", "%v", err)
		}
		auth = httpauth.Certificate{Roots: roots, Default: identity.Role(a.Auth.Role)}
	}
	if env.Check {
		return nil
	}
	if err := env.ListenerTLS(a.Listen, tlsconf.Path(env.BaseDir, a.Cert), tlsconf.Path(env.BaseDir, a.Key)); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	mux, err := env.Mux(a.Listen)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if _, pattern := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: apiRoot}}); pattern == apiRoot {
		return nil // the other half of this connector serves it
	}
	h, err := api.New(api.Options{Core: n.core, Services: n.cat, Store: n.store, Auth: auth, Listener: env.Name, Journal: env.Journal, Log: env.Log()})
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	mux.Handle(apiRoot, h)
	return nil
}
