package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aiskao/aiskao/admin/ops"
)

// opsAccess adds -token and -ops-ca, and returns a function making the client of the operations
// API at base. The token is -token's, else AISKAO_TOKEN's: the environment's value is not the
// flag's default, so that -h never prints it.
func opsAccess(fs flagSet) func(base string) (*ops.Client, error) {
	token := fs.String("token", "", "API token for the operations API; empty: $AISKAO_TOKEN (aiskao tokens create makes one)")
	ca := fs.String("ops-ca", "", "PEM file of the CA of an https operations API's certificate; empty: the system's CAs")
	return func(base string) (*ops.Client, error) {
		tok := *token
		if tok == "" {
			tok = os.Getenv("AISKAO_TOKEN")
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if *ca != "" {
			pem, err := os.ReadFile(*ca)
			if err != nil {
				return nil, fmt.Errorf("-ops-ca: %w", err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("-ops-ca: %s holds no PEM certificate", *ca)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
		return &ops.Client{BaseURL: strings.TrimRight(base, "/"), Token: tok,
			HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
	}
}
