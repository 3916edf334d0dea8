package httpauth

import (
	"crypto/x509"
	"net/http"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// Certificate authenticates TLS client certificates that chain to Roots and are meant for client
// authentication. The listener asks for a certificate without checking it (tls.RequestClientCert),
// so that listeners shared by several paths can each trust their own CAs; the check is here.
type Certificate struct {
	Roots *x509.CertPool
	// Roles maps a certificate's subject (as crypto/x509 writes it, "CN=hub,O=Община") to the
	// role it is given. A subject absent from Roles is refused, unless Default is set.
	Roles map[string]identity.Role
	// Default is the role of a trusted certificate whose subject is not in Roles; empty refuses it.
	Default identity.Role
	// Now returns the time certificates are checked at; nil is time.Now.
	Now func() time.Time
}

// Scheme implements Authenticator. Client certificates have no HTTP scheme; the challenge still
// names Bearer-less TLS so that a client knows what is wanted.
func (Certificate) Scheme() string { return "TLS-Client-Certificate" }

// Authenticate implements Authenticator: a request without a client certificate carries no
// credentials of this kind.
func (c Certificate) Authenticate(r *http.Request) (*identity.Principal, *Refusal) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, ic := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if c.Roots == nil {
		return nil, Unauthorized(ReasonUntrusted, "no client certificates are trusted here")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.Roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		if ie, ok := err.(x509.CertificateInvalidError); ok && ie.Reason == x509.Expired {
			return nil, Unauthorized(ReasonExpired, "the client certificate has expired or is not yet valid")
		}
		return nil, Unauthorized(ReasonUntrusted, "the client certificate is not trusted: "+err.Error())
	}
	subject := leaf.Subject.String()
	role, ok := c.Roles[subject]
	if !ok {
		role = c.Default
	}
	if role == "" {
		return nil, Unauthorized(ReasonUntrusted, "client certificate subject "+subject+" is not allowed")
	}
	return &identity.Principal{Name: subject, Kind: identity.KindCertificate, Roles: []identity.Role{role}}, nil
}
