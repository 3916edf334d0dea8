package main

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aiskao/aiskao/eauth/eauthsim"
)

// eauthSimAddr is where `aiskao eauth sim` listens by default, clear of the demo's, the peer's
// and the RegiX simulator's ports (8080, 8081, 8089, 8443, 8444, 9090, 9091).
const eauthSimAddr = "127.0.0.1:8085"

// eauthUsage lists the eauth subcommands.
const eauthUsage = "Usage: aiskao eauth sim [-listen ADDR] [-persons FILE] [-key FILE -cert FILE | -dir DIR] [-entity-id ID] [-encrypt]"

func runEAuth(args []string, stdout, stderr io.Writer) error {
	return runSub("eauth", eauthUsage, map[string]func([]string, io.Writer, io.Writer) error{"sim": runEAuthSim}, args, stdout, stderr)
}

// runEAuthSim runs the eAuth 2.0 identity provider simulator until SIGTERM or SIGINT.
func runEAuthSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eauth sim", "[-listen ADDR] [-persons FILE] [-key FILE -cert FILE | -dir DIR] [-entity-id ID] [-encrypt]\n\n"+
		"Симулатор на доставчика на идентичност на еАвтентикация 2.0 / eAuth 2.0 identity provider simulator:\n"+
		"takes a signed AuthnRequest by HTTP-POST at /sso, lets you pick a fictitious test person, and posts\n"+
		"back a SAML Response signed with its own key. For trying and testing only.", stderr)
	listen := fs.String("listen", eauthSimAddr, "address to listen on (port 0 picks a free one)")
	persons := fs.String("persons", "", "YAML file of test persons (default: the bundled fictitious ones)")
	keyFile := fs.String("key", "", "PEM file of the RSA signing key (with -cert; default: a new key)")
	certFile := fs.String("cert", "", "PEM file of the signing certificate (with -key)")
	dir := fs.String("dir", "", "folder of the key and certificate: made and written there at the first start, then kept (default: a new temporary folder)")
	entityID := fs.String("entity-id", "", "the simulator's entity id (default: http://ADDR/metadata)")
	encrypt := fs.Bool("encrypt", false, "encrypt assertions to the certificate in the request's signature (the production eAuth is reported to; its test environment does not)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which is shown
		}
		return errUsage
	}
	if *listen == "" || fs.NArg() != 0 || (*keyFile == "") != (*certFile == "") || (*keyFile != "" && *dir != "") {
		fs.Usage()
		return errUsage
	}
	var ps []eauthsim.Person
	if *persons != "" {
		var err error
		if ps, err = eauthsim.LoadPersons(*persons); err != nil {
			return err
		}
	}
	key, cert, certPath, err := eauthSimKey(*keyFile, *certFile, *dir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("eauth sim: %w (another address: -listen ADDR)", err)
	}
	base := "http://" + ln.Addr().String()
	if *entityID == "" {
		*entityID = base + eauthsim.PathMetadata
	}
	sim, err := eauthsim.New(eauthsim.Config{EntityID: *entityID, Key: key, Certificate: cert, Persons: ps, Encrypt: *encrypt})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "eAuth simulator listening on %s (%d test persons)\n", base, len(sim.Persons()))
	fmt.Fprintf(stdout, "  entity id: %s\n  SSO (HTTP-POST): %s%s\n  metadata: %s%s\n  certificate: %s\n",
		*entityID, base, eauthsim.PathSSO, base, eauthsim.PathMetadata, certPath)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("eauth sim: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	fmt.Fprintln(stdout, "eAuth simulator stopped")
	return nil
}

// eauthSimKey loads the signing key and certificate, or those written into dir before, or makes
// new ones and writes them into dir (a new temporary folder when empty) so service providers can
// be given the certificate; kept in dir, they stay the same across restarts.
func eauthSimKey(keyFile, certFile, dir string) (*rsa.PrivateKey, *x509.Certificate, string, error) {
	if keyFile == "" && dir != "" {
		k, c := filepath.Join(dir, "eauth-sim.key"), filepath.Join(dir, "eauth-sim.crt")
		if _, err := os.Stat(k); err == nil {
			keyFile, certFile = k, c
		}
	}
	if keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, "", fmt.Errorf("eauth sim: %w", err)
		}
		key, ok := pair.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, "", fmt.Errorf("eauth sim: %s is a %T key; the simulator signs with RSA", keyFile, pair.PrivateKey)
		}
		return key, pair.Leaf, certFile, nil
	}
	key, cert, err := eauthsim.NewKey("aiskao eauth sim")
	if err != nil {
		return nil, nil, "", err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "aiskao-eauth-sim-"); err != nil {
			return nil, nil, "", fmt.Errorf("eauth sim: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, "", fmt.Errorf("eauth sim: %w", err)
	}
	certPath := filepath.Join(dir, "eauth-sim.crt")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return nil, nil, "", fmt.Errorf("eauth sim: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eauth-sim.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return nil, nil, "", fmt.Errorf("eauth sim: %w", err)
	}
	return key, cert, certPath, nil
}
