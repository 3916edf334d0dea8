package eauth

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// oidEmailAddress is PKCS #9 emailAddress, which qualified certificates still put in the subject.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// PersonFromTLS returns the person a qualified electronic signature certificate names, from a
// connection whose client certificate the TLS layer has verified (tls.RequireAndVerifyClientCert
// with the qualified CAs as ClientCAs). A connection without a verified chain is refused: the
// certificate presented alone proves nothing.
func PersonFromTLS(cs *tls.ConnectionState) (*Person, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil, refuse(CodeCertificate, "no verified client certificate chain")
	}
	return PersonFromCertificate(cs.VerifiedChains[0][0])
}

// PersonFromCertificate reads the person from a verified certificate's subject: serialNumber as
// the ETSI EN 319 412-1 semantics identifier (PNOBG-<ЕГН>), the name from givenName and surname or
// else the common name, and the e-mail from the subject or the alternative names. The level of
// assurance of a qualified certificate is high.
func PersonFromCertificate(c *x509.Certificate) (*Person, error) {
	if c == nil {
		return nil, refuse(CodeCertificate, "no certificate")
	}
	sn := c.Subject.SerialNumber
	if sn == "" {
		return nil, refuse(CodeCertificate, "subject has no serialNumber")
	}
	kind, num, err := ParseIdentifier(sn)
	if err != nil {
		return nil, &Error{Code: CodeCertificate, Err: err}
	}
	if kind != KindEGN {
		// Only PNOBG names a person the hub can find by ЕГН.
		return nil, refuse(CodeCertificate, "serialNumber of kind %s, want %s", kind, KindEGN)
	}
	p := &Person{Identifier: string(kind) + "-" + num, Kind: kind, EGN: num, Level: LevelHigh, Method: MethodQES}
	name := strings.TrimSpace(strings.Join(nonEmpty(first(c.Subject.Names, oidGivenName), first(c.Subject.Names, oidSurname)), " "))
	if name == "" {
		name = c.Subject.CommonName
	}
	if isLatin(name) {
		p.LatinName = name
	} else {
		p.Name = name
	}
	p.Email = first(c.Subject.Names, oidEmailAddress)
	if p.Email == "" && len(c.EmailAddresses) > 0 {
		p.Email = c.EmailAddresses[0]
	}
	return p, nil
}

var (
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
)

func first(names []pkix.AttributeTypeAndValue, oid asn1.ObjectIdentifier) string {
	for _, n := range names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isLatin reports whether s has no letter outside ASCII.
func isLatin(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return false
		}
	}
	return true
}
