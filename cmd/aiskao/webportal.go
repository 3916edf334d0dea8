package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	dossierconn "github.com/aiskao/aiskao/connectors/dossier"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/portal"
	"github.com/aiskao/aiskao/routes"
)

func init() { webHandlers["portal"] = buildPortal }

// portalSweep is how often the portal forgets sessions and eAuth sign-ins that have run out.
const portalSweep = 5 * time.Minute

// buildPortal builds the citizens' portal of web.portal over the store of people the
// configuration names. The identity provider's certificate is read when sign-in needs it, so
// that serve starts before the identity provider (the demo's simulator) has written it; until
// then sign-in is refused with a page saying so, and the log says why.
func buildPortal(ctx context.Context, cfg *routes.Config, s webSite, d webDeps) (http.Handler, func(), error) {
	pc := cfg.Web.Portal
	ps, closeStore, err := openPeopleStoreOf(routes.DefaultCatalog(), cfg, d.data)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (http.Handler, func(), error) { closeStore(); return nil, nil, err }
	accounts, err := account.New(ps, ps, ps, ps, account.Config{})
	if err != nil {
		return fail(err)
	}
	secure := strings.HasPrefix(s.publicURL, "https://")
	sessions := session.New(ps, accounts.Principal, session.Config{TLS: secure, Cookie: "aiskao_portal"})
	es, _ := ps.(eauth.Store)
	conf := portal.Config{Sessions: sessions, Accounts: accounts, People: ps, Journal: ps, TLS: secure, Log: d.log.With("site", "portal"),
		Services: portalServices(cfg, d)}
	if e := pc.EAuth; e != nil {
		if es == nil {
			return fail(fmt.Errorf("eauth: store type %s keeps no eAuth sign-ins", cfg.Store.Type))
		}
		ec, certPath, err := portalEAuth(cfg, e, s, d.data)
		if err != nil {
			return fail(fmt.Errorf("eauth: %w", err))
		}
		ec.Requests, ec.Replay = eauth.StoreRequests(es, nil), eauth.StoreReplay(es, nil)
		conf.EAuth = portal.EAuthFromFile(ec, certPath)
		if _, err := conf.EAuth(); err != nil {
			d.log.Warn("portal: sign-in through eAuth is refused until the identity provider's certificate can be read",
				"idp_cert", certPath, "error", err)
		}
	}
	p, err := portal.New(conf)
	if err != nil {
		return fail(err)
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	go p.Sweep(sctx, portalSweep, es)
	return p.Handler(), func() { stop(); closeStore() }, nil
}

// portalEAuth is the service provider's configuration of web.portal.eauth (all but the identity
// provider's certificate, whose file it returns), checked now: a wrong OID stops serve.
func portalEAuth(cfg *routes.Config, e *routes.EAuthSP, s webSite, data string) (eauth.Config, string, error) {
	level, err := eauth.ParseLevel(cmpOr(e.Level, "substantial"))
	if err != nil {
		return eauth.Config{}, "", err
	}
	key, cert, err := portalSAMLKey(resolvePath(cfg.Web.BaseDir, e.Key), resolvePath(cfg.Web.BaseDir, e.Cert), data)
	if err != nil {
		return eauth.Config{}, "", err
	}
	ec := eauth.Config{EntityID: cmpOr(e.EntityID, s.publicURL+"/saml/metadata"), ACSURL: s.publicURL + portal.PathACS,
		IdPSSOURL: e.SSOURL, IdPEntityID: e.IdPEntityID, Key: key, Certificate: cert, Service: e.Service, Provider: e.Provider, Level: level}
	check := ec
	check.IdPCertificate = cert // any certificate, to check the rest now
	if _, err := eauth.New(check); err != nil {
		return eauth.Config{}, "", err
	}
	return ec, resolvePath(cfg.Web.BaseDir, e.IdPCert), nil
}

// portalSAMLKey loads the key and certificate that sign the portal's requests, or, when neither
// is configured, those made in the data folder at the first start (and kept, since eAuth knows
// a service provider by its certificate).
func portalSAMLKey(keyFile, certFile, data string) (crypto.Signer, *x509.Certificate, error) {
	if (keyFile == "") != (certFile == "") {
		return nil, nil, errors.New("set both cert and key, or neither")
	}
	if keyFile == "" {
		keyFile, certFile = filepath.Join(data, "portal-saml.key"), filepath.Join(data, "portal-saml.crt")
		if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
			if err := newSAMLKey(keyFile, certFile); err != nil {
				return nil, nil, err
			}
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: a %T key cannot sign", keyFile, pair.PrivateKey)
	}
	return key, pair.Leaf, nil
}

// newSAMLKey writes a new RSA key and a self-signed certificate for ten years.
func newSAMLKey(keyFile, certFile string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "aiskao portal SAML"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// portalServices is the catalogue of the configuration's dossier connectors, for the start
// page; nil when there is none or it cannot be read (the dossier connector reports that).
func portalServices(cfg *routes.Config, d webDeps) *service.Catalog {
	names := make([]string, 0, len(cfg.Connectors))
	for n := range cfg.Connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := cfg.Connectors[n]
		dc, ok := c.Config.(*dossierconn.Config)
		if c.Type != "dossier" || !ok || dc.Services == "" {
			continue
		}
		cat, err := service.LoadDir(resolvePath(c.BaseDir, dc.Services))
		if err != nil {
			d.log.Warn("portal: the services' catalogue", "error", err)
			return nil
		}
		return cat
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
