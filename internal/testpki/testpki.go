// Package testpki makes certificate authorities and the certificates they issue, for tests of
// TLS servers and client-certificate checks.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

var serial atomic.Int64

// CA is a certificate authority valid from an hour ago for a day.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// New makes a CA named cn.
func New(t testing.TB, cn string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, key: key}
}

// Leaf describes a certificate to issue.
type Leaf struct {
	Subject  pkix.Name
	Usage    x509.ExtKeyUsage // client or server authentication
	NotAfter time.Time        // zero: in an hour
	IPs      []net.IP         // subject alternative names of a server
	DNSNames []string         // likewise
}

// Issue makes a certificate for l signed by the CA.
func (ca *CA) Issue(t testing.TB, l Leaf) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if l.NotAfter.IsZero() {
		l.NotAfter = time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: l.Subject, ExtKeyUsage: []x509.ExtKeyUsage{l.Usage},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: l.NotAfter, IPAddresses: l.IPs, DNSNames: l.DNSNames}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// WriteCA writes the CA's certificate as PEM into dir/name and returns the path.
func (ca *CA) WriteCA(t testing.TB, dir, name string) string {
	t.Helper()
	return write(t, filepath.Join(dir, name), &pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// WritePair writes c's certificate and key as PEM into dir/name.pem and dir/name.key.
func WritePair(t testing.TB, c tls.Certificate, dir, name string) (certFile, keyFile string) {
	t.Helper()
	return writePair(t, c, filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
}

// writePair writes c's certificate into certFile and its key, PKCS #8, into keyFile.
func writePair(t testing.TB, c tls.Certificate, certFile, keyFile string) (string, string) {
	t.Helper()
	k, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return write(t, certFile, &pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		write(t, keyFile, &pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

func write(t testing.TB, file string, b *pem.Block) string {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// Client is an HTTPS client presenting cert (nil: none) that trusts any server, for tests whose
// subject is the server's check of the client, not the client's of the server.
func Client(cert *tls.Certificate) *http.Client {
	return client(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, cert)
}

// Client is an HTTPS client presenting cert (nil: none) that trusts the servers ca issued.
func (ca *CA) Client(cert *tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return client(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, cert)
}

func client(cfg *tls.Config, cert *tls.Certificate) *http.Client {
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// MutualTLS writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, as PEM files in dir (ca.crt, client.crt, client.key),
// and returns the CA as a pool and the server's key pair. The server's certificate is named
// "cert 2", the client's "cert 3".
func MutualTLS(t testing.TB, dir string) (caPool *x509.CertPool, serverCert tls.Certificate) {
	t.Helper()
	ca := New(t, "test CA")
	ca.WriteCA(t, dir, "ca.crt")
	caPool = x509.NewCertPool()
	caPool.AddCert(ca.Cert)
	serverCert = ca.Issue(t, Leaf{Subject: pkix.Name{CommonName: "cert 2"}, Usage: x509.ExtKeyUsageServerAuth, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	client := ca.Issue(t, Leaf{Subject: pkix.Name{CommonName: "cert 3"}, Usage: x509.ExtKeyUsageClientAuth})
	writePair(t, client, filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	return caPool, serverCert
}
