package esoed

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
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

// VerifySignature checks the XML-DSig enveloped signature of a message (Signature as the last
// child of Message, Reference URI="" with the enveloped-signature transform, c14n 1.0 or
// exclusive c14n) against the first certificate in its KeyInfo, and returns that certificate.
//
// It checks integrity only: that the message is unchanged since the holder of the certificate's
// key signed it. Whether the signer is who the header claims — the certificate belongs to the
// sender in the participants registry — and whether the certificate is within its validity
// period are for the caller to decide with the returned certificate; the period is not checked
// here because archived messages stay verifiable after their certificate expires.
//
// A message without a Signature gives [ErrNoSignature]; every other failure mentions the word
// "signature" and what does not match.
func VerifySignature(raw []byte) (*x509.Certificate, error) {
	if bytes.Contains(raw, []byte("<!DOCTYPE")) {
		return nil, errors.New("esoed: signature: a DOCTYPE is not allowed in a message")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("esoed: signature: not XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("esoed: signature: not XML: no root element")
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
	certEl := sig.FindElement("./KeyInfo/X509Data/X509Certificate")
	if certEl == nil {
		return nil, errors.New("esoed: signature: KeyInfo has no X509Certificate")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(certEl.Text()), ""))
	if err != nil {
		return nil, fmt.Errorf("esoed: signature: X509Certificate is not base64: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("esoed: signature: X509Certificate: %w", err)
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	// The library refuses certificates outside their validity period; verification is done as
	// of the certificate's first valid instant so that the period is left to the caller.
	ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore)
	if _, err := ctx.Validate(root); err != nil {
		return nil, fmt.Errorf("esoed: signature does not verify: %w", err)
	}
	return cert, nil
}
