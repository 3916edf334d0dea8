// Package eauthsim is a stand-in for the eAuth 2.0 identity provider (`aiskao eauth sim`): it
// takes a service provider's AuthnRequest, lets the person pick one of the configured test persons
// on a plain server-rendered page, and posts back a real SAML Response signed with its own key.
//
// It is for trying and testing only: it signs for whichever assertion consumer a request names,
// and its persons are fictitious. [Faults] make the wrong responses tests need (expired, for
// another audience, signed by another key, …) through the Go API; the page offers the commonest
// of them ([PageFaults]) so that an integrator can see their service provider refuse each.
package eauthsim

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/internal/xmllimit"
)

// Paths the simulator serves under its base address.
const (
	PathSSO      = "/sso"        // takes AuthnRequests (HTTP-POST binding)
	PathChoose   = "/sso/choose" // the person chosen on the page
	PathMetadata = "/metadata"   // the identity provider's SAML metadata
	PathCert     = "/cert.pem"   // its signing certificate
)

// Validity is how long an assertion of the simulator is valid.
const Validity = 5 * time.Minute

// Config sets up a Simulator.
type Config struct {
	// EntityID is the simulator's entity id, the Issuer of its responses.
	EntityID string
	// Key and Certificate sign the responses (RSA).
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Encrypt sends the assertion encrypted (XML Encryption: AES-256-GCM, the key by RSA-OAEP) to
	// the certificate in the request's signature, as the production eAuth is reported to.
	Encrypt bool
	// Persons are those one may sign in as (default: DemoPersons).
	Persons []Person
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Simulator is the identity provider. It is an http.Handler.
type Simulator struct {
	cfg Config
	mux *http.ServeMux

	otherOnce sync.Once // the key of FaultOtherKey, made at its first use
	otherKey  crypto.Signer
	otherCert *x509.Certificate
	otherErr  error
}

// The wrong responses the page offers, by their form value.
const (
	FaultNone     = "none"      // a good response
	FaultExpired  = "expired"   // dated an hour back: past its validity
	FaultAudience = "audience"  // for another service provider
	FaultOtherKey = "other-key" // signed by a key that is not the simulator's
	FaultForged   = "forged"    // the person's identifier altered after signing
)

// PageFault is a choice of the page's response fieldset.
type PageFault struct{ Value, Label string }

// PageFaults are the responses the page offers, the good one first.
var PageFaults = []PageFault{
	{FaultNone, "Валиден / Valid"},
	{FaultExpired, "Изтекъл / Past its validity"},
	{FaultAudience, "За друга услуга / For another audience"},
	{FaultOtherKey, "Подписан с друг ключ / Signed by another key"},
	{FaultForged, "Подправен след подписа / Altered after signing"},
}

// intruder returns the key and certificate that FaultOtherKey signs with.
func (s *Simulator) intruder() (crypto.Signer, *x509.Certificate, error) {
	s.otherOnce.Do(func() { s.otherKey, s.otherCert, s.otherErr = NewKey("intruder") })
	return s.otherKey, s.otherCert, s.otherErr
}

// forge changes the person's identifier in a signed response to that of another (valid) ЕГН, as
// an attacker would, so that the signature no longer verifies.
func forge(xml []byte, p Person) []byte {
	other := "8001010100"
	if p.EGN == other {
		other = "8511300152"
	}
	return bytes.Replace(xml, []byte("PNOBG-"+p.EGN), []byte("PNOBG-"+other), 1)
}

// New returns a simulator for cfg.
func New(cfg Config) (*Simulator, error) {
	if cfg.EntityID == "" || cfg.Key == nil || cfg.Certificate == nil {
		return nil, errors.New("eauthsim: an entity id, a key and its certificate are required")
	}
	if len(cfg.Persons) == 0 {
		cfg.Persons = DemoPersons()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Simulator{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST "+PathSSO, s.sso)
	s.mux.HandleFunc("POST "+PathChoose, s.choose)
	s.mux.HandleFunc("GET "+PathMetadata, s.metadata)
	s.mux.HandleFunc("GET "+PathCert, s.cert)
	return s, nil
}

// ServeHTTP serves the simulator's pages.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action *; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// Persons are the persons one may sign in as.
func (s *Simulator) Persons() []Person { return s.cfg.Persons }

// NewKey makes an RSA key and a self-signed certificate for entityID, valid for a year.
func NewKey(entityID string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("eauthsim: key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "aiskao eauth sim", Organization: []string{"Test only"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("eauthsim: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// CertificatePEM is the simulator's certificate in PEM.
func (s *Simulator) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cfg.Certificate.Raw})
}

// AuthnRequest is what the simulator reads of a request.
type AuthnRequest struct {
	ID, Issuer, ACSURL string
	Service, Provider  string
	Level              eauth.Level
	// Certificate is the one in the request's signature (not verified: the simulator trusts
	// every service provider), which assertions are encrypted to.
	Certificate *x509.Certificate
}

// ParseRequest reads a base64 SAMLRequest of the HTTP-POST binding, bounded.
func ParseRequest(encoded string) (*AuthnRequest, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("eauthsim: SAMLRequest: %w", err)
	}
	lim := xmllimit.Limits{MaxDepth: 16, MaxBytes: 64 << 10, MaxAttrs: 32, MaxName: 256, MaxText: 16 << 10, MaxElements: 500}
	if err := xmllimit.Check(raw, lim, nil); err != nil {
		return nil, fmt.Errorf("eauthsim: SAMLRequest: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("eauthsim: SAMLRequest: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "AuthnRequest" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		return nil, errors.New("eauthsim: SAMLRequest is not an AuthnRequest")
	}
	r := &AuthnRequest{ID: root.SelectAttrValue("ID", ""), ACSURL: root.SelectAttrValue("AssertionConsumerServiceURL", ""), Level: eauth.LevelSubstantial}
	if is := root.SelectElement("Issuer"); is != nil {
		r.Issuer = is.Text()
	}
	if ext := root.SelectElement("Extensions"); ext != nil {
		if rs := ext.SelectElement("RequestedService"); rs != nil && rs.NamespaceURI() == eauth.Namespace {
			if e := rs.SelectElement("Service"); e != nil {
				r.Service = e.Text()
			}
			if e := rs.SelectElement("Provider"); e != nil {
				r.Provider = e.Text()
			}
			if e := rs.SelectElement("LevelOfAssurance"); e != nil {
				l, err := eauth.ParseLevel(e.Text())
				if err != nil {
					return nil, err
				}
				r.Level = l
			}
		}
	}
	if c := root.FindElement("Signature/KeyInfo/X509Data/X509Certificate"); c != nil {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
		if err == nil {
			r.Certificate, _ = x509.ParseCertificate(der)
		}
	}
	if r.ID == "" || r.ACSURL == "" || r.Issuer == "" {
		return nil, errors.New("eauthsim: AuthnRequest without ID, AssertionConsumerServiceURL or Issuer")
	}
	return r, nil
}

// choosePage lets the person pick a test person: one fieldset of radio buttons and two buttons.
var choosePage = template.Must(template.New("choose").Parse(`<!DOCTYPE html>
<html lang="bg">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Симулатор на еАвтентикация / eAuth simulator</title></head>
<body>
<main>
<h1>Симулатор на еАвтентикация <span lang="en">/ eAuth simulator</span></h1>
<p>Само за изпитване: лицата са измислени. <span lang="en">For testing only: the persons are fictitious.</span></p>
<p>Услуга <span lang="en">/ Service</span>: {{.Req.Service}}; доставчик <span lang="en">/ provider</span>: {{.Req.Provider}}; ниво <span lang="en">/ level</span>: {{.Req.Level}}; за <span lang="en">/ for</span>: {{.Req.Issuer}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<fieldset>
<legend>Влизане като <span lang="en">/ Sign in as</span></legend>
{{- range $i, $p := .Persons}}
<div><input type="radio" id="person-{{$i}}" name="person" value="{{$i}}"{{if eq $i 0}} checked{{end}}>
<label for="person-{{$i}}">{{$p.Name}} ({{$p.LatinName}}), ЕГН {{$p.EGN}}</label></div>
{{- end}}
</fieldset>
<fieldset>
<legend>Отговор <span lang="en">/ Response</span></legend>
{{- range $i, $f := .Faults}}
<div><input type="radio" id="fault-{{$i}}" name="fault" value="{{$f.Value}}"{{if eq $i 0}} checked{{end}}>
<label for="fault-{{$i}}">{{$f.Label}}</label></div>
{{- end}}
</fieldset>
<button type="submit" name="action" value="signin">Вход <span lang="en">/ Sign in</span></button>
<button type="submit" name="action" value="cancel">Отказ <span lang="en">/ Cancel</span></button>
</form>
</main>
</body>
</html>
`))

func (s *Simulator) sso(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 128<<10)
	req, err := ParseRequest(r.PostFormValue("SAMLRequest"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	if err := choosePage.Execute(&b, map[string]any{"Req": req, "Action": PathChoose, "SAMLRequest": r.PostFormValue("SAMLRequest"),
		"RelayState": r.PostFormValue("RelayState"), "Persons": s.cfg.Persons, "Faults": PageFaults}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Simulator) choose(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 128<<10)
	req, err := ParseRequest(r.PostFormValue("SAMLRequest"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var f Faults
	i, err := strconv.Atoi(r.PostFormValue("person"))
	if err != nil || i < 0 || i >= len(s.cfg.Persons) {
		http.Error(w, "eauthsim: choose a person", http.StatusBadRequest)
		return
	}
	if r.PostFormValue("action") == "cancel" {
		f.Status = StatusAuthnFailed
	}
	fault := r.PostFormValue("fault")
	switch fault {
	case "", FaultNone, FaultForged:
	case FaultExpired:
		f.Expired = true
	case FaultAudience:
		f.Audience = "urn:aiskao:eauth-sim:another-service"
	case FaultOtherKey:
		if f.Key, f.Cert, err = s.intruder(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	default:
		http.Error(w, "eauthsim: unknown fault", http.StatusBadRequest)
		return
	}
	xml, err := s.Response(req, s.cfg.Persons[i], f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if fault == FaultForged && f.Status == "" {
		xml = forge(xml, s.cfg.Persons[i])
	}
	page, err := eauth.PostForm{URL: req.ACSURL, Field: "SAMLResponse", Value: base64.StdEncoding.EncodeToString(xml),
		RelayState: r.PostFormValue("RelayState"),
		Title:      "Връщане към услугата / Back to the service",
		Text:       "Самоличността е потвърдена от симулатора. / The simulator has confirmed the identity.",
		Button:     "Продължи / Continue"}.Render()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

func (s *Simulator) cert(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(s.CertificatePEM())
}

// metadata serves the identity provider's SAML metadata; its SSO address is on the host asked.
func (s *Simulator) metadata(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	doc := etree.NewDocument()
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", "urn:oasis:names:tc:SAML:2.0:metadata")
	ed.CreateAttr("xmlns:ds", "http://www.w3.org/2000/09/xmldsig#")
	ed.CreateAttr("entityID", s.cfg.EntityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol")
	kd := idp.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(s.cfg.Certificate.Raw))
	sso := idp.CreateElement("md:SingleSignOnService")
	sso.CreateAttr("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
	sso.CreateAttr("Location", scheme+"://"+r.Host+PathSSO)
	doc.Indent(2)
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	doc.WriteTo(w)
}

// newID is a fresh XML ID.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "_" + hex.EncodeToString(b)
}

// signer is the signing context for key and cert, with exclusive canonicalisation as SAML uses.
func signer(key crypto.Signer, cert *x509.Certificate) (*dsig.SigningContext, error) {
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("eauthsim: signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("eauthsim: %w", err)
	}
	return ctx, nil
}

// sign returns el with an enveloped signature placed after its Issuer, where SAML's schema wants it.
func sign(ctx *dsig.SigningContext, el *etree.Element) (*etree.Element, error) {
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return nil, fmt.Errorf("eauthsim: sign: %w", err)
	}
	out := el.Copy()
	out.InsertChildAt(1, sig)
	return out, nil
}
