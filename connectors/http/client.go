package httpconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/internal/tlsconf"
)

// ClientAuth is how the hub proves itself to the server it calls (the sink's url, the poll
// source's url); unlike auth, which checks those who call the hub.
type ClientAuth struct {
	Type string `yaml:"type" doc:"bearer: a fixed token sent as Authorization: Bearer; basic: a user name and password; oauth2: an OAuth2 client-credentials token from token_url, kept until it expires." enum:"bearer,basic,oauth2" example:"oauth2"`

	Token     string `yaml:"token" doc:"bearer: the token; write it as ${NAME} to keep it out of the file. Never logged." example:"${REGISTER_TOKEN}"`
	TokenFile string `yaml:"token_file" doc:"bearer: file holding the token, instead of token; relative to the configuration's folder." example:"secrets/register.token"`

	Username     string `yaml:"username" doc:"basic: the user name." example:"aiskao"`
	Password     string `yaml:"password" doc:"basic: the password, such as ${NAME}. Never logged." example:"${REGISTER_PASSWORD}"`
	PasswordFile string `yaml:"password_file" doc:"basic: file holding the password, instead of password." example:"secrets/register.password"`

	TokenURL         string   `yaml:"token_url" doc:"oauth2: the token endpoint, https (http only to a loopback address)." example:"https://login.example.bg/realms/aiskao/protocol/openid-connect/token"`
	ClientID         string   `yaml:"client_id" doc:"oauth2: the hub's client id." example:"aiskao-hub"`
	ClientSecret     string   `yaml:"client_secret" doc:"oauth2: the client secret, such as ${NAME}. Never logged." example:"${OAUTH_CLIENT_SECRET}"`
	ClientSecretFile string   `yaml:"client_secret_file" doc:"oauth2: file holding the client secret, instead of client_secret." example:"secrets/oauth-client-secret"`
	Scopes           []string `yaml:"scopes" doc:"oauth2: the scopes asked for." example:"[documents.write]"`
}

// ClientTLS is the hub's TLS client certificate and the CAs it trusts for the server.
type ClientTLS struct {
	Cert string `yaml:"cert" doc:"File of the hub's PEM client certificate chain, for servers asking for mutual TLS; relative to the configuration's folder." example:"certs/hub-client.pem"`
	Key  string `yaml:"key" doc:"File of its PEM private key." example:"certs/hub-client.key"`
	CA   string `yaml:"ca" doc:"File of the PEM CA certificates the server's certificate must chain to, instead of the system's." example:"certs/register-ca.pem"`
}

func (a *ClientAuth) validate(add func(field, format string, args ...any)) {
	one := func(field, v, vFile string) {
		if (v == "") == (vFile == "") {
			add("client_auth."+field, "set one of %s and %s_file with type %s", field, field, a.Type)
		}
	}
	switch a.Type {
	case "":
		if a.Token != "" || a.TokenFile != "" || a.Username != "" || a.Password != "" || a.PasswordFile != "" ||
			a.TokenURL != "" || a.ClientID != "" || a.ClientSecret != "" || a.ClientSecretFile != "" || len(a.Scopes) > 0 {
			add("client_auth.type", "required: bearer, basic or oauth2")
		}
	case "bearer":
		one("token", a.Token, a.TokenFile)
	case "basic":
		if a.Username == "" || strings.Contains(a.Username, ":") {
			add("client_auth.username", "required with type basic, without a colon")
		}
		one("password", a.Password, a.PasswordFile)
	case "oauth2":
		if err := checkTokenURL(a.TokenURL); err != nil {
			add("client_auth.token_url", "%v", err)
		}
		if a.ClientID == "" {
			add("client_auth.client_id", "required with type oauth2")
		}
		one("client_secret", a.ClientSecret, a.ClientSecretFile)
	default:
		add("client_auth.type", "%q is not one of bearer, basic, oauth2", a.Type)
	}
}

// checkTokenURL allows https, and http to a loopback address only: the client secret crosses it.
func checkTokenURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("required with type oauth2: the token endpoint")
	case err != nil || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("%q sends the client secret in the clear; use https (http only to a loopback address)", s)
	}
	return fmt.Errorf("%q must start with https://", s)
}

func (t *ClientTLS) validate(add func(field, format string, args ...any)) {
	if (t.Cert == "") != (t.Key == "") {
		add("client_tls", "set both cert and key, or neither")
	}
}

// client is an HTTP client that authenticates itself as client_auth and client_tls say.
type client struct {
	http      *http.Client
	transport *http.Transport
	authorize func(ctx context.Context, req *http.Request) error // nil without client_auth
}

// newClient builds the client of a sink or poll source; secrets in files are read here, once.
func newClient(env connectors.Env, c Config) (*client, error) {
	tlsConf, err := clientTLS(env.BaseDir, c.ClientTLS, env.Check)
	if err != nil {
		return nil, fmt.Errorf("client_tls: %w", err)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32, // one destination, many concurrent deliveries
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tlsConf,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   c.Timeout.D(),
		// A redirect would turn a POST into a GET and could carry credentials elsewhere; the
		// answer is reported instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cl := &client{http: hc, transport: tr}
	// A check (aiskao validate) reads no secrets: they are often readable by the service's
	// account only. CA files, public, are read and checked.
	secret := func(v, file string) (string, error) {
		if file == "" || env.Check {
			return v, nil
		}
		b, err := os.ReadFile(resolve(env.BaseDir, file))
		if err != nil {
			return "", err
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("%s is empty", file)
		}
		return s, nil
	}
	a := c.ClientAuth
	switch a.Type {
	case "bearer":
		tok, err := secret(a.Token, a.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("client_auth.token_file: %w", err)
		}
		cl.authorize = func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	case "basic":
		pw, err := secret(a.Password, a.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("client_auth.password_file: %w", err)
		}
		cl.authorize = func(_ context.Context, req *http.Request) error {
			req.SetBasicAuth(a.Username, pw)
			return nil
		}
	case "oauth2":
		cs, err := secret(a.ClientSecret, a.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("client_auth.client_secret_file: %w", err)
		}
		cc := &clientcredentials.Config{ClientID: a.ClientID, ClientSecret: cs, TokenURL: a.TokenURL, Scopes: a.Scopes}
		// The token endpoint is reached with the same TLS settings; the source is cached until
		// shortly before the token expires.
		ts := oauth2.ReuseTokenSource(nil, cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient,
			&http.Client{Transport: tr, Timeout: c.Timeout.D()})))
		cl.authorize = func(_ context.Context, req *http.Request) error {
			tok, err := ts.Token()
			if err != nil {
				return tokenError(a.TokenURL, err)
			}
			tok.SetAuthHeader(req)
			return nil
		}
	}
	return cl, nil
}

// tokenError says why no token came; a refusal of the client's credentials (400, 401, 403) is
// permanent, anything else (a 5xx, the network) is retried.
func tokenError(tokenURL string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := fmt.Errorf("oauth2 token from %s refused: %s %s", tokenURL, re.Response.Status, re.ErrorCode)
		switch re.Response.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			return fault.Permanent(e)
		}
		return e
	}
	return fmt.Errorf("oauth2 token from %s: %w", tokenURL, unwrapURLError(err))
}

// clientTLS builds the TLS settings of client_tls; nil for the defaults. A check leaves out the
// client's key.
func clientTLS(base string, t ClientTLS, check bool) (*tls.Config, error) {
	if t.Cert == "" && t.CA == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	files := tlsconf.Files{Cert: t.Cert, Key: t.Key, CA: t.CA}
	if check {
		files.Cert = ""
	}
	if err := files.Load(conf, base); err != nil {
		return nil, err
	}
	return conf, nil
}
