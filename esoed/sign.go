package esoed

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signer signs outgoing messages with the administration's transport certificate, as the
// specification requires of every message (И.5, П.7): an XML-DSig enveloped signature, the
// last child of Message, in the form the network uses (and the real ССЕВ message in
// testdata/esoed/status-response.xml has): Signature in the default namespace, canonical XML
// 1.0 (REC-xml-c14n-20010315, without comments), one Reference URI="" with the
// enveloped-signature transform, and KeyInfo/X509Data carrying the certificate.
//
// The one difference from that sample is the algorithm: RSA-SHA256 over a SHA-256 digest
// where the sample has RSA-SHA1 over SHA-1. The specification's security section asks for
// RSA with SHA-256; SHA-1 signatures are accepted when verifying, never produced.
type Signer struct {
	key    crypto.Signer
	certs  []*x509.Certificate
	digest crypto.Hash
}

// NewSigner returns a signer for an RSA key and its certificate, optionally followed by the
// certificates of its chain (written in KeyInfo after it, as the network does).
func NewSigner(key crypto.Signer, cert *x509.Certificate, chain ...*x509.Certificate) (*Signer, error) {
	if key == nil || cert == nil {
		return nil, errors.New("esoed: signer: a key and a certificate are required")
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("esoed: signer: the key is %T, want an RSA key", key.Public())
	}
	if cp, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !cp.Equal(pub) {
		return nil, errors.New("esoed: signer: the certificate is not for this key")
	}
	return &Signer{key: key, certs: append([]*x509.Certificate{cert}, chain...), digest: crypto.SHA256}, nil
}

// LoadSigner reads a PEM certificate (its chain may follow in the same file) and a PEM private
// key, as an administration keeps its transport certificate.
func LoadSigner(certFile, keyFile string) (*Signer, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("esoed: signer: %w", err)
	}
	return SignerFromTLS(pair)
}

// SignerFromTLS returns a signer for a TLS certificate: the transport certificate the endpoint
// also presents on its connections.
func SignerFromTLS(pair tls.Certificate) (*Signer, error) {
	var certs []*x509.Certificate
	for _, der := range pair.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("esoed: signer: certificate: %w", err)
		}
		certs = append(certs, c)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || len(certs) == 0 {
		return nil, errors.New("esoed: signer: the key pair has no usable key or certificate")
	}
	return NewSigner(key, certs[0], certs[1:]...)
}

// Certificate returns the certificate messages are signed with.
func (s *Signer) Certificate() *x509.Certificate { return s.certs[0] }

const (
	c14n10        = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	envelopedAlgo = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// signature returns the Signature element for a message whose canonical form hashes to
// digest, as it is written inside Message.
func (s *Signer) signature(digest []byte) (string, error) {
	info := `<CanonicalizationMethod Algorithm="` + c14n10 + `"></CanonicalizationMethod>` +
		`<SignatureMethod Algorithm="` + dsig.RSASHA256SignatureMethod + `"></SignatureMethod>` +
		`<Reference URI=""><Transforms><Transform Algorithm="` + envelopedAlgo + `"></Transform></Transforms>` +
		`<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod>` +
		`<DigestValue>` + base64.StdEncoding.EncodeToString(digest) + `</DigestValue></Reference>`
	// SignedInfo is canonicalized as the apex of its own subset: it then carries the one
	// namespace in scope, the XML-DSig default declared on Signature.
	h := s.digest.New()
	h.Write([]byte(`<SignedInfo xmlns="` + dsig.Namespace + `">` + info + `</SignedInfo>`))
	value, err := s.key.Sign(rand.Reader, h.Sum(nil), s.digest)
	if err != nil {
		return "", fmt.Errorf("esoed: sign: %w", err)
	}
	sig := `<Signature xmlns="` + dsig.Namespace + `"><SignedInfo>` + info + `</SignedInfo>` +
		`<SignatureValue>` + base64.StdEncoding.EncodeToString(value) + `</SignatureValue><KeyInfo><X509Data>`
	for _, c := range s.certs {
		sig += `<X509Certificate>` + base64.StdEncoding.EncodeToString(c.Raw) + `</X509Certificate>`
	}
	return sig + `</X509Data></KeyInfo></Signature>`, nil
}

// Sign adds the enveloped signature to a message that is already XML (for example one a route
// built), in the same form as [Write] with a signer. A Signature the message already carries
// is replaced. Unlike Write it holds the message as a tree: for messages with large
// attachments, parse and write instead.
func (s *Signer) Sign(raw []byte) ([]byte, error) { return s.sign(raw, time.Time{}) }

// SignDated sets the message's Header/MessageDate to at (the time of signing) and signs it as
// [Signer.Sign] does. The MessageDate is the signing time receivers judge the certificate at;
// a message signed long after the date it carries would claim a time its signer did not sign
// at, and fail at receivers when the certificate was not yet valid then.
func (s *Signer) SignDated(raw []byte, at time.Time) ([]byte, error) {
	if at.IsZero() {
		return nil, errors.New("esoed: sign: no signing time")
	}
	return s.sign(raw, at)
}

func (s *Signer) sign(raw []byte, at time.Time) ([]byte, error) {
	if containsDoctype(raw) {
		return nil, errors.New("esoed: sign: a DOCTYPE is not allowed in a message")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("esoed: sign: not XML: %w", err)
	}
	root := doc.Root()
	if n := len(doc.ChildElements()); n > 1 {
		return nil, fmt.Errorf("esoed: sign: not one message: %d root elements", n)
	}
	if root == nil || root.Tag != "Message" || root.NamespaceURI() != Namespace {
		return nil, fmt.Errorf("esoed: sign: not an ЕСОЕД message (root {%s}Message expected)", Namespace)
	}
	for _, c := range root.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == dsig.Namespace {
			root.RemoveChild(c)
		}
	}
	if !at.IsZero() {
		md := root.FindElement("./Header/MessageDate")
		if md == nil || md.NamespaceURI() != Namespace {
			return nil, errors.New("esoed: sign: the message has no Header/MessageDate to date")
		}
		md.SetText(at.Format(dateTimeLayout))
	}
	ders := make([][]byte, len(s.certs))
	for i, c := range s.certs {
		ders[i] = c.Raw
	}
	ctx, err := dsig.NewSigningContext(s.key, ders)
	if err != nil {
		return nil, fmt.Errorf("esoed: sign: %w", err)
	}
	ctx.Prefix = ""
	ctx.Canonicalizer = dsig.MakeC14N10RecCanonicalizer()
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("esoed: sign: %w", err)
	}
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		return nil, fmt.Errorf("esoed: sign: %w", err)
	}
	doc.SetRoot(signed)
	doc.WriteSettings.CanonicalEndTags = true
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("esoed: sign: %w", err)
	}
	return out, nil
}
