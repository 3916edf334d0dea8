package esoedconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/hub/store"
	"github.com/aiskao/aiskao/hub/store/sqlite"
)

// admin is a participant of the test exchange with its transport certificate.
type admin struct {
	id, guid, name string
	pair           tls.Certificate
	cert           *x509.Certificate
	signer         *esoed.Signer
	certFile       string
	keyFile        string
	status         string // registry status; "" is Active
	endpoint       string // registry URI of the endpoint
	bySerial       bool   // the registry names the certificate by serial number only, as the central registry does
}

func (a *admin) participant() esoed.Participant {
	return esoed.Participant{Identifier: a.id, AdministrativeBodyName: a.name, GUID: a.guid}
}

// world is a set of administrations whose transport certificates one test CA issued.
type world struct {
	dir    string
	caFile string
	ca     *x509.Certificate
	caKey  *rsa.PrivateKey
	serial int64

	// The CA's CRL, served in the test; every certificate it issues names it.
	crl     *httptest.Server
	crlHits atomic.Int32
	mu      sync.Mutex
	revoked []x509.RevocationListEntry
}

var keys = struct {
	sync.Mutex
	pool []*rsa.PrivateKey
}{}

// key returns an RSA key; keys are shared between tests, generating them is slow.
func key(t testing.TB, i int) *rsa.PrivateKey {
	keys.Lock()
	defer keys.Unlock()
	for len(keys.pool) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys.pool = append(keys.pool, k)
	}
	return keys.pool[i]
}

func newWorld(t testing.TB) *world {
	w := &world{dir: t.TempDir(), caKey: key(t, 0), serial: 100}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test transport CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &w.caKey.PublicKey, w.caKey)
	if err != nil {
		t.Fatal(err)
	}
	w.ca, _ = x509.ParseCertificate(der)
	w.caFile = filepath.Join(w.dir, "ca.pem")
	writePEM(t, w.caFile, "CERTIFICATE", der)
	w.crl = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		w.crlHits.Add(1)
		w.mu.Lock()
		tmpl := &x509.RevocationList{Number: big.NewInt(int64(w.crlHits.Load())), ThisUpdate: time.Now().Add(-time.Minute),
			NextUpdate: time.Now().Add(time.Hour), RevokedCertificateEntries: w.revoked}
		w.mu.Unlock()
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, w.ca, w.caKey)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Write(der)
	}))
	t.Cleanup(w.crl.Close)
	return w
}

// trust is a trust in the world's CA, without revocation.
func (w *world) trust(t testing.TB) *esoed.Trust {
	tr, err := esoed.NewTrust([]*x509.Certificate{w.ca}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// revoke lists cert in the CA's CRL.
func (w *world) revoke(cert *x509.Certificate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.revoked = append(w.revoked, x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute), ReasonCode: 1})
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// admin makes an administration with a certificate from the CA (selfSigned: its own) valid
// from notBefore to notAfter (zero: from an hour ago for a day).
func (w *world) admin(t testing.TB, keyIndex int, id, guid, name string, selfSigned bool, notAfter time.Time) *admin {
	w.serial++
	k := key(t, keyIndex)
	if notAfter.IsZero() {
		notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(w.serial<<20 + int64(keyIndex)), Subject: pkix.Name{CommonName: name, SerialNumber: id},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, DNSNames: []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		CRLDistributionPoints: []string{w.crl.URL + "/ca.crl"}}
	parent, pkey := w.ca, w.caKey
	if selfSigned {
		parent, pkey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, pkey)
	if err != nil {
		t.Fatal(err)
	}
	a := &admin{id: id, guid: guid, name: name}
	a.cert, _ = x509.ParseCertificate(der)
	base := fmt.Sprintf("%s-%d", id, w.serial)
	a.certFile, a.keyFile = filepath.Join(w.dir, base+".crt"), filepath.Join(w.dir, base+".key")
	writePEM(t, a.certFile, "CERTIFICATE", der)
	writePEM(t, a.keyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	a.pair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: a.cert}
	if a.signer, err = esoed.SignerFromTLS(a.pair); err != nil {
		t.Fatal(err)
	}
	return a
}

// forge makes a self-signed certificate that copies victim's subject, issuer name and serial
// number, with key keyIndex: what anyone can make without the CA.
func (w *world) forge(t testing.TB, victim *admin, keyIndex int) *admin {
	k := key(t, keyIndex)
	tmpl := *victim.cert
	tmpl.PublicKey, tmpl.Raw, tmpl.RawTBSCertificate, tmpl.Signature = nil, nil, nil, nil
	fakeCA := &x509.Certificate{Subject: w.ca.Subject, PublicKey: &k.PublicKey}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, fakeCA, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	f := &admin{id: victim.id, guid: victim.guid, name: victim.name}
	f.cert, _ = x509.ParseCertificate(der)
	f.pair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: f.cert}
	if f.signer, err = esoed.SignerFromTLS(f.pair); err != nil {
		t.Fatal(err)
	}
	return f
}

// registry writes a registry file listing the administrations and returns its path.
func (w *world) registry(t testing.TB, name string, admins ...*admin) string {
	var b strings.Builder
	b.WriteString("participants:\n")
	for _, a := range admins {
		status := a.status
		if status == "" {
			status = "Active"
		}
		fmt.Fprintf(&b, "  - identifier: %q\n    guid: %q\n    name: %q\n    status: %s\n", a.id, a.guid, a.name, status)
		if a.bySerial {
			fmt.Fprintf(&b, "    certificate_sn: %s\n", a.cert.SerialNumber.Text(16))
		} else {
			fmt.Fprintf(&b, "    certificate_file: %s\n", filepath.Base(a.certFile))
		}
		if a.endpoint != "" {
			fmt.Fprintf(&b, "    services:\n      - { guid: %s, type: service, status: Active, uri: %q }\n", esoed.DocumentServiceGUID, a.endpoint)
		}
	}
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newStore(t testing.TB) store.Store {
	dir := t.TempDir()
	st, err := sqlite.New(sqlite.Config{File: filepath.Join(dir, "hub.db")}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// config is the options of a connector acting for a.
func (w *world) config(a *admin, registry string) *Config {
	return &Config{
		Participants: []Participant{{Identifier: a.id, GUID: a.guid, Name: a.name}},
		Listen:       "127.0.0.1:0",
		Cert:         filepath.Base(a.certFile),
		Key:          filepath.Base(a.keyFile),
		CA:           "ca.pem",
		RegistryFile: filepath.Base(registry),
	}
}

// collector is the hub as a source sees it: it keeps what is emitted, or refuses it.
type collector struct {
	mu   sync.Mutex
	msgs []*message.Message
	fail error
}

func (c *collector) emit(_ context.Context, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.msgs = append(c.msgs, msgs...)
	return nil
}

func (c *collector) all() []*message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*message.Message(nil), c.msgs...)
}

// endpoint is a running source.
type endpoint struct {
	src   *source
	st    store.Store
	hub   *collector
	url   string
	admin *admin
}

// startSource runs the endpoint of a on 127.0.0.1:0 until the test ends.
func (w *world) startSource(t testing.TB, a *admin, cfg *Config, st store.Store) *endpoint {
	t.Helper()
	s, err := newSource(cfg, connectors.Env{Name: "esoed-" + a.id, BaseDir: w.dir, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hub := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, hub.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	defer acancel()
	addr, err := s.Addr(actx)
	if err != nil {
		t.Fatal(err)
	}
	ep := &endpoint{src: s, st: st, hub: hub, url: "https://" + addr.String() + "/EGovExchange", admin: a}
	a.endpoint = ep.url
	return ep
}

// client is an HTTPS client presenting cert (nil: none); it trusts any server.
func client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// submit sends raw in a Submit request presenting cert and returns the answer or the fault.
func submit(t testing.TB, url string, cert *tls.Certificate, raw []byte) ([]byte, *esoed.Fault) {
	t.Helper()
	answer, err := esoed.Submit(context.Background(), client(cert), url, raw)
	var f *esoed.Fault
	if errors.As(err, &f) {
		return nil, f
	}
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return answer, nil
}

// post sends body as it is and returns the status and the answer.
func post(t testing.TB, url string, cert *tls.Certificate, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", esoed.SOAPContentType)
	resp, err := client(cert).Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var docDate = time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)

// registration is a registration request from one to another for document doc.
func registration(from, to *admin, doc string, attachments ...esoed.Attachment) *esoed.Message {
	return &esoed.Message{
		Header: esoed.Header{MessageDate: time.Now(), Sender: from.participant(), Recipient: to.participant(), MessageGUID: newGUID()},
		Body: esoed.Body{RegistrationRequest: &esoed.RegistrationRequest{Document: esoed.Document{
			ID:             esoed.DocID{Number: &esoed.DocNumber{Number: "СО-94-00-1234", Date: docDate}, GUID: doc},
			Kind:           "Заявление",
			About:          "Издаване на удостоверение за наследници",
			Attachments:    attachments,
			Correspondents: []esoed.Correspondent{{Name: "Иван Петров", City: "София", Kind: esoed.CorrApplicant}},
		}}},
	}
}

func statusRequest(from, to *admin, doc string) *esoed.Message {
	return &esoed.Message{
		Header: esoed.Header{MessageDate: time.Now(), Sender: from.participant(), Recipient: to.participant(), MessageGUID: newGUID()},
		Body:   esoed.Body{StatusRequest: &esoed.StatusRequest{DocID: esoed.DocID{Number: &esoed.DocNumber{Number: "СО-94-00-1234", Date: docDate}, GUID: doc}}},
	}
}

func statusResponse(from, to *admin, doc, status string) *esoed.Message {
	sr := &esoed.StatusResponse{DocID: esoed.DocID{Number: &esoed.DocNumber{Number: "ПД-12-" + status[3:6], Date: docDate}, GUID: doc}, Status: status}
	if status == esoed.StatusRejected {
		sr.RejectionReason = "Непълен комплект документи"
	}
	if status == esoed.StatusRegistered {
		sr.ExpectCloseDate = docDate.AddDate(0, 0, 14)
	}
	return &esoed.Message{
		Header: esoed.Header{MessageDate: time.Now(), Sender: from.participant(), Recipient: to.participant(), MessageGUID: newGUID()},
		Body:   esoed.Body{StatusResponse: sr},
	}
}

func marshal(t testing.TB, m *esoed.Message, s *esoed.Signer) []byte {
	t.Helper()
	raw, err := esoed.Marshal(m, s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func parse(t testing.TB, raw []byte) *esoed.Message {
	t.Helper()
	m, _, err := esoed.ParseMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, raw)
	}
	return m
}

// lastJournal returns the newest journal entry of kind.
func lastJournal(t testing.TB, st store.Store, kind string) store.JournalEntry {
	t.Helper()
	es, err := st.ListJournal(context.Background(), store.JournalFilter{Kind: kind, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		t.Fatalf("no journal entry of kind %s", kind)
	}
	return es[0]
}

func countJournal(t testing.TB, st store.Store, kind string) int {
	t.Helper()
	es, err := st.ListJournal(context.Background(), store.JournalFilter{Kind: kind, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
