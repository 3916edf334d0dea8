package esoed

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrUnknownParticipant is returned by a [Registry] for an identifier or GUID it does not hold.
var ErrUnknownParticipant = errors.New("esoed: participant not in the registry")

// DocumentServiceGUID identifies the service kind "Документооборот" (document exchange) in the
// participants registry; an entity's endpoint is its active service of this kind and of type
// "service".
const DocumentServiceGUID = "7060efa8-f1fa-4938-8b2b-12a78c86988f"

// Registry is the participants registry (Регистър на участниците) as the exchange uses it.
type Registry interface {
	// Lookup returns the participant with the ЕИК/БУЛСТАТ or the GUID (with or without braces)
	// given, or an error wrapping [ErrUnknownParticipant].
	Lookup(ctx context.Context, key string) (*Entity, error)
}

// Entity is a participant as the registry describes it (EGovRegistry.xsd, Entity).
type Entity struct {
	Identifier string `json:"identifier" yaml:"identifier"` // EntityIdentifier: ЕИК/БУЛСТАТ
	GUID       string `json:"guid" yaml:"guid"`             // in braces
	ParentGUID string `json:"parent_guid,omitempty" yaml:"parent_guid,omitempty"`
	Name       string `json:"name" yaml:"name"` // AdministrativeBodyName
	Contact    struct {
		Phone string `json:"phone,omitempty" yaml:"phone,omitempty"`
		Fax   string `json:"fax,omitempty" yaml:"fax,omitempty"`
		Email string `json:"email,omitempty" yaml:"email,omitempty"`
	} `json:"contact" yaml:"contact"`
	// CertificateSN is the serial number of the transport certificate, lower-case hexadecimal,
	// as the registry publishes it.
	CertificateSN string `json:"certificate_sn,omitempty" yaml:"certificate_sn,omitempty"`
	// CertificateIssuer is the distinguished name of the transport certificate's issuer, when
	// the source gives it (a registry file may; the central registry does not), as Go prints
	// it (pkix.Name.String, RFC 2253 order: "CN=…,O=…,C=BG").
	CertificateIssuer string `json:"certificate_issuer,omitempty" yaml:"certificate_issuer,omitempty"`
	// Endpoints are the entity's services (kind, type, URI, status).
	Endpoints  []EntityService `json:"services,omitempty" yaml:"services,omitempty"`
	LastChange time.Time       `json:"last_change,omitzero" yaml:"last_change,omitempty"`
	Status     string          `json:"status" yaml:"status"` // Active or Inactive
	// Certificate is the transport certificate itself, when the source has it (a registry file
	// does; the registry's SOAP service publishes only the serial number).
	Certificate *x509.Certificate `json:"-" yaml:"-"`
}

// EntityService is a service (an access point) of a participant.
type EntityService struct {
	GUID    string `json:"guid" yaml:"guid"` // the service kind, DocumentServiceGUID for the exchange
	Name    string `json:"name,omitempty" yaml:"name,omitempty"`
	URI     string `json:"uri" yaml:"uri"`
	Status  string `json:"status" yaml:"status"` // Active, TemporarilyInactive, PermanentlyInactive
	Type    string `json:"type" yaml:"type"`     // "service" or "email"
	Version int    `json:"version,omitempty" yaml:"version,omitempty"`
}

// Active reports whether the registry lists the participant as active.
func (e *Entity) Active() bool { return strings.EqualFold(e.Status, "Active") }

// Endpoint returns the URL of the participant's exchange endpoint: its active service of the
// document-exchange kind and type "service".
func (e *Entity) Endpoint() (string, bool) {
	for _, s := range e.Endpoints {
		if strings.EqualFold(strings.Trim(s.GUID, "{}"), DocumentServiceGUID) && s.Type == "service" && strings.EqualFold(s.Status, "Active") {
			return s.URI, true
		}
	}
	return "", false
}

// Participant returns the participant as a message header names it.
func (e *Entity) Participant() Participant {
	return Participant{Identifier: e.Identifier, AdministrativeBodyName: e.Name, GUID: e.GUID}
}

// Matches reports whether p (from a message header) is this participant: both the GUID and
// the ЕИК/БУЛСТАТ must match, as the specification requires.
func (e *Entity) Matches(p Participant) bool {
	return strings.EqualFold(strings.Trim(e.GUID, "{}"), strings.Trim(p.GUID, "{}")) && e.Identifier == p.Identifier
}

// HasCertificate reports whether cert is the participant's transport certificate by what the
// registry says of it: the same certificate when the registry holds it, otherwise the same
// serial number and, when the registry names it, the same issuer. A serial number alone names
// nothing (anyone can make a certificate with it): use [Entity.Identifies] on a verified chain.
func (e *Entity) HasCertificate(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	if e.Certificate != nil {
		return e.Certificate.Equal(cert)
	}
	if e.CertificateIssuer != "" && !strings.EqualFold(e.CertificateIssuer, cert.Issuer.String()) {
		return false
	}
	return e.CertificateSN != "" && strings.EqualFold(strings.TrimLeft(e.CertificateSN, "0"), strings.TrimLeft(cert.SerialNumber.Text(16), "0"))
}

// Identifies checks that a chain trust verified (leaf first) is the participant's transport
// certificate: [Entity.HasCertificate], and, when the registry gives only a serial number and no
// issuer, an issuer configured in the trust, so that the (issuer, serial) pair names one
// certificate.
func (e *Entity) Identifies(verified []*x509.Certificate, trust *Trust) error {
	if len(verified) == 0 {
		return errors.New("no certificate")
	}
	cert := verified[0]
	if !e.HasCertificate(cert) {
		want := "serial " + e.CertificateSN
		if e.Certificate != nil {
			want = e.Certificate.Subject.String() + " serial " + e.Certificate.SerialNumber.Text(16) + " issued by " + e.Certificate.Issuer.String()
		} else if e.CertificateIssuer != "" {
			want += " issued by " + e.CertificateIssuer
		}
		return fmt.Errorf("the certificate is %s serial %s issued by %s; the registry names %s for %s",
			cert.Subject, cert.SerialNumber.Text(16), cert.Issuer, want, e.Identifier)
	}
	if e.Certificate == nil && e.CertificateIssuer == "" && !trust.Issued(verified) {
		return fmt.Errorf("the registry names %s only by serial %s, and the certificate's issuer %s is not one of the configured authorities",
			e.Identifier, e.CertificateSN, cert.Issuer)
	}
	return nil
}

// normalGUID returns a GUID in braces, lower case, or "" when key is not a GUID.
func normalGUID(key string) string {
	k := strings.TrimSpace(key)
	if !strings.HasPrefix(k, "{") {
		k = "{" + k + "}"
	}
	if !ValidGUID(k) {
		return ""
	}
	return strings.ToLower(k)
}

// FileRegistry is a registry held in a file: for tests, the demo and participants the
// central registry does not reach. See [LoadRegistryFile] for the format.
type FileRegistry struct {
	byKey map[string]*Entity
}

// registryFile is the shape of a registry file.
type registryFile struct {
	Participants []struct {
		Entity `yaml:",inline"`
		// CertificateFile is a PEM file with the transport certificate, relative to the
		// registry file; the serial number is then taken from it.
		CertificateFile string `json:"certificate_file,omitempty" yaml:"certificate_file,omitempty"`
	} `json:"participants" yaml:"participants"`
}

// LoadRegistryFile reads a registry file, YAML (or JSON, which is YAML too):
//
//	participants:
//	  - identifier: "000471504"
//	    guid: "{805fd26b-4b64-4823-a7b5-d40315c4b783}"
//	    name: Община Пловдив
//	    status: Active
//	    certificate_file: plovdiv.crt      # or certificate_sn: 115bb578aa583303
//	                                       # (with certificate_issuer: "CN=…,O=…,C=BG")
//	    services:
//	      - { guid: 7060efa8-f1fa-4938-8b2b-12a78c86988f, type: service, status: Active, uri: "https://seos.plovdiv.example/EGovExchange" }
func LoadRegistryFile(path string) (*FileRegistry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("esoed: registry file: %w", err)
	}
	var f registryFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("esoed: registry file %s: %w", path, err)
	}
	var es []Entity
	for i, p := range f.Participants {
		e := p.Entity
		where := fmt.Sprintf("esoed: registry file %s: participants[%d]", path, i)
		if p.CertificateFile != "" {
			cf := p.CertificateFile
			if !filepath.IsAbs(cf) {
				cf = filepath.Join(filepath.Dir(path), cf)
			}
			c, err := readCertificate(cf)
			if err != nil {
				return nil, fmt.Errorf("%s.certificate_file: %w", where, err)
			}
			e.Certificate = c
			e.CertificateSN = c.SerialNumber.Text(16)
			e.CertificateIssuer = c.Issuer.String()
		}
		es = append(es, e)
	}
	r, err := NewFileRegistry(es...)
	if err != nil {
		return nil, fmt.Errorf("esoed: registry file %s: %w", path, err)
	}
	return r, nil
}

func readCertificate(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(b.Bytes)
}

// NewFileRegistry returns a registry of the entities given; each needs an identifier and a
// GUID in braces, both unique.
func NewFileRegistry(es ...Entity) (*FileRegistry, error) {
	r := &FileRegistry{byKey: map[string]*Entity{}}
	for i := range es {
		e := es[i]
		if e.Identifier == "" {
			return nil, fmt.Errorf("participants[%d].identifier is missing", i)
		}
		g := normalGUID(e.GUID)
		if g == "" || !strings.HasPrefix(e.GUID, "{") {
			return nil, fmt.Errorf("participants[%d].guid: %q is not a GUID in braces", i, e.GUID)
		}
		if e.Status == "" {
			e.Status = "Active"
		}
		for _, k := range []string{e.Identifier, g} {
			if _, dup := r.byKey[k]; dup {
				return nil, fmt.Errorf("participants[%d]: %s appears twice", i, k)
			}
			r.byKey[k] = &e
		}
	}
	return r, nil
}

// Lookup implements [Registry].
func (r *FileRegistry) Lookup(_ context.Context, key string) (*Entity, error) {
	k := strings.TrimSpace(key)
	if g := normalGUID(k); g != "" {
		k = g
	}
	if e, ok := r.byKey[k]; ok {
		c := *e
		return &c, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownParticipant, key)
}

// CachedRegistry keeps what another registry answers for a time (the specification's
// "offline mode"), so that the central registry is not asked on every message. Unknown
// participants are not cached: one registered a minute ago is found at once.
type CachedRegistry struct {
	next Registry
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	e       *Entity
	expires time.Time
}

// NewCachedRegistry wraps next with a cache whose entries live for ttl; now is the clock (nil
// for time.Now).
func NewCachedRegistry(next Registry, ttl time.Duration, now func() time.Time) *CachedRegistry {
	if now == nil {
		now = time.Now
	}
	return &CachedRegistry{next: next, ttl: ttl, now: now, entries: map[string]cacheEntry{}}
}

// Lookup implements [Registry].
func (c *CachedRegistry) Lookup(ctx context.Context, key string) (*Entity, error) {
	k := strings.TrimSpace(key)
	if g := normalGUID(k); g != "" {
		k = g
	}
	now := c.now()
	c.mu.Lock()
	ent, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Before(ent.expires) {
		e := *ent.e
		return &e, nil
	}
	e, err := c.next.Lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 100_000 {
		clear(c.entries) // a bound, not a policy: the registry has a few thousand participants
	}
	exp := cacheEntry{e: e, expires: now.Add(c.ttl)}
	c.entries[k] = exp
	c.entries[e.Identifier] = exp
	if g := normalGUID(e.GUID); g != "" {
		c.entries[g] = exp
	}
	c.mu.Unlock()
	cp := *e
	return &cp, nil
}
