package regixconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aiskao/aiskao/internal/tlsconf"
	"github.com/aiskao/aiskao/spec"
)

// TLS is the transport security of calls to the entry point. RegiX admits
// only administrations that present the client certificate it issued them
// (mutual TLS); the entry point's own certificate is checked against the
// system's roots or the given CA.
type TLS struct {
	CertFile   string `yaml:"cert_file" doc:"PEM file of the administration's client certificate (with its chain) that RegiX issued; relative to the configuration file. Required with key_file." example:"secrets/regix-client.crt"`
	KeyFile    string `yaml:"key_file" doc:"PEM file of the client certificate's private key; relative to the configuration file." example:"secrets/regix-client.key"`
	CAFile     string `yaml:"ca_file" doc:"PEM file of the certificates that the entry point's certificate must chain to; empty trusts the system's roots." example:"secrets/regix-ca.crt"`
	ServerName string `yaml:"server_name" doc:"Name the entry point's certificate must carry when it differs from the URL's host." example:"service-regix.egov.bg"`
	MinVersion string `yaml:"min_version" doc:"Oldest TLS version accepted; empty means 1.2." enum:"1.2,1.3" example:"1.3"`
}

// Validate checks that the certificate and key come together; the field spec checks the rest.
func (t *TLS) Validate() error {
	var errs []error
	if (t.CertFile == "") != (t.KeyFile == "") {
		field := "key_file"
		if t.CertFile == "" {
			field = "cert_file"
		}
		errs = append(errs, spec.FieldErrorf(field, "set cert_file and key_file together: a client certificate needs its key"))
	}
	return errors.Join(errs...)
}

// Config loads the files, relative paths against baseDir, into a TLS
// configuration for the client.
func (t *TLS) Config(baseDir string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.MinVersion == "1.3" {
		cfg.MinVersion = tls.VersionTLS13
	}
	if err := (tlsconf.Files{Cert: t.CertFile, Key: t.KeyFile, CA: t.CAFile}).Load(cfg, baseDir); err != nil {
		return nil, fmt.Errorf("regix: tls: %w", err)
	}
	return cfg, nil
}

// HTTPClient returns an HTTP client for the entry point with this TLS
// configuration. Its own timeout is left unset: the Client bounds each call.
func (t *TLS) HTTPClient(baseDir string) (*http.Client, error) {
	cfg, err := t.Config(baseDir)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	tr.ResponseHeaderTimeout = 0
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr}, nil
}
