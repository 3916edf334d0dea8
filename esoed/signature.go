package esoed

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// ErrNoSignature is returned by [VerifySignature] for a message that carries no Signature.
var ErrNoSignature = errors.New("esoed: the message carries no signature")

// The signature methods accepted on incoming messages. rsa-sha1 is accepted because the network
// signs with it today (the ССЕВ test node's messages are RSA-SHA1 over SHA-1 digests); it is
// accepted for verifying only, never used for signing.
var verifyMethods = map[string]bool{
	dsig.RSASHA1SignatureMethod:   true,
	dsig.RSASHA256SignatureMethod: true,
	dsig.RSASHA512SignatureMethod: true,
}

// Signed is what a verified signature tells of its signer.
type Signed struct {
	// Certificate is the signer's: the first certificate of KeyInfo.
	Certificate *x509.Certificate
	// Presented are the other certificates KeyInfo carries, candidates for the chain.
	Presented []*x509.Certificate
	// Chain is the chain verified to a trust anchor, signer first, anchor last; nil from
	// [VerifySignatureIntegrity].
	Chain []*x509.Certificate
	// At is the signing time the certificate is judged at: the message's Header/MessageDate,
	// the only time the ЕСОЕД format carries (the network's signatures have no signed
	// properties); zero when the message has none.
	At time.Time
}

// VerifySignature checks the XML-DSig enveloped signature of a message (Signature as the last
// child of Message, Reference URI="" with the enveloped-signature transform, c14n 1.0 or
// exclusive c14n) and that its signer's certificate (the first in KeyInfo, the others being
// candidate intermediates) chains to a trust anchor of trust, was valid at the message's signing
// time (Header/MessageDate) and is not revoked, so that an archived message still verifies
// after its certificate expired. Whether the signer is who the header claims — the
// certificate the registry names for the sender — is for the caller (the checks П.8, И.6,
// И.14, П.15 do it).
//
// A message without a Signature gives [ErrNoSignature]; a signer that does not chain gives an
// error wrapping [ErrUntrusted] (or [ErrRevoked], [ErrRevocationUnknown]); every other failure
// mentions the word "signature" and what does not match. A nil trust trusts no one.
func VerifySignature(ctx context.Context, raw []byte, trust *Trust) (*Signed, error) {
	s, err := VerifySignatureIntegrity(raw)
	if err != nil {
		return nil, err
	}
	at := s.At
	if at.IsZero() {
		return nil, errors.New("esoed: signature: the message has no MessageDate to judge the signer's certificate at")
	}
	if ku := s.Certificate.KeyUsage; ku != 0 && ku&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("esoed: signer: %w: %s (serial %s) is not for digital signatures", ErrUntrusted,
			s.Certificate.Subject, s.Certificate.SerialNumber.Text(16))
	}
	chain, err := trust.Verify(ctx, append([]*x509.Certificate{s.Certificate}, s.Presented...), at, x509.ExtKeyUsageAny)
	if err != nil {
		return nil, fmt.Errorf("esoed: signer: %w", err)
	}
	s.Chain = chain
	return s, nil
}

// VerifySignatureIntegrity checks only that the message is unchanged since the holder of the
// key of the first KeyInfo certificate signed it. It says nothing of who that is: anyone can
// make a certificate with any name and serial number. Use [VerifySignature] to decide whether
// to believe a message; this is for tools that show an untrusted signature for what it is.
func VerifySignatureIntegrity(raw []byte) (*Signed, error) {
	// etree reads any shape; the bounds every reader sits behind come first (one root, no DOCTYPE,
	// depth and size).
	if err := xmllimit.Check(raw, xmllimit.Limits{}, nil); err != nil {
		return nil, fmt.Errorf("esoed: signature: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("esoed: signature: not XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("esoed: signature: not XML: no root element")
	}
	if n := len(doc.ChildElements()); n != 1 {
		// A signed message followed by another: what verifies must be all there is.
		return nil, fmt.Errorf("esoed: signature: not one message: %d root elements", n)
	}
	var sig *etree.Element
	for _, c := range root.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == dsig.Namespace {
			sig = c
		}
	}
	if sig == nil {
		return nil, ErrNoSignature
	}
	method := ""
	if m := sig.FindElement("./SignedInfo/SignatureMethod"); m != nil {
		method = m.SelectAttrValue("Algorithm", "")
	}
	if !verifyMethods[method] {
		return nil, fmt.Errorf("esoed: signature: method %q is not accepted (want rsa-sha1, rsa-sha256 or rsa-sha512)", method)
	}
	s := &Signed{}
	for i, el := range sig.FindElements("./KeyInfo/X509Data/X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(el.Text()), ""))
		if err != nil {
			return nil, fmt.Errorf("esoed: signature: X509Certificate %d is not base64: %w", i+1, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("esoed: signature: X509Certificate %d: %w", i+1, err)
		}
		if s.Certificate == nil {
			s.Certificate = c
		} else {
			s.Presented = append(s.Presented, c)
		}
	}
	if s.Certificate == nil {
		return nil, errors.New("esoed: signature: KeyInfo has no X509Certificate")
	}
	if md := root.FindElement("./Header/MessageDate"); md != nil {
		s.At = signingTime(md.Text())
	}
	cert := s.Certificate
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	// The library refuses certificates outside their validity period; integrity is checked as
	// of the certificate's first valid instant, the period is judged by VerifySignature.
	ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore)
	if _, err := ctx.Validate(root); err != nil {
		return nil, fmt.Errorf("esoed: signature does not verify: %w", err)
	}
	return s, nil
}

// signingTime reads Header/MessageDate (xsd:dateTime, UTC when it has no zone); zero when it
// is not one.
func signingTime(v string) time.Time {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	t, _ := time.Parse("2006-01-02T15:04:05.999999999", v)
	return t
}
