package esoedconn

import (
	"errors"
	"net"
	"net/url"
	"strconv"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of an esoed connector: one administration (or a few served by one
// endpoint) in the exchange. Listen makes it a source; every esoed connector can be a sink.
type Config struct {
	Participants []Participant `yaml:"participants" doc:"The participants this connector acts for, as the participants registry lists them: the recipients the endpoint accepts messages for (П.4), and the key of the status table of their documents." required:"true" min:"1"`

	Listen string `yaml:"listen" doc:"Source: address of the participant endpoint (SOAP 1.1 Submit of EGovEndpoint.wsdl over HTTPS with client certificates), on its own listener; every path answers. Empty: the connector only sends." example:"0.0.0.0:8443"`

	Cert          string     `yaml:"cert" doc:"PEM file of the transport certificate (its chain may follow): the server certificate of the endpoint, the client certificate when sending and when asking the registry, and the certificate messages are signed with unless signing_cert is set. Relative to the configuration file." required:"true" example:"tls/administration.crt"`
	Key           string     `yaml:"key" doc:"PEM file of the transport certificate's private key (RSA). Relative to the configuration file." required:"true" example:"tls/administration.key"`
	CA            string     `yaml:"ca" doc:"PEM file of the trust anchors: the certificates of the authorities that issue the participants' transport certificates. Client certificates (endpoint, П.6), server certificates (sending, И.7) and the certificates messages are signed with (П.8, И.6, И.14, П.15) must chain to one of them, be within their validity period (for a signature: at the message's date) and not be revoked. A participant the registry names only by serial number must have a certificate issued by one of the authorities in ca or intermediates. Relative to the configuration file." required:"true" example:"tls/transport-ca.pem"`
	Intermediates string     `yaml:"intermediates" doc:"PEM file of intermediate authorities between the anchors in ca and the transport certificates, for peers that do not present them. Relative to the configuration file." example:"tls/transport-intermediates.pem"`
	Revocation    Revocation `yaml:"revocation" doc:"How revocation of the certificates is checked: OCSP where a certificate names a responder, else the CRL at its distribution point; answers are cached until their next update."`

	SigningCert string `yaml:"signing_cert" doc:"PEM file of the certificate outgoing messages and answers are signed with, when not the transport certificate. The specification asks for the transport certificate: receivers check the signature against the certificate the registry names (П.8)." example:"tls/signing.crt"`
	SigningKey  string `yaml:"signing_key" doc:"PEM file of the private key of signing_cert; set both or neither." example:"tls/signing.key"`

	RegistryFile  string        `yaml:"registry_file" doc:"File of the participants registry (YAML: participants with identifier, guid, name, status, certificate_file or certificate_sn and optionally certificate_issuer, services), for tests, the demo and participants the central registry does not reach. Relative to the configuration file. Set this or registry_url." example:"esoed/registry.yaml"`
	RegistryURL   string        `yaml:"registry_url" doc:"Address of the participants registry's SOAP service (EGovRegistry.wsdl), asked over HTTPS with the transport certificate. Set this or registry_file." example:"https://registry.egov.bg/EGovRegistry"`
	RegistryCache spec.Duration `yaml:"registry_cache" doc:"How long an answer of the registry at registry_url is used before it is asked again (offline mode of the specification)." default:"1h" example:"15m"`

	MaxMessageSize spec.ByteSize `yaml:"max_message_size" doc:"Source: largest request accepted, SOAP envelope included; a larger one is refused with a fault." default:"50MiB" min:"1" example:"20MiB"`
	Timeout        spec.Duration `yaml:"timeout" doc:"Sink: how long one submission may take, answer included, before it counts as an exception (И.8)." default:"60s" example:"2m"`
	RetryFirst     spec.Duration `yaml:"retry_first" doc:"Sink: the specification's retry strategy — interval before the first retry after an exception (И.7, И.8); each next one is doubled. 15 minutes as the specification requires; shorter only for tests. Give the routes to this sink on_error.retry {max: retries, backoff: retry_first, multiplier: 2, max_backoff: 128h, jitter: 0}, jitter 0 so that the waits are the schedule's exactly: the sink gives up after retries retries whatever the route says." default:"15m" example:"15m"`
	Retries        int           `yaml:"retries" doc:"Sink: retries after the first attempt; the specification allows at most 10 (11 attempts)." default:"10" min:"1" max:"10"`
}

// Revocation is the revocation policy of a connector.
type Revocation struct {
	Mode    string        `yaml:"mode" doc:"What to do with a certificate whose revocation status cannot be learnt (no distribution point or responder, or none answers): require refuses it (the specification makes the check mandatory, so the default fails closed; a message refused so is answered as an exception, to be sent again later), prefer accepts it, off checks nothing. A certificate found revoked is refused under require and prefer." enum:"require,prefer,off" default:"require"`
	Timeout spec.Duration `yaml:"timeout" doc:"How long fetching a CRL or asking an OCSP responder may take." default:"10s" example:"5s"`
	MaxAge  spec.Duration `yaml:"max_age" doc:"Longest an answer is kept, whatever its next update says." default:"24h" example:"1h"`
}

// Participant is one participant of the exchange this connector acts for.
type Participant struct {
	Identifier string `yaml:"identifier" doc:"ЕИК/БУЛСТАТ of the participant." required:"true" example:"000695089"`
	GUID       string `yaml:"guid" doc:"GUID of the participant in the registry, in braces." required:"true" example:"{805fd26b-4b64-4823-a7b5-d40315c4b783}"`
	Name       string `yaml:"name" doc:"Name of the participant (AdministrativeBodyName), written in the answers the endpoint makes." example:"Община Примерно"`
}

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }

	seen := map[string]bool{}
	for i, p := range c.Participants {
		at := "participants[" + strconv.Itoa(i) + "]"
		if !esoed.ValidGUID(p.GUID) {
			add(at+".guid", "%q is not a GUID in braces such as {805fd26b-4b64-4823-a7b5-d40315c4b783}", p.GUID)
		}
		if seen[p.GUID] && p.GUID != "" {
			add(at+".guid", "%s appears twice", p.GUID)
		}
		seen[p.GUID] = true
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			add("listen", "%q is not an address such as 0.0.0.0:8443 or :8443", c.Listen)
		}
	}
	if c.Revocation.Timeout <= 0 {
		add("revocation.timeout", "must be more than 0, such as 10s")
	}
	if c.Revocation.MaxAge <= 0 {
		add("revocation.max_age", "must be more than 0, such as 24h")
	}
	if (c.SigningCert == "") != (c.SigningKey == "") {
		add("signing_cert", "set signing_cert and signing_key together, or neither to sign with the transport certificate")
	}
	switch {
	case c.RegistryFile == "" && c.RegistryURL == "":
		add("registry_file", "set registry_file or registry_url: where the participants registry is")
	case c.RegistryFile != "" && c.RegistryURL != "":
		add("registry_url", "set registry_file or registry_url, not both")
	}
	if c.RegistryURL != "" {
		u, err := url.Parse(c.RegistryURL)
		switch {
		case err != nil:
			add("registry_url", "%q is not a URL: %v", c.RegistryURL, err)
		case u.Scheme != "https" && u.Scheme != "http":
			add("registry_url", "%q must start with https://", c.RegistryURL)
		case u.Host == "":
			add("registry_url", "%q names no host", c.RegistryURL)
		}
	}
	if c.RegistryCache < 0 {
		add("registry_cache", "must not be negative")
	}
	if c.MaxMessageSize < 1 {
		add("max_message_size", "must be at least 1 byte")
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 60s")
	}
	if c.RetryFirst <= 0 {
		add("retry_first", "must be more than 0; the specification says 15m")
	}
	if c.Retries < 1 || c.Retries > 10 {
		add("retries", "must be 1 to 10: the specification allows at most 10 retries")
	}
	return errors.Join(errs...)
}

// participants returns the configured participants as message headers name them.
func (c *Config) participants() []esoed.Participant {
	out := make([]esoed.Participant, len(c.Participants))
	for i, p := range c.Participants {
		out[i] = esoed.Participant{Identifier: p.Identifier, AdministrativeBodyName: p.Name, GUID: p.GUID}
	}
	return out
}
