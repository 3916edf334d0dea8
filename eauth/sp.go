package eauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// Defaults of the Config fields left zero.
const (
	DefaultClockSkew        = 90 * time.Second
	DefaultRequestTTL       = 10 * time.Minute
	DefaultMaxResponseBytes = 256 << 10
)

// oidPattern is the schema's pattern for the OIDs of services and providers (ResourceOID:
// "2.16.100.([1-9]+.)*[1-9]+", whose components have no zero digit), with its dots taken as dots.
var oidPattern = regexp.MustCompile(`^2\.16\.100\.([1-9]+\.)*[1-9]+$`)

// DefaultAttributes are the attributes asked for when Config.Attributes is empty.
var DefaultAttributes = []string{AttrPersonIdentifier, AttrPersonName, AttrLatinName, AttrEmail}

// Config is a service provider's side of the eAuth profile.
type Config struct {
	// EntityID names this service provider: the Issuer of its requests and the Audience its
	// assertions must name.
	EntityID string
	// ACSURL is the address of the assertion consumer: where responses are posted, and the
	// Destination and Recipient they must name.
	ACSURL string
	// IdPSSOURL is where the identity provider takes AuthnRequests (HTTP-POST binding).
	IdPSSOURL string
	// IdPEntityID, when set, is the Issuer a response and its assertion must name.
	IdPEntityID string
	// IdPCertificate is the only certificate whose key may sign a response; a certificate in a
	// signature's KeyInfo must be this one.
	IdPCertificate *x509.Certificate
	// Key and Certificate sign the AuthnRequests (RSA or ECDSA).
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Service and Provider are the OIDs of the electronic administrative service and of the
	// administration that provides it (2.16.100.…; the profile's schema allows no zero digit in
	// them), sent in the RequestedService extension.
	Service, Provider string
	// Attributes are asked for in the RequestedAttributes extension (default DefaultAttributes);
	// personIdentifier is always asked for, as required.
	Attributes []string
	// Level is the level of assurance asked for; a response with a lower one is refused.
	Level Level
	// ClockSkew is how far the identity provider's clock may be from ours (default 90 s).
	ClockSkew time.Duration
	// RequestTTL is how long a request may wait for its response (default 10 min).
	RequestTTL time.Duration
	// MaxResponseBytes bounds the decoded response (default 256 KiB).
	MaxResponseBytes int
	// Requests and Replay keep the requests issued and the assertions used (default: in memory).
	Requests RequestStore
	Replay   ReplayCache
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SP is the service provider side of the eAuth profile. It is safe for concurrent use.
type SP struct {
	cfg    Config
	method string
}

// New checks cfg and returns its service provider.
func New(cfg Config) (*SP, error) {
	switch {
	case cfg.EntityID == "" || cfg.ACSURL == "" || cfg.IdPSSOURL == "":
		return nil, errors.New("eauth: the entity id, the assertion consumer's and the identity provider's addresses are required")
	case cfg.IdPCertificate == nil:
		return nil, errors.New("eauth: the identity provider's certificate is required")
	case cfg.Key == nil || cfg.Certificate == nil:
		return nil, errors.New("eauth: the service provider's key and certificate are required to sign requests")
	case !oidPattern.MatchString(cfg.Service) || !oidPattern.MatchString(cfg.Provider):
		return nil, fmt.Errorf("eauth: service %q and provider %q must be OIDs under 2.16.100 (the schema allows no zero digit)", cfg.Service, cfg.Provider)
	case cfg.Level < LevelLow || cfg.Level > LevelHigh:
		return nil, errors.New("eauth: a level of assurance is required")
	}
	s := &SP{cfg: cfg}
	switch cfg.Key.Public().(type) {
	case *rsa.PublicKey:
		s.method = dsig.RSASHA256SignatureMethod
	case *ecdsa.PublicKey:
		s.method = dsig.ECDSASHA256SignatureMethod
	default:
		return nil, fmt.Errorf("eauth: a %T key cannot sign requests; use RSA or ECDSA", cfg.Key.Public())
	}
	if len(s.cfg.Attributes) == 0 {
		s.cfg.Attributes = DefaultAttributes
	}
	for _, a := range s.cfg.Attributes {
		if !strings.HasPrefix(a, AttributePrefix) {
			return nil, fmt.Errorf("eauth: attribute %q is not one of the profile's (%s…)", a, AttributePrefix)
		}
	}
	if s.cfg.ClockSkew == 0 {
		s.cfg.ClockSkew = DefaultClockSkew
	}
	if s.cfg.RequestTTL == 0 {
		s.cfg.RequestTTL = DefaultRequestTTL
	}
	if s.cfg.MaxResponseBytes == 0 {
		s.cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if s.cfg.Requests == nil {
		s.cfg.Requests = NewMemoryRequests()
	}
	if s.cfg.Replay == nil {
		s.cfg.Replay = NewMemoryReplay()
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	return s, nil
}

// EntityID is the service provider's entity id.
func (s *SP) EntityID() string { return s.cfg.EntityID }

// IdPSSOURL is where the identity provider takes requests, for the login page's
// Content-Security-Policy (its form-action).
func (s *SP) IdPSSOURL() string { return s.cfg.IdPSSOURL }

// library returns gosaml2's service provider with its clock at now; a fresh one each time, as its
// clock is a field.
func (s *SP) library(now time.Time) *saml2.SAMLServiceProvider {
	lib := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:         s.cfg.IdPSSOURL,
		IdentityProviderSSOBinding:     saml2.BindingHttpPost,
		IdentityProviderIssuer:         s.cfg.IdPEntityID,
		AssertionConsumerServiceURL:    s.cfg.ACSURL,
		ServiceProviderIssuer:          s.cfg.EntityID,
		AudienceURI:                    s.cfg.EntityID,
		SignAuthnRequests:              true,
		SignAuthnRequestsAlgorithm:     s.method,
		SignAuthnRequestsCanonicalizer: dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(""),
		IDPCertificateStore:            &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{s.cfg.IdPCertificate}},
		Clock:                          dsig.NewFakeClockAt(now),
		MaximumDecompressedBodySize:    int64(s.cfg.MaxResponseBytes),
		AllowMissingAttributes:         false,
	}
	// SetSPSigningKeyStore refuses only a nil signer, which New has ruled out.
	_ = lib.SetSPSigningKeyStore(&saml2.KeyStore{Signer: s.cfg.Key, Cert: s.cfg.Certificate.Raw})
	if c := s.decryptionCert(); c != nil {
		// gosaml2 looks for the decryption key in this (deprecated) field only.
		lib.SPKeyStore = dsig.TLSCertKeyStore(*c)
	}
	return lib
}

// Request is an AuthnRequest ready to be posted to the identity provider.
type Request struct {
	// ID is the request's ID, the InResponseTo its response must carry.
	ID string
	// XML is the signed AuthnRequest.
	XML []byte
	// URL is where it is posted (the identity provider's SSO address).
	URL string
}

// Encoded is the request as the SAMLRequest form field of the HTTP-POST binding carries it.
func (r *Request) Encoded() string { return base64.StdEncoding.EncodeToString(r.XML) }

// NewRequest builds and signs an AuthnRequest with the profile's RequestedService extension and
// records it as open until RequestTTL has passed.
func (s *SP) NewRequest(ctx context.Context) (*Request, error) { return s.NewRequestFor(ctx, nil) }

// NewRequestFor is NewRequest bound to a browser: browser is the SHA-256 of a secret the browser
// holds (a cookie set with the login page), and VerifyFrom accepts the response only with it.
func (s *SP) NewRequestFor(ctx context.Context, browser []byte) (*Request, error) {
	now := s.cfg.Now()
	lib := s.library(now)
	doc, err := lib.BuildAuthRequestDocumentNoSig()
	if err != nil {
		return nil, fmt.Errorf("eauth: build request: %w", err)
	}
	root := doc.Root()
	root.InsertChildAt(1, s.extensions()) // after Issuer, as the schema orders them
	signed, err := lib.SignAuthnRequest(root)
	if err != nil {
		return nil, fmt.Errorf("eauth: sign request: %w", err)
	}
	doc.SetRoot(signed)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("eauth: write request: %w", err)
	}
	id := signed.SelectAttrValue("ID", "")
	if err := s.cfg.Requests.Put(ctx, id, Issued{Level: s.cfg.Level, Expires: now.Add(s.cfg.RequestTTL), Browser: browser}); err != nil {
		return nil, &Error{Code: CodeInternal, Err: fmt.Errorf("record request: %w", err)}
	}
	return &Request{ID: id, XML: b, URL: s.cfg.IdPSSOURL}, nil
}

// extensions is the profile's samlp:Extensions: the service, its provider and the level asked for.
func (s *SP) extensions() *etree.Element {
	ext := etree.NewElement("samlp:Extensions")
	rs := ext.CreateElement("egovbga:RequestedService")
	rs.CreateAttr("xmlns:egovbga", Namespace)
	rs.CreateElement("egovbga:Service").SetText(s.cfg.Service)
	rs.CreateElement("egovbga:Provider").SetText(s.cfg.Provider)
	rs.CreateElement("egovbga:LevelOfAssurance").SetText(s.cfg.Level.URI())
	ra := ext.CreateElement("egovbga:RequestedAttributes")
	ra.CreateAttr("xmlns:egovbga", Namespace)
	names := append([]string{AttrPersonIdentifier}, s.cfg.Attributes...)
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		a := ra.CreateElement("egovbga:RequestedAttribute")
		a.CreateAttr("Name", n)
		a.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		a.CreateAttr("FriendlyName", strings.TrimPrefix(n, AttributePrefix))
		a.CreateAttr("isRequired", strconv.FormatBool(n == AttrPersonIdentifier))
	}
	return ext
}

// postForm is the HTTP-POST binding's page: a form the person sends on with one button, with no
// script, so that it works under a Content-Security-Policy that allows none.
var postForm = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="bg">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body>
<main>
<h1>{{.Title}}</h1>
<form method="post" action="{{.URL}}">
<input type="hidden" name="{{.Field}}" value="{{.Value}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<p>{{.Text}}</p>
<button type="submit">{{.Button}}</button>
</form>
</main>
</body>
</html>
`))

// PostForm is the page of the HTTP-POST binding that carries a SAML message (field SAMLRequest or
// SAMLResponse) to url. It has no script: the person presses the one button.
type PostForm struct {
	URL, Field, Value, RelayState string
	Title, Text, Button           string
}

// Render writes the page.
func (f PostForm) Render() ([]byte, error) {
	var b bytes.Buffer
	if err := postForm.Execute(&b, f); err != nil {
		return nil, fmt.Errorf("eauth: render form: %w", err)
	}
	return b.Bytes(), nil
}

// Form is the page that takes the person with r to the identity provider.
func (r *Request) Form() PostForm {
	return PostForm{URL: r.URL, Field: "SAMLRequest", Value: r.Encoded(),
		Title:  "Вход чрез електронна идентификация / Sign in with electronic identification",
		Text:   "Продължете към доставчика на електронна идентификация. / Continue to the electronic identification provider.",
		Button: "Продължи / Continue"}
}

// decryptionCert is the service provider's key and certificate for XML Encryption's RSA key
// transport, nil when the key is not RSA.
func (s *SP) decryptionCert() *tls.Certificate {
	if _, ok := s.cfg.Key.(*rsa.PrivateKey); !ok {
		return nil
	}
	return &tls.Certificate{Certificate: [][]byte{s.cfg.Certificate.Raw}, PrivateKey: s.cfg.Key}
}
