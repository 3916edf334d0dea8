package esoed

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrUntrusted is wrapped by every refusal of [Trust.Verify] that is about the certificate's
// chain: not issued by a configured authority, outside its validity period, not for the use.
var ErrUntrusted = errors.New("the certificate does not chain to a configured trust anchor")

// Trust decides whether a certificate of the exchange is to be believed: it must chain to one
// of the configured trust anchors (the authorities that issue transport certificates), be within
// its validity period at the time judged, be for the use asked, and not be revoked. It serves
// the TLS connections (client certificates at the endpoint, server certificates when sending)
// and the signatures of messages alike.
//
// A certificate the registry names only by its serial number is identified by its issuer too:
// serial numbers are unique per issuer only. [Trust.Issued] tells whether the issuer of a
// verified chain is one of the certificates configured here (see [Entity.HasCertificate]).
type Trust struct {
	roots, intermediates *x509.CertPool
	configured           map[string]bool // raw subjects of the configured certificates
	revocation           *Revocation
}

// NewTrust returns a trust built on the anchors (at least one) and the intermediate authorities
// given, checking revocation with rev (nil: not checked, which only tests and tools should do).
func NewTrust(anchors, intermediates []*x509.Certificate, rev *Revocation) (*Trust, error) {
	if len(anchors) == 0 {
		return nil, errors.New("esoed: trust: no trust anchor: give the certificates of the authorities that issue transport certificates")
	}
	t := &Trust{roots: x509.NewCertPool(), intermediates: x509.NewCertPool(), configured: map[string]bool{}, revocation: rev}
	for _, c := range anchors {
		t.roots.AddCert(c)
		t.configured[string(c.RawSubject)] = true
	}
	for _, c := range intermediates {
		t.intermediates.AddCert(c)
		t.configured[string(c.RawSubject)] = true
	}
	return t, nil
}

// ReadCertificates reads every CERTIFICATE block of a PEM file; a file without one is an error.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no PEM CERTIFICATE block", path)
	}
	return out, nil
}

// Verify checks chain[0], with chain[1:] as candidate intermediates (what a TLS peer or a
// signature's KeyInfo presents), at the time at (the handshake's for a connection, the
// message's signing time for a signature), for the use given (x509.ExtKeyUsageAny for
// signatures). It returns the verified chain, leaf first, anchor last. Revocation is checked
// for every certificate of the chain but the anchor.
func (t *Trust) Verify(ctx context.Context, chain []*x509.Certificate, at time.Time, usage x509.ExtKeyUsage) ([]*x509.Certificate, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: no trust anchors are configured", ErrUntrusted)
	}
	if len(chain) == 0 || chain[0] == nil {
		return nil, errors.New("no certificate")
	}
	leaf := chain[0]
	inter := t.intermediates.Clone()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: t.roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return nil, fmt.Errorf("%w: %s (serial %s, issuer %s) at %s: %w", ErrUntrusted, leaf.Subject, leaf.SerialNumber.Text(16), leaf.Issuer,
			at.UTC().Format(time.RFC3339), err)
	}
	verified := chains[0]
	if t.revocation != nil {
		for i := 0; i+1 < len(verified); i++ {
			if err := t.revocation.Check(ctx, verified[i], verified[i+1], at); err != nil {
				return nil, err
			}
		}
	}
	return verified, nil
}

// Issued reports whether the issuer of a verified chain (its second certificate) is one of
// the authorities configured in the trust, by subject: with the leaf's serial number it is the
// (issuer, serial) pair that names a certificate when the registry gives only the serial.
func (t *Trust) Issued(verified []*x509.Certificate) bool {
	return t != nil && len(verified) >= 2 && t.configured[string(verified[1].RawSubject)] &&
		bytes.Equal(verified[0].RawIssuer, verified[1].RawSubject)
}
