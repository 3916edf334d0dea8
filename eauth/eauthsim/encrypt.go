package eauthsim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/beevik/etree"
)

// XML Encryption's algorithms the simulator uses.
const (
	encAES256GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	encRSAOAEP   = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	nsXenc       = "http://www.w3.org/2001/04/xmlenc#"
)

// encrypt wraps the (signed) assertion a into an EncryptedAssertion for cert's RSA key: the
// assertion under a fresh AES-256-GCM key, that key under RSA-OAEP (MGF1 with SHA-1, as the
// algorithm's URI fixes it).
func encrypt(a *etree.Element, cert *x509.Certificate) (*etree.Element, error) {
	if cert == nil {
		return nil, errors.New("eauthsim: the request carries no certificate to encrypt the assertion to")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("eauthsim: cannot encrypt to a %T key", cert.PublicKey)
	}
	doc := etree.NewDocument()
	doc.SetRoot(a)
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("eauthsim: encrypt: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	sealed := gcm.Seal(nonce, nonce, plain, nil)
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, key, nil)
	if err != nil {
		return nil, fmt.Errorf("eauthsim: encrypt key: %w", err)
	}
	ea := etree.NewElement("saml:EncryptedAssertion")
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", nsXenc)
	ed.CreateAttr("Type", nsXenc+"Element")
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", encAES256GCM)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", "http://www.w3.org/2000/09/xmldsig#")
	ek := ki.CreateElement("xenc:EncryptedKey")
	ek.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", encRSAOAEP)
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(sealed))
	return ea, nil
}
