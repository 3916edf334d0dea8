package esoedconn

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/spec"
)

// receiving is the endpoint of Община Пловдив (B), which Столична община (A) sends to; C is
// another participant, D an inactive one, Z one the registry does not know, X holds A's name
// with a certificate no configured CA issued, E an expired certificate.
type receiving struct {
	w                *world
	a, b, c, d, z, x *admin
	e                *admin
	ep               *endpoint
}

func newReceiving(t *testing.T, maxSize int64) *receiving {
	w := newWorld(t)
	r := &receiving{w: w}
	r.a = w.admin(t, 1, "000696327", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "Столична община", false, time.Time{})
	r.b = w.admin(t, 2, "000471504", "{805fd26b-4b64-4823-a7b5-d40315c4b783}", "Община Пловдив", false, time.Time{})
	r.c = w.admin(t, 3, "000695089", "{1b0c9a5e-3d4f-4a8b-9c2d-7e6f5a4b3c2d}", "Община Варна", false, time.Time{})
	r.d = w.admin(t, 4, "000133634", "{2c1d0b6f-4e5a-4b9c-8d3e-8f7a6b5c4d3e}", "Община Русе", false, time.Time{})
	r.d.status = "Inactive"
	r.z = w.admin(t, 5, "000818069", "{3d2e1c7a-5f6b-4cad-9e4f-9a8b7c6d5e4f}", "Община Бургас", false, time.Time{})
	r.x = w.admin(t, 1, r.a.id, r.a.guid, r.a.name, true, time.Time{})
	r.e = w.admin(t, 1, r.a.id, r.a.guid, r.a.name, false, time.Now().Add(-time.Hour))
	reg := w.registry(t, "registry-b.yaml", r.a, r.b, r.c, r.d)
	cfg := w.config(r.b, reg)
	cfg.MaxMessageSize = spec.ByteSize(maxSize) // 0: the default
	r.ep = w.startSource(t, r.b, cfg, newStore(t))
	return r
}

// refused checks that f is the fault of check code, journaled as a refusal.
func (r *receiving) refused(t *testing.T, f *esoed.Fault, code string) {
	t.Helper()
	if f == nil {
		t.Fatalf("answered without a fault, want %s", code)
	}
	if !strings.HasPrefix(f.String, code+":") {
		t.Errorf("fault %q, want one starting with %s", f.String, code)
	}
	if f.Code != esoed.FaultClient {
		t.Errorf("fault code %s, want %s (the sender's error)", f.Code, esoed.FaultClient)
	}
	if e := lastJournal(t, r.ep.st, "esoed.refused"); e.Result != code {
		t.Errorf("journal result %q, want %s: %+v", e.Result, code, e)
	}
}

// accepted checks that raw was answered with a signed status of B and returns it.
func (r *receiving) status(t *testing.T, answer []byte, f *esoed.Fault, want string) *esoed.StatusResponse {
	t.Helper()
	if f != nil {
		t.Fatalf("fault %v, want %s", f, want)
	}
	if answer == nil {
		t.Fatalf("empty answer, want %s", want)
	}
	signed, err := esoed.VerifySignature(t.Context(), answer, r.w.trust(t))
	if err != nil || !signed.Certificate.Equal(r.b.cert) {
		t.Fatalf("answer not signed by B: %v", err)
	}
	m := parse(t, answer)
	if m.Header.Sender.GUID != r.b.guid || m.Header.Recipient.GUID != r.a.guid {
		t.Errorf("answer from %s to %s", m.Header.Sender.GUID, m.Header.Recipient.GUID)
	}
	sr := m.Body.StatusResponse
	if sr == nil || sr.Status != want {
		t.Fatalf("answer %+v, want status %s", m.Body, want)
	}
	return sr
}

func TestReceivingChecks(t *testing.T) {
	r := newReceiving(t, 0)
	a, b := r.a, r.b
	url := r.ep.url

	t.Run("П.1", func(t *testing.T) {
		_, f := submit(t, url, nil, marshal(t, registration(a, b, newGUID()), a.signer))
		r.refused(t, f, "П.1")
		if e := lastJournal(t, r.ep.st, "esoed.refused"); e.Actor != "unknown" {
			t.Errorf("actor %q", e.Actor)
		}
	})
	t.Run("invalid client certificate", func(t *testing.T) {
		for name, adm := range map[string]*admin{"not issued by the CA": r.x, "expired": r.e} {
			_, f := submit(t, url, &adm.pair, marshal(t, registration(a, b, newGUID()), a.signer))
			r.refused(t, f, codeInvalidCert)
			if !strings.Contains(lastJournal(t, r.ep.st, "esoed.refused").Detail["error"], map[string]string{"not issued by the CA": "unknown authority", "expired": "expired"}[name]) {
				t.Errorf("%s: journal %+v", name, lastJournal(t, r.ep.st, "esoed.refused").Detail)
			}
		}
	})
	t.Run("П.2", func(t *testing.T) {
		for name, raw := range map[string]string{
			"not XML":          "това не е XML <",
			"external entity":  `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message xmlns="http://schemas.egov.bg/messaging/v1">&x;</Message>`,
			"entity expansion": `<!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Message xmlns="http://schemas.egov.bg/messaging/v1">&b;</Message>`,
			"empty":            "",
		} {
			_, f := submit(t, url, &a.pair, []byte(raw))
			r.refused(t, f, "П.2")
			if t.Failed() {
				t.Fatalf("%s", name)
			}
		}
		for name, body := range map[string]string{
			"not SOAP":        "not xml at all",
			"other operation": `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Other xmlns="http://services.egov.bg/messaging/"/></soap:Body></soap:Envelope>`,
			"SOAP with DTD":   `<!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:1/">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&x;</soap:Body></soap:Envelope>`,
		} {
			status, answer := post(t, url, &a.pair, strings.NewReader(body))
			if status != 500 || !bytes.Contains(answer, []byte("<faultstring xml:lang=\"bg\">П.2:")) {
				t.Errorf("%s: %d %s", name, status, answer)
			}
		}
	})
	t.Run("П.3", func(t *testing.T) {
		good := string(marshal(t, registration(a, b, newGUID()), a.signer))
		for name, raw := range map[string]string{
			"wrong namespace": strings.Replace(good, esoed.Namespace, "http://schemas.egov.bg/messaging/v2", 1),
			"no DocKind":      strings.Replace(good, "<DocKind>Заявление</DocKind>", "", 1),
			"GUID not braced": strings.Replace(good, b.guid, strings.Trim(b.guid, "{}"), 1),
			"deeply nested":   strings.Replace(good, "<DocAbout>", "<DocAbout>"+strings.Repeat("<x>", 100000)+strings.Repeat("</x>", 100000), 1),
		} {
			_, f := submit(t, url, &a.pair, []byte(raw))
			r.refused(t, f, "П.3")
			if t.Failed() {
				t.Fatalf("%s", name)
			}
		}
	})
	t.Run("П.4", func(t *testing.T) {
		_, f := submit(t, url, &a.pair, marshal(t, registration(a, r.c, newGUID()), a.signer))
		r.refused(t, f, "П.4")
		// Right GUID, wrong ЕИК: both must match.
		m := registration(a, b, newGUID())
		m.Header.Recipient.Identifier = r.c.id
		_, f = submit(t, url, &a.pair, marshal(t, m, a.signer))
		r.refused(t, f, "П.4")
	})
	t.Run("П.5", func(t *testing.T) {
		// A participant the registry does not know, with a certificate of the CA.
		_, f := submit(t, url, &r.z.pair, marshal(t, registration(r.z, b, newGUID()), r.z.signer))
		r.refused(t, f, "П.5")
		if e := lastJournal(t, r.ep.st, "esoed.refused"); e.Actor != r.z.id || !strings.HasPrefix(e.Subject, esoed.TypeRegistrationRequest+" {") {
			t.Errorf("journal %+v", e)
		}
		// An inactive one.
		_, f = submit(t, url, &r.d.pair, marshal(t, registration(r.d, b, newGUID()), r.d.signer))
		r.refused(t, f, "П.5")
	})
	t.Run("П.6", func(t *testing.T) {
		// A's message over C's connection.
		_, f := submit(t, url, &r.c.pair, marshal(t, registration(a, b, newGUID()), a.signer))
		r.refused(t, f, "П.6")
	})
	t.Run("П.7", func(t *testing.T) {
		_, f := submit(t, url, &a.pair, marshal(t, registration(a, b, newGUID()), nil))
		r.refused(t, f, "П.7")
	})
	t.Run("П.8", func(t *testing.T) {
		_, f := submit(t, url, &a.pair, marshal(t, registration(a, b, newGUID()), r.c.signer))
		r.refused(t, f, "П.8")
		// Altered after signing: the signature does not verify.
		raw := marshal(t, registration(a, b, newGUID()), a.signer)
		raw = bytes.Replace(raw, []byte("наследници"), []byte("наследницИ"), 1)
		_, f = submit(t, url, &a.pair, raw)
		r.refused(t, f, "П.8")
		if e := lastJournal(t, r.ep.st, "esoed.refused"); !strings.Contains(e.Detail["error"], "signature") {
			t.Errorf("journal %+v", e.Detail)
		}
	})
	t.Run("П.9", func(t *testing.T) {
		raw := marshal(t, registration(a, b, newGUID()), a.signer)
		answer, f := submit(t, url, &a.pair, raw)
		r.status(t, answer, f, esoed.StatusWaitRegistration)
		before := len(r.ep.hub.all())
		_, f = submit(t, url, &a.pair, raw)
		r.refused(t, f, "П.9")
		if n := len(r.ep.hub.all()); n != before {
			t.Errorf("%d messages handed on, want %d: a message sent twice is handed on once", n, before)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		r := newReceiving(t, 64<<10)
		big := esoed.Attachment{FileName: "scan.pdf", MIMEType: "application/pdf", Content: bytes.NewReader(bytes.Repeat([]byte("%PDF"), 32<<10))}
		_, f := submit(t, r.ep.url, &r.a.pair, marshal(t, registration(r.a, r.b, newGUID(), big), r.a.signer))
		r.refused(t, f, codeTooLarge)
		// Streamed without a length.
		status, answer := post(t, r.ep.url, &r.a.pair, struct{ *bytes.Reader }{bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20))})
		if status != 500 || !bytes.Contains(answer, []byte(codeTooLarge+":")) {
			t.Errorf("%d %s", status, answer)
		}
	})
	t.Run("not POST", func(t *testing.T) {
		resp, err := testpki.Client(&a.pair).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Errorf("GET: %s", resp.Status)
		}
	})
	if n := countJournal(t, r.ep.st, "esoed.received"); n != 1 {
		t.Errorf("%d messages journaled as received, want the 1 of П.9", n)
	}
}

func TestRegistration(t *testing.T) {
	r := newReceiving(t, 0)
	a, b := r.a, r.b
	doc := newGUID()
	first := registration(a, b, doc, esoed.Attachment{FileName: "заявление.pdf", MIMEType: "application/pdf", Comment: "подписано",
		Content: strings.NewReader("%PDF-1.7 съдържание")})
	raw := marshal(t, first, a.signer)

	t.Run("ЗР.2", func(t *testing.T) {
		answer, f := submit(t, r.ep.url, &a.pair, raw)
		sr := r.status(t, answer, f, esoed.StatusWaitRegistration)
		if sr.DocID.GUID != doc || sr.DocID.Number == nil || sr.DocID.Number.Number != "СО-94-00-1234" {
			t.Errorf("answer's DocID %+v, want the request's", sr.DocID)
		}
		msgs := r.ep.hub.all()
		if len(msgs) != 1 {
			t.Fatalf("%d messages handed on, want 1", len(msgs))
		}
		m := msgs[0]
		if !bytes.Equal(m.Payload, raw) {
			t.Error("payload is not the message as received")
		}
		for k, want := range map[string]string{
			envelope.Type: "esoed.DocumentRegistrationRequest", envelope.Subject: "СО-94-00-1234", envelope.ContentType: "application/xml",
			MetaSender: a.id, MetaSenderGUID: a.guid, MetaRecipient: b.id, MetaRecipientGUID: b.guid,
			MetaMessageGUID: first.Header.MessageGUID, MetaDocumentGUID: doc, MetaDocumentNumber: "СО-94-00-1234",
		} {
			if got := m.Metadata.Get(k); got != want {
				t.Errorf("metadata %s = %q, want %q", k, got, want)
			}
		}
		if m.UUID != docflow.NormGUID(first.Header.MessageGUID) {
			t.Errorf("id %s, want the MessageGUID", m.UUID)
		}
		e := lastJournal(t, r.ep.st, "esoed.received")
		if e.Actor != a.id || e.Subject != esoed.TypeRegistrationRequest+" "+first.Header.MessageGUID || e.Result != esoed.StatusWaitRegistration ||
			e.Detail["scenario"] != "ЗР.2" || e.MessageID != m.UUID || e.Dossier != "СО-94-00-1234" {
			t.Errorf("journal %+v", e)
		}
	})
	t.Run("ЗР.1", func(t *testing.T) {
		// The same document in a new message: DS_ALREADY_RECEIVED, not handed on again.
		answer, f := submit(t, r.ep.url, &a.pair, marshal(t, registration(a, b, doc), a.signer))
		sr := r.status(t, answer, f, esoed.StatusAlreadyReceived)
		if sr.DocID.GUID != doc {
			t.Errorf("DocID %+v", sr.DocID)
		}
		if n := len(r.ep.hub.all()); n != 1 {
			t.Errorf("%d messages handed on, want 1", n)
		}
		if e := lastJournal(t, r.ep.st, "esoed.received"); e.Detail["scenario"] != "ЗР.1" || e.Result != esoed.StatusAlreadyReceived {
			t.Errorf("journal %+v", e)
		}
	})
	t.Run("not stored", func(t *testing.T) {
		// The hub cannot store the message: a fault of the recipient, nothing recorded, so
		// that the same message sent again is taken (step 11 of the receiving procedure).
		r.ep.hub.mu.Lock()
		r.ep.hub.fail = errors.New("disk full")
		r.ep.hub.mu.Unlock()
		again := marshal(t, registration(a, b, newGUID()), a.signer)
		_, f := submit(t, r.ep.url, &a.pair, again)
		if f == nil || f.Code != esoed.FaultServer || !strings.HasPrefix(f.String, codeInternal) {
			t.Fatalf("fault %v, want a server fault", f)
		}
		if e := lastJournal(t, r.ep.st, "esoed.refused"); e.Result != codeInternal || !strings.Contains(e.Detail["error"], "disk full") {
			t.Errorf("journal %+v", e)
		}
		r.ep.hub.mu.Lock()
		r.ep.hub.fail = nil
		r.ep.hub.mu.Unlock()
		answer, f := submit(t, r.ep.url, &a.pair, again)
		r.status(t, answer, f, esoed.StatusWaitRegistration)
	})
	t.Run("ПС.1", func(t *testing.T) {
		answer, f := submit(t, r.ep.url, &a.pair, marshal(t, statusRequest(a, b, newGUID()), a.signer))
		sr := r.status(t, answer, f, esoed.StatusNotFound)
		if sr.DocID.Number == nil || sr.DocID.Number.Number != "СО-94-00-1234" {
			t.Errorf("DocID %+v, want the request's number", sr.DocID)
		}
	})
	t.Run("ПС.4", func(t *testing.T) {
		answer, f := submit(t, r.ep.url, &a.pair, marshal(t, statusRequest(a, b, doc), a.signer))
		r.status(t, answer, f, esoed.StatusWaitRegistration)
		if e := lastJournal(t, r.ep.st, "esoed.received"); e.Detail["scenario"] != "ПС.4" {
			t.Errorf("journal %+v", e)
		}
		if n := len(r.ep.hub.all()); n != 2 {
			t.Errorf("%d messages handed on, want 2: a status request is answered, not handed on", n)
		}
	})
	t.Run("ИС.1", func(t *testing.T) {
		// A status of a document B never sent to A.
		m := statusResponse(a, b, newGUID(), esoed.StatusRegistered)
		answer, f := submit(t, r.ep.url, &a.pair, marshal(t, m, a.signer))
		if f != nil || answer == nil {
			t.Fatalf("answer %s, fault %v", answer, f)
		}
		en := parse(t, answer).Body.Error
		if en == nil || en.Type != esoed.ErrorExternal || en.MessageGUID != m.Header.MessageGUID {
			t.Errorf("answer %+v, want an external error about the message", en)
		}
	})
	t.Run("ИГ.1", func(t *testing.T) {
		m := &esoed.Message{Header: esoed.Header{MessageDate: time.Now(), Sender: a.participant(), Recipient: b.participant(), MessageGUID: newGUID()},
			Body: esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: newGUID(), Type: esoed.ErrorInternal, Description: "няма връзка с базата данни"}}}
		answer, f := submit(t, r.ep.url, &a.pair, marshal(t, m, a.signer))
		if f != nil || answer == nil {
			t.Fatalf("answer %s, fault %v", answer, f)
		}
		if en := parse(t, answer).Body.Error; en == nil || en.Type != esoed.ErrorExternal {
			t.Errorf("answer %+v, want an external error", en)
		}
		if e := lastJournal(t, r.ep.st, "esoed.received"); e.Detail["scenario"] != "ИГ.1" || e.Result != esoed.ErrorExternal {
			t.Errorf("journal %+v", e)
		}
	})
}

// TestDuplicatesAtOnce sends one message several times at the same moment: it is handed on and
// answered once, every other copy is refused under П.9.
func TestDuplicatesAtOnce(t *testing.T) {
	r := newReceiving(t, 0)
	raw := marshal(t, registration(r.a, r.b, newGUID()), r.a.signer)
	const n = 6
	type out struct {
		answer []byte
		fault  *esoed.Fault
	}
	results := make(chan out, n)
	for range n {
		go func() {
			answer, err := esoed.Submit(t.Context(), testpki.Client(&r.a.pair), r.ep.url, raw)
			var f *esoed.Fault
			if !errors.As(err, &f) && err != nil {
				t.Errorf("submit: %v", err)
			}
			results <- out{answer, f}
		}()
	}
	answered := 0
	for range n {
		o := <-results
		switch {
		case o.answer != nil:
			answered++
		case o.fault == nil || !strings.HasPrefix(o.fault.String, "П.9:"):
			t.Errorf("fault %v, want П.9", o.fault)
		}
	}
	if answered != 1 || len(r.ep.hub.all()) != 1 {
		t.Errorf("%d answered, %d handed on; want 1 and 1", answered, len(r.ep.hub.all()))
	}
	if got := countJournal(t, r.ep.st, "esoed.refused"); got != n-1 {
		t.Errorf("%d refusals journaled, want %d", got, n-1)
	}
}

// TestRevokedAndImpersonatingClientsRefused is findings 2 and 12 of issue 17 at the endpoint: a
// client certificate the CA's CRL lists was accepted without the CRL being fetched, and where
// the registry names the sender's certificate only by serial number (as the central registry
// does), a self-signed certificate copying that serial number passed П.6 and П.8.
func TestRevokedAndImpersonatingClientsRefused(t *testing.T) {
	w := newWorld(t)
	a := w.admin(t, 1, "000696327", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "Столична община", false, time.Time{})
	a.bySerial = true
	b := w.admin(t, 2, "000471504", "{805fd26b-4b64-4823-a7b5-d40315c4b783}", "Община Пловдив", false, time.Time{})
	c := w.admin(t, 3, "000695089", "{1b0c9a5e-3d4f-4a8b-9c2d-7e6f5a4b3c2d}", "Община Варна", false, time.Time{})
	w.revoke(c.cert)
	forger := w.forge(t, a, 4)
	if forger.cert.SerialNumber.Cmp(a.cert.SerialNumber) != 0 || forger.cert.Issuer.String() != a.cert.Issuer.String() {
		t.Fatal("the forgery does not copy the serial number and the issuer")
	}
	ep := w.startSource(t, b, w.config(b, w.registry(t, "registry.yaml", a, b, c)), newStore(t))
	r := &receiving{w: w, a: a, b: b, ep: ep}

	t.Run("revoked", func(t *testing.T) {
		_, f := submit(t, ep.url, &c.pair, marshal(t, registration(c, b, newGUID()), c.signer))
		r.refused(t, f, codeInvalidCert)
		if e := lastJournal(t, ep.st, "esoed.refused"); !strings.Contains(e.Detail["error"], "revoked") {
			t.Errorf("journal %+v", e.Detail)
		}
		if w.CRLHits.Load() == 0 {
			t.Error("the CRL was never fetched")
		}
	})
	t.Run("serial number copied", func(t *testing.T) {
		_, f := submit(t, ep.url, &forger.pair, marshal(t, registration(a, b, newGUID()), forger.signer))
		r.refused(t, f, codeInvalidCert)
		if e := lastJournal(t, ep.st, "esoed.refused"); !strings.Contains(e.Detail["error"], "does not chain to a configured trust anchor") {
			t.Errorf("journal %+v", e.Detail)
		}
	})
	t.Run("signature with a copied serial number", func(t *testing.T) {
		_, f := submit(t, ep.url, &a.pair, marshal(t, registration(a, b, newGUID()), forger.signer))
		r.refused(t, f, "П.8")
	})
	t.Run("genuine, named by serial number", func(t *testing.T) {
		answer, f := submit(t, ep.url, &a.pair, marshal(t, registration(a, b, newGUID()), a.signer))
		r.status(t, answer, f, esoed.StatusWaitRegistration)
	})
	if n := len(ep.hub.all()); n != 1 {
		t.Errorf("%d messages handed on, want the genuine one", n)
	}
}
