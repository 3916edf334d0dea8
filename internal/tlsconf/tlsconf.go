// Package tlsconf reads the files of a TLS client configuration that connectors name in their
// options: a client certificate with its key, and the CA certificates the server's certificate
// must chain to. Each connector keeps its own option names and error prefixes.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
)

// Path returns name inside base (the configuration's folder) when it is relative; an absolute or
// empty name, or an empty base, is returned as it is.
func Path(base, name string) string {
	if name == "" || filepath.IsAbs(name) || base == "" {
		return name
	}
	return filepath.Join(base, name)
}

// Roots reads the PEM certificates in file into a pool; a file that holds none is an error.
func Roots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// Files names the files of a client's TLS settings, relative to the configuration's folder.
type Files struct {
	Cert string // PEM client certificate chain; empty: none
	Key  string // its PEM private key
	CA   string // PEM CA certificates; empty: the system's
}

// Load puts the client certificate of f.Cert and f.Key (when Cert is set) and the roots of f.CA
// (when set) into conf, reading the files relative to base. Its errors name the files, not the
// options: the caller says which option they come from.
func (f Files) Load(conf *tls.Config, base string) error {
	if f.Cert != "" {
		pair, err := tls.LoadX509KeyPair(Path(base, f.Cert), Path(base, f.Key))
		if err != nil {
			return fmt.Errorf("client certificate %s with key %s: %w", f.Cert, f.Key, err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if f.CA != "" {
		roots, err := Roots(Path(base, f.CA))
		if err != nil {
			return fmt.Errorf("CA certificates: %w", err)
		}
		conf.RootCAs = roots
	}
	return nil
}
