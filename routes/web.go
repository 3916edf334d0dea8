package routes

import "github.com/aiskao/aiskao/identity/oidc"

// Web configures the people's web applications: the citizens' portal and the staff site, where
// the clerks' and the administrators' applications live. They listen on separate addresses, so
// that the portal can face the internet while the staff site stays on the administration's
// network. A site that is not configured is not served.
type Web struct {
	Portal *Portal `yaml:"portal" doc:"The citizens' portal: services, applications and one's own dossiers, with sign-in through eAuth."`
	Staff  *Staff  `yaml:"staff" doc:"The staff site: the clerks' and the administrators' applications, with sign-in by local account and second factor, or through an OpenID Connect provider."`
	// BaseDir is the folder of the file that sets web; relative file names resolve against it.
	BaseDir string `yaml:"-"`
}

// Portal is the citizens' portal's listener and its sign-in through eAuth.
type Portal struct {
	Listen    string   `yaml:"listen" required:"true" doc:"Address the portal listens on. Without tls it must be a loopback address (a reverse proxy in front terminates TLS; say so in public_url)." example:"127.0.0.1:8100"`
	PublicURL string   `yaml:"public_url" doc:"The portal's address as people's browsers reach it, scheme and host, without a path: it makes the eAuth assertion consumer's address and, when https, secure cookies. Absent: http:// and the listen address." example:"https://portal.example.bg"`
	TLS       WebTLS   `yaml:"tls" doc:"HTTPS on the portal's own listener."`
	EAuth     *EAuthSP `yaml:"eauth" doc:"Sign-in of citizens and companies' representatives through eAuth 2.0 (SAML). Absent: the portal shows its public pages only."`
	Pos       Pos      `yaml:"-"` // where listen is written
}

// Staff is the staff site's listener and its ways of signing in.
type Staff struct {
	Listen    string       `yaml:"listen" required:"true" doc:"Address the staff site listens on. Without tls it must be a loopback address (a reverse proxy in front terminates TLS; say so in public_url)." example:"127.0.0.1:8101"`
	PublicURL string       `yaml:"public_url" doc:"The staff site's address as browsers reach it, scheme and host, without a path; https makes cookies secure. Absent: http:// and the listen address." example:"https://staff.example.bg"`
	TLS       WebTLS       `yaml:"tls" doc:"HTTPS on the staff site's own listener."`
	OIDC      *oidc.Config `yaml:"oidc" doc:"Single sign-on for staff through an OpenID Connect provider, beside local accounts. Absent: local accounts only."`
	Pos       Pos          `yaml:"-"` // where listen is written
}

// WebTLS is a web site's HTTPS.
type WebTLS struct {
	Cert string `yaml:"cert" doc:"File of the server's PEM certificate chain; relative to the configuration's folder." example:"certs/portal.pem"`
	Key  string `yaml:"key" doc:"File of its PEM private key." example:"certs/portal.key"`
}

// EAuthSP is the portal's side of eAuth 2.0: the identity provider it trusts and how it asks.
type EAuthSP struct {
	SSOURL      string `yaml:"sso_url" required:"true" doc:"The identity provider's single sign-on address (HTTP-POST binding)." example:"https://eauth.egov.bg/SingleSignOnService"`
	IdPEntityID string `yaml:"idp_entity_id" doc:"The identity provider's entity id; when set, a response and its assertion must name it as their issuer." example:"https://eauth.egov.bg/"`
	IdPCert     string `yaml:"idp_cert" required:"true" doc:"PEM file of the identity provider's signing certificate: a response signed by any other key is refused. Relative to the configuration's folder." example:"certs/eauth-idp.crt"`
	EntityID    string `yaml:"entity_id" doc:"The portal's entity id, the audience its assertions must name. Absent: public_url followed by /saml/metadata." example:"https://portal.example.bg/saml/metadata"`
	Cert        string `yaml:"cert" doc:"PEM file of the certificate that signs the portal's requests (registered with eAuth). Absent with key: a key and a self-signed certificate are made in the data folder once and kept." example:"certs/portal-saml.crt"`
	Key         string `yaml:"key" doc:"PEM file of that certificate's private key." example:"certs/portal-saml.key"`
	Service     string `yaml:"service" required:"true" doc:"OID of the electronic administrative service asked for in RequestedService (2.16.100.…)." example:"2.16.100.1.1.1.1.13"`
	Provider    string `yaml:"provider" required:"true" doc:"OID of the administration that provides it." example:"2.16.100.1.1.1.1.12"`
	Level       string `yaml:"level" enum:"low,substantial,high" default:"substantial" doc:"Level of assurance asked for; a response with a lower one is refused."`
}
