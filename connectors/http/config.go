package httpconn

import (
	"errors"
	"mime"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/jwtauth"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of an http connector. Listen and path make it a source, url a sink.
type Config struct {
	Listen       string        `yaml:"listen" doc:"Address of the hub's HTTP server that receives messages (required for a source)." example:"127.0.0.1:8080"`
	Path         string        `yaml:"path" doc:"Path of the POST endpoint that receives messages; starts with / (required for a source)." example:"/in/esoed"`
	MaxBody      spec.ByteSize `yaml:"max_body" doc:"Largest request body accepted; larger ones get 413." default:"10MiB" min:"1" example:"512KiB"`
	MaxInFlight  spec.ByteSize `yaml:"max_in_flight_bytes" doc:"Most bytes of request bodies this source holds at once, being received or being stored, so that a burst of large bodies cannot take the memory: a request waits up to 2 s for room before its body is read, then gets 503 with Retry-After; a body larger than this is received alone. Absent: a thirty-second of the memory the process may use (GOMEMLIMIT, the cgroup's limit or the machine's memory), at least 16 MiB and at most 256 MiB." min:"1" example:"64MiB"`
	ContentTypes []string      `yaml:"content_types" doc:"Media types accepted in Content-Type; parameters such as charset are ignored; others get 415." default:"[application/xml, text/xml, application/json]" min:"1" example:"[application/xml]"`
	MessageType  string        `yaml:"message_type" doc:"Value of the envelope's type for received messages; empty leaves it unset." example:"esoed.DocumentRegistrationRequest"`
	Auth         Auth          `yaml:"auth" doc:"Who may send (required for a source): type none accepts anyone and must be written out; api_key, mtls and jwt refuse everyone else with 401 or 403."`
	TLS          ServerTLS     `yaml:"tls" doc:"Serve HTTPS on listen with this certificate. Every source on the same listen address must give the same files; required for auth type mtls."`

	URL     string            `yaml:"url" doc:"Address that messages are delivered to, http or https (required for a sink)." example:"https://registry.example.bg/api/documents"`
	Method  string            `yaml:"method" doc:"HTTP method of deliveries." enum:"POST,PUT,PATCH" default:"POST"`
	Timeout spec.Duration     `yaml:"timeout" doc:"How long one delivery may take, answer included, before it is retried." default:"10s" example:"30s"`
	Headers map[string]string `yaml:"headers" doc:"Headers added to every delivery and every poll request." example:"{Accept-Language: bg}"`

	ClientAuth ClientAuth `yaml:"client_auth" doc:"How the hub proves itself to the server at url or poll.url: a bearer token, basic auth or an OAuth2 client-credentials token. Not to be confused with auth, which checks those who send to the hub."`
	ClientTLS  ClientTLS  `yaml:"client_tls" doc:"TLS of the requests to url or poll.url: the hub's client certificate for mutual TLS, and the CA of the server."`

	Poll Poll `yaml:"poll" doc:"Makes the connector a source that GETs poll.url every interval, following the pages, each item of the answer's JSON array a message; where it stopped is kept in the hub's store."`
}

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }

	if c.Listen == "" && c.URL == "" && c.Poll.URL == "" {
		add("listen", "set listen and path to receive messages, poll.url to fetch them, or url to deliver them")
	}
	if c.Listen != "" && c.Poll.URL != "" {
		add("poll.url", "a connector receives (listen) or polls (poll.url), not both")
	}
	if c.Poll.URL != "" || c.URL != "" {
		c.ClientAuth.validate(add)
		c.ClientTLS.validate(add)
		if c.ClientAuth.Type != "" {
			for name := range c.Headers {
				if strings.EqualFold(name, "Authorization") {
					add("headers", "Authorization is set by client_auth; drop one of them")
				}
			}
		}
	} else if c.ClientAuth.Type != "" || c.ClientTLS != (ClientTLS{}) {
		add("client_auth", "client_auth and client_tls are options of requests the hub makes; set url or poll.url too")
	}
	if c.Poll.URL != "" {
		c.Poll.validate(add)
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			add("listen", "%q is not an address such as 127.0.0.1:8080 or :8080", c.Listen)
		}
		if c.Path == "" {
			add("path", "required with listen: the path of the POST endpoint, such as /in")
		}
	} else if c.Path != "" {
		add("path", "only used with listen; set listen too")
	}
	if c.Path != "" && (!strings.HasPrefix(c.Path, "/") || strings.ContainsAny(c.Path, " \t{}?#")) {
		add("path", "%q must start with / and hold no spaces, braces, ? or #", c.Path)
	}
	if c.Listen != "" {
		c.Auth.validate(add, c.TLS.Cert != "")
		if (c.TLS.Cert == "") != (c.TLS.Key == "") {
			add("tls", "set both cert and key, or neither")
		}
	} else if c.Auth.Type != "" || c.TLS.Cert != "" || c.TLS.Key != "" {
		add("auth", "auth and tls are options of a source; set listen and path too")
	}
	if c.MaxBody < 1 {
		add("max_body", "must be at least 1 byte")
	}
	if len(c.ContentTypes) == 0 {
		add("content_types", "list at least one media type, such as application/xml")
	}
	for i, ct := range c.ContentTypes {
		if mt, params, err := mime.ParseMediaType(ct); err != nil || len(params) > 0 || !strings.Contains(mt, "/") {
			add("content_types["+strconv.Itoa(i)+"]", "%q is not a media type such as application/xml (without parameters)", ct)
		}
	}

	if c.URL != "" {
		u, err := url.Parse(c.URL)
		switch {
		case err != nil:
			add("url", "%q is not a URL: %v", c.URL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			add("url", "%q must start with http:// or https://", c.URL)
		case u.Host == "":
			add("url", "%q names no host", c.URL)
		}
	}
	switch c.Method {
	case "POST", "PUT", "PATCH":
	default:
		add("method", "%q is not one of POST, PUT, PATCH", c.Method)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 10s")
	}
	for name := range c.Headers {
		if !isToken(name) {
			add("headers", "%q is not a header name", name)
		}
	}
	return errors.Join(errs...)
}

// Auth says who may send to a source.
type Auth struct {
	Type string `yaml:"type" doc:"none: anyone who reaches the listener (write it out to mean it); api_key: an API token from the hub's store (aiskao tokens create) sent as Authorization: Bearer, remembered for a second, so a revocation takes effect within one; mtls: a TLS client certificate chained to ca; jwt: an OAuth2 bearer JWT from issuer, checked with its keys." enum:"none,api_key,mtls,jwt" example:"api_key"`
	Role string `yaml:"role" doc:"api_key: the role a token must have; mtls and jwt: the role an accepted caller is given. It must grant routes.send." default:"integrator" example:"integrator"`

	CA       string   `yaml:"ca" doc:"mtls: file of the PEM CA certificates that client certificates must chain to; relative to the configuration's folder." example:"certs/clients-ca.pem"`
	Subjects []string `yaml:"subjects" doc:"mtls: the only client certificate subjects accepted, as Go writes them (CN=...,O=...); jwt: the only sub claims accepted. Empty accepts any." example:"[CN=back-office,O=Община Примерно]"`

	Issuer     string        `yaml:"issuer" doc:"jwt: the issuer (iss) tokens must name." example:"https://login.example.bg/realms/aiskao"`
	Audience   string        `yaml:"audience" doc:"jwt: the audience (aud) tokens must name." example:"aiskao-hub"`
	JWKSURL    string        `yaml:"jwks_url" doc:"jwt: address of the issuer's JWK Set, https (http only to a loopback address)." example:"https://login.example.bg/realms/aiskao/protocol/openid-connect/certs"`
	JWKSFile   string        `yaml:"jwks_file" doc:"jwt: file of the issuer's JWK Set, instead of jwks_url; relative to the configuration's folder." example:"keys/issuer.jwks.json"`
	Algorithms []string      `yaml:"algorithms" doc:"jwt: the signature algorithms accepted; never none or HMAC." default:"[RS256, ES256]" example:"[RS256]"`
	Leeway     spec.Duration `yaml:"leeway" doc:"jwt: clock difference tolerated on exp, nbf and iat." default:"30s" example:"1m"`
}

// ServerTLS is a listener's certificate.
type ServerTLS struct {
	Cert string `yaml:"cert" doc:"File of the server's PEM certificate chain; relative to the configuration's folder." example:"certs/hub.pem"`
	Key  string `yaml:"key" doc:"File of its PEM private key." example:"certs/hub.key"`
}

func (a *Auth) validate(add func(field, format string, args ...any), hasTLS bool) {
	switch a.Type {
	case "":
		add("auth", "required for a source: write auth: {type: none} to accept anyone who reaches %s, or type api_key, mtls or jwt", "the listener")
		return
	case "none", "api_key", "mtls", "jwt":
	default:
		add("auth.type", "%q is not one of none, api_key, mtls, jwt", a.Type)
		return
	}
	if a.Type != "none" {
		r, err := identity.ParseRole(a.Role)
		switch {
		case err != nil:
			add("auth.role", "%v", err)
		case !r.Grants(identity.RoutesSend):
			add("auth.role", "role %s does not grant %s; use integrator", r, identity.RoutesSend)
		}
	}
	switch a.Type {
	case "mtls":
		if a.CA == "" {
			add("auth.ca", "required with type mtls: the CA certificates client certificates must chain to")
		}
		if !hasTLS {
			add("tls", "required with auth type mtls: the listener must serve HTTPS to ask for client certificates")
		}
	case "jwt":
		if a.Issuer == "" {
			add("auth.issuer", "required with type jwt")
		}
		if a.Audience == "" {
			add("auth.audience", "required with type jwt")
		}
		if (a.JWKSURL == "") == (a.JWKSFile == "") {
			add("auth.jwks_url", "set one of jwks_url and jwks_file with type jwt")
		}
		if a.JWKSURL != "" {
			if err := jwtauth.CheckURL(a.JWKSURL); err != nil {
				add("auth.jwks_url", "%v", err)
			}
		}
		if _, err := jwtauth.ParseAlgorithms(a.Algorithms); err != nil {
			add("auth.algorithms", "%v", err)
		}
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
