package ops

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// Security is how the operations API's listener is protected: HTTPS with a certificate, and
// client certificates chained to a CA as a second way to authenticate beside API tokens.
type Security struct {
	CertFile, KeyFile string
	ClientCAFile      string                   // empty: API tokens only
	Clients           map[string]identity.Role // client certificate subjects and their roles
}

// CheckListen refuses to serve API tokens in clear beyond the machine: without a certificate the
// API may listen only on a loopback address.
func (s Security) CheckListen(addr string) error {
	if s.CertFile != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("operations API: listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("operations API: listen %q is not a loopback address and ops.tls has no cert: API tokens would cross the network in clear; set ops.tls.cert and key, or listen on 127.0.0.1", addr)
}

// TLSConfig returns the listener's TLS configuration, or nil for plain HTTP.
func (s Security) TLSConfig() (*tls.Config, error) {
	if s.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("operations API: tls: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.ClientCAFile != "" {
		pool, err := readPool(s.ClientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return c, nil
}

// Authenticator returns how callers prove who they are: an API token from b's store, or a client
// certificate when ClientCAFile is set.
func (s Security) Authenticator(b Backend) (httpauth.Authenticator, error) {
	auth := httpauth.Any{httpauth.Token{Auth: apitoken.Authenticator{Store: backendTokens{b}}}}
	if s.ClientCAFile != "" {
		pool, err := readPool(s.ClientCAFile)
		if err != nil {
			return nil, err
		}
		auth = append(auth, httpauth.Certificate{Roots: pool, Roles: s.Clients})
	}
	return auth, nil
}

func readPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("operations API: client_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("operations API: client_ca: %s holds no PEM certificate", file)
	}
	return pool, nil
}

// backendTokens reads tokens from the backend's store as it is at each request, so that a reload
// that opens the store anew is followed.
type backendTokens struct{ b Backend }

var errNoTokens = errors.New("the store keeps no API tokens")

func (t backendTokens) store() (apitoken.Store, error) {
	if s, ok := t.b.Store().(apitoken.Store); ok {
		return s, nil
	}
	return nil, errNoTokens
}

func (t backendTokens) CreateToken(ctx context.Context, r apitoken.Record) error {
	s, err := t.store()
	if err != nil {
		return err
	}
	return s.CreateToken(ctx, r)
}

func (t backendTokens) RevokeToken(ctx context.Context, name string, at time.Time) error {
	s, err := t.store()
	if err != nil {
		return err
	}
	return s.RevokeToken(ctx, name, at)
}

func (t backendTokens) ListTokens(ctx context.Context) ([]apitoken.Record, error) {
	s, err := t.store()
	if err != nil {
		return nil, err
	}
	return s.ListTokens(ctx)
}

func (t backendTokens) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	s, err := t.store()
	if err != nil {
		return apitoken.Record{}, err
	}
	return s.TokenByID(ctx, id)
}
