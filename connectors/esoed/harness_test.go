package esoedconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
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

// world is a set of administrations whose transport certificates one test CA issued; every
// certificate names the CA's CRL, served in the test.
type world struct {
	dir    string
	caFile string
	*testpki.Authority
	files int
}

func newWorld(t testing.TB) *world {
	w := &world{dir: t.TempDir(), Authority: testpki.NewAuthority(t, "Test transport CA", 0)}
	w.caFile = filepath.Join(w.dir, "ca.pem")
	testpki.WritePEM(t, w.caFile, "CERTIFICATE", w.Cert.Raw)
	return w
}

// trust is a trust in the world's CA, without revocation.
func (w *world) trust(t testing.TB) *esoed.Trust {
	tr, err := esoed.NewTrust([]*x509.Certificate{w.Cert}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// revoke lists cert in the CA's CRL, for a compromised key.
func (w *world) revoke(cert *x509.Certificate) { w.Revoke(cert, time.Now().Add(-time.Minute), 1) }

// admin makes an administration with a certificate from the CA (forged: one that only names
// the CA as its issuer) valid until notAfter (zero: for a day).
func (w *world) admin(t testing.TB, keyIndex int, id, guid, name string, forged bool, notAfter time.Time) *admin {
	c, pair := w.Issue(pkix.Name{CommonName: name, SerialNumber: id}, keyIndex,
		testpki.IssueOptions{CRL: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, Forged: forged})
	return w.holder(t, id, guid, name, c, pair)
}

// forge makes a certificate that copies victim's subject, issuer name and serial number, with
// key keyIndex: what anyone can make without the CA.
func (w *world) forge(t testing.TB, victim *admin, keyIndex int) *admin {
	c, pair := w.Issue(victim.cert.Subject, keyIndex, testpki.IssueOptions{Serial: victim.cert.SerialNumber, Forged: true})
	return w.holder(t, victim.id, victim.guid, victim.name, c, pair)
}

// holder is the administration holding the key pair, its files written.
func (w *world) holder(t testing.TB, id, guid, name string, c *x509.Certificate, pair tls.Certificate) *admin {
	w.files++
	a := &admin{id: id, guid: guid, name: name, cert: c, pair: pair}
	a.certFile, a.keyFile = testpki.WritePair(t, pair, w.dir, fmt.Sprintf("%s-%d", id, w.files))
	var err error
	if a.signer, err = esoed.SignerFromTLS(pair); err != nil {
		t.Fatal(err)
	}
	return a
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
// sink makes the sink of cfg, named name, over st; it is closed when the test ends.
func (w *world) sink(t *testing.T, cfg *Config, name string, st store.Store) *sink {
	t.Helper()
	sk, err := newSink(cfg, connectors.Env{Name: name, BaseDir: w.dir, State: st, Journal: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sk.Close() })
	return sk
}

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
	s, err := newSource(cfg, connectors.Env{Name: "esoed-" + a.id, BaseDir: w.dir, State: st, Journal: st})
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

// submit sends raw in a Submit request presenting cert and returns the answer or the fault.
func submit(t testing.TB, url string, cert *tls.Certificate, raw []byte) ([]byte, *esoed.Fault) {
	t.Helper()
	answer, err := esoed.Submit(context.Background(), testpki.Client(cert), url, raw)
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
	resp, err := testpki.Client(cert).Do(req)
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
