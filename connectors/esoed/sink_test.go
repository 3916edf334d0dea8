package esoedconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// sending is Столична община (A) sending through its sink to a test server that stands for
// Община Пловдив (B) and answers as each scenario needs; C is another participant.
type sending struct {
	w       *world
	a, b, c *admin
	sink    *sink
	st      store.Store
	calls   atomic.Int32
	// reply makes the answer to the message received (nil: an empty answer).
	reply func(in *esoed.Summary) (status int, body []byte)
}

// newSending starts the test server, with C's certificate instead of B's when wrongCert.
func newSending(t *testing.T, wrongCert bool) *sending {
	w := newWorld(t)
	s := &sending{w: w}
	s.a = w.admin(t, 1, "000696327", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "Столична община", false, time.Time{})
	s.b = w.admin(t, 2, "000471504", "{805fd26b-4b64-4823-a7b5-d40315c4b783}", "Община Пловдив", false, time.Time{})
	s.c = w.admin(t, 3, "000695089", "{1b0c9a5e-3d4f-4a8b-9c2d-7e6f5a4b3c2d}", "Община Варна", false, time.Time{})
	serverCert := &s.b.pair
	if wrongCert {
		serverCert = &s.c.pair
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		raw, err := esoed.ParseSubmitRequest(r.Body)
		if err != nil || len(r.TLS.PeerCertificates) == 0 || !r.TLS.PeerCertificates[0].Equal(s.a.cert) {
			t.Errorf("request: %v, client certificate given: %d", err, len(r.TLS.PeerCertificates))
		}
		sum, err := esoed.ParseHeader(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("request: %v", err)
			return
		}
		status, body := http.StatusOK, []byte(nil)
		if s.reply != nil {
			status, body = s.reply(sum)
		}
		if body == nil {
			var b bytes.Buffer
			esoed.WriteSubmitResponse(&b, nil)
			body = b.Bytes()
		}
		w.Header().Set("Content-Type", esoed.SOAPContentType)
		w.WriteHeader(status)
		w.Write(body)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*serverCert}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.b.endpoint = srv.URL + "/EGovExchange"
	reg := w.registry(t, "registry-a.yaml", s.a, s.b, s.c)
	cfg := w.config(s.a, reg)
	cfg.Listen = ""
	cfg.RetryFirst = spec.Duration(time.Second)
	cfg.Retries = 3
	s.st = newStore(t)
	s.sink = w.sink(t, cfg, "esoed-out", s.st)
	return s
}

// send hands payload to the sink as attempt n of a route's delivery.
func (s *sending) send(payload []byte, attempt int) error {
	msg := message.NewMessage(uuid.NewString(), payload)
	msg.Metadata.Set(envelope.Attempt, strconv.Itoa(attempt))
	msg.Metadata.Set(envelope.Route, "outgoing-documents")
	return s.sink.Send(context.Background(), msg)
}

// answer is a SOAP answer carrying msg.
func answer(msg []byte) []byte {
	var b bytes.Buffer
	esoed.WriteSubmitResponse(&b, msg)
	return b.Bytes()
}

// reply is B's answer to in: a status, from B to A unless changed.
func (s *sending) statusReply(in *esoed.Summary, signer *esoed.Signer, change func(*esoed.Message)) []byte {
	m := &esoed.Message{
		Header: esoed.Header{MessageDate: time.Now(), Sender: in.Header.Recipient, Recipient: in.Header.Sender, MessageGUID: newGUID()},
		Body: esoed.Body{StatusResponse: &esoed.StatusResponse{Status: esoed.StatusWaitRegistration,
			DocID: esoed.DocID{Number: &esoed.DocNumber{Number: "ПД-12-345", Date: docDate}, GUID: in.DocGUID}}},
	}
	if change != nil {
		change(m)
	}
	raw, err := esoed.Marshal(m, signer)
	if err != nil {
		panic(err)
	}
	return answer(raw)
}

// failed checks that err is a failure of check code, permanent or not, journaled.
func (s *sending) failed(t *testing.T, err error, code string, permanent bool) store.JournalEntry {
	t.Helper()
	if err == nil {
		t.Fatalf("sent, want a failure of %s", code)
	}
	if !strings.Contains(err.Error(), code+":") {
		t.Errorf("error %q does not name %s", err, code)
	}
	if fault.IsPermanent(err) != permanent {
		t.Errorf("permanent = %v, want %v: %v", fault.IsPermanent(err), permanent, err)
	}
	e := lastJournal(t, s.st, "esoed.send_failed")
	if e.Result != code {
		t.Errorf("journal result %q, want %s: %+v", e.Result, code, e)
	}
	return e
}

func (s *sending) outDoc(t *testing.T, doc string) *docflow.OutDoc {
	t.Helper()
	d, err := s.sink.table.Out(context.Background(), s.a.guid, doc)
	if err != nil || d == nil {
		t.Fatalf("no record of document %s: %v", doc, err)
	}
	return d
}

func TestSendingChecks(t *testing.T) {
	s := newSending(t, false)
	a, b, c := s.a, s.b, s.c

	// An unsigned message from a route: the sink signs it.
	t.Run("registration without attachments, empty answer", func(t *testing.T) {
		s.reply = nil
		doc := newGUID()
		if err := s.send(marshal(t, registration(a, b, doc), nil), 1); err != nil {
			t.Fatal(err)
		}
		if d := s.outDoc(t, doc); d.Status != docflow.OutSent || d.Attempts != 1 || d.Recipient != b.id {
			t.Errorf("record %+v", d)
		}
		if e := lastJournal(t, s.st, "esoed.sent"); e.Result != "empty" || e.Actor != a.id || e.Route != "outgoing-documents" || e.Dossier != "СО-94-00-1234" {
			t.Errorf("journal %+v", e)
		}
	})
	t.Run("registration with attachments, status answer", func(t *testing.T) {
		var got []byte
		s.reply = func(in *esoed.Summary) (int, []byte) {
			got = []byte(in.Header.MessageGUID)
			return 200, s.statusReply(in, b.signer, nil)
		}
		doc := newGUID()
		att := esoed.Attachment{FileName: "scan.pdf", MIMEType: "application/pdf", Content: bytes.NewReader(bytes.Repeat([]byte("%PDF"), 4096))}
		if err := s.send(marshal(t, registration(a, b, doc, att), a.signer), 1); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatal("the server got nothing")
		}
		if d := s.outDoc(t, doc); d.Status != esoed.StatusWaitRegistration {
			t.Errorf("record %+v", d)
		}
	})
	t.Run("И.1", func(t *testing.T) {
		s.failed(t, s.send([]byte("не е XML"), 1), "И.1", true)
	})
	t.Run("И.2", func(t *testing.T) {
		raw := bytes.Replace(marshal(t, registration(a, b, newGUID()), a.signer), []byte("<DocKind>Заявление</DocKind>"), nil, 1)
		s.failed(t, s.send(raw, 1), "И.2", true)
	})
	t.Run("И.3", func(t *testing.T) {
		m := registration(a, b, newGUID())
		m.Header.Sender.GUID = newGUID()
		s.failed(t, s.send(marshal(t, m, nil), 1), "И.3", true)
	})
	t.Run("И.4", func(t *testing.T) {
		m := registration(a, b, newGUID())
		m.Header.Recipient.Identifier = "121212121"
		s.failed(t, s.send(marshal(t, m, nil), 1), "И.4", true)
	})
	t.Run("И.6", func(t *testing.T) {
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), c.signer), 1), "И.6", true)
	})
	t.Run("И.8", func(t *testing.T) {
		s.reply = func(*esoed.Summary) (int, []byte) {
			var f bytes.Buffer
			esoed.WriteFault(&f, &esoed.Fault{Code: esoed.FaultServer, String: "база данни недостъпна"})
			return 500, f.Bytes()
		}
		doc := newGUID()
		start := time.Now()
		e := s.failed(t, s.send(marshal(t, registration(a, b, doc), a.signer), 1), "И.8", false)
		// The strategy: the first retry after retry_first, each next one doubled.
		for attempt, wait := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second} {
			e = s.failed(t, s.send(marshal(t, registration(a, b, doc), a.signer), attempt), "И.8", false)
			next, err := time.Parse(time.RFC3339, e.Detail["next_attempt"])
			if err != nil || next.Before(start.Add(wait).Truncate(time.Second)) || next.After(time.Now().Add(wait)) {
				t.Errorf("attempt %d: next attempt %s, want %v later", attempt, e.Detail["next_attempt"], wait)
			}
		}
		if d := s.outDoc(t, doc); d.Status != docflow.OutSent || d.NextAttempt.IsZero() || !strings.Contains(d.Error, "база данни") {
			t.Errorf("record %+v", d)
		}
		// retries is 3: the 4th attempt is the last.
		e = s.failed(t, s.send(marshal(t, registration(a, b, doc), a.signer), 4), "И.8", true)
		if !strings.Contains(e.Detail["exhausted"], "4") {
			t.Errorf("journal %+v", e.Detail)
		}
		if d := s.outDoc(t, doc); d.Status != docflow.OutFailed {
			t.Errorf("record %+v", d)
		}
	})
	t.Run("И.8 transport failure", func(t *testing.T) {
		s.reply = func(*esoed.Summary) (int, []byte) { return 503, []byte("Service Unavailable") }
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.8", false)
	})
	t.Run("И.9", func(t *testing.T) {
		s.reply = func(*esoed.Summary) (int, []byte) { return 200, answer([]byte("<Message><не-е-XML")) }
		doc := newGUID()
		s.failed(t, s.send(marshal(t, registration(a, b, doc), a.signer), 1), "И.9", true)
		if d := s.outDoc(t, doc); d.Status != docflow.OutFailed {
			t.Errorf("record %+v", d)
		}
	})
	t.Run("И.10", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, answer([]byte(`<Message xmlns="` + esoed.Namespace + `"><Header/></Message>`))
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.10", true)
		// An answer that is itself a request is the recipient's error too.
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, answer(marshal(t, statusRequest(b, a, in.DocGUID), b.signer))
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.10", true)
	})
	t.Run("И.11", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, s.statusReply(in, c.signer, func(m *esoed.Message) { m.Header.Sender = c.participant() })
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.11", true)
	})
	t.Run("И.12", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, s.statusReply(in, b.signer, func(m *esoed.Message) { m.Header.Recipient = c.participant() })
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.12", true)
	})
	t.Run("И.13", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) { return 200, s.statusReply(in, nil, nil) }
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.13", true)
	})
	t.Run("И.14", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) { return 200, s.statusReply(in, c.signer, nil) }
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.14", true)
	})
	t.Run("И.15", func(t *testing.T) {
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, s.statusReply(in, b.signer, func(m *esoed.Message) { m.Header.MessageGUID = in.Header.MessageGUID })
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.15", true)
		// The GUID of an answer received before.
		var first string
		s.reply = func(in *esoed.Summary) (int, []byte) {
			return 200, s.statusReply(in, b.signer, func(m *esoed.Message) {
				if first == "" {
					first = m.Header.MessageGUID
				}
				m.Header.MessageGUID = first
			})
		}
		if err := s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1); err != nil {
			t.Fatal(err)
		}
		s.failed(t, s.send(marshal(t, registration(a, b, newGUID()), a.signer), 1), "И.15", true)
	})
	t.Run("error answer", func(t *testing.T) {
		for kind, want := range map[string]esoed.Outcome{esoed.ErrorInternal: esoed.RecipientError, esoed.ErrorExternal: esoed.SenderError} {
			s.reply = func(in *esoed.Summary) (int, []byte) {
				m := &esoed.Message{Header: esoed.Header{MessageDate: time.Now(), Sender: b.participant(), Recipient: a.participant(), MessageGUID: newGUID()},
					Body: esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: in.Header.MessageGUID, Type: kind, Description: "грешка"}}}
				return 200, answer(marshal(t, m, b.signer))
			}
			doc := newGUID()
			e := s.failed(t, s.send(marshal(t, registration(a, b, doc), a.signer), 1), codeErrorReply, true)
			if e.Detail["outcome"] != want.String() {
				t.Errorf("%s: outcome %s, want %s", kind, e.Detail["outcome"], want)
			}
			if d := s.outDoc(t, doc); d.Status != docflow.OutFailed {
				t.Errorf("record %+v", d)
			}
		}
	})
	t.Run("no endpoint", func(t *testing.T) {
		calls := s.calls.Load()
		s.failed(t, s.send(marshal(t, registration(a, c, newGUID()), a.signer), 1), codeNoEndpoint, false)
		if s.calls.Load() != calls {
			t.Error("something was sent")
		}
	})
}

func TestSendingServerCertificate(t *testing.T) {
	// The server presents C's certificate, issued by the same CA, where the registry names B's.
	s := newSending(t, true)
	t.Run("И.7", func(t *testing.T) {
		doc := newGUID()
		s.failed(t, s.send(marshal(t, registration(s.a, s.b, doc), s.a.signer), 1), "И.7", false)
		if s.calls.Load() != 0 {
			t.Error("the message reached a server that is not the recipient")
		}
		if d := s.outDoc(t, doc); d.Status != docflow.OutSent || d.NextAttempt.IsZero() {
			t.Errorf("record %+v", d)
		}
		if e := lastJournal(t, s.st, "esoed.send_failed"); !strings.Contains(e.Detail["error"], "the registry names "+s.b.cert.Subject.String()+" serial "+s.b.cert.SerialNumber.Text(16)) {
			t.Errorf("journal %+v", e.Detail)
		}
	})
}

// TestSendingToARevokedServer is finding 12's outgoing half: the recipient's server certificate
// is checked against its CA's CRL too, and a revoked one is not sent to (И.7).
func TestSendingToARevokedServer(t *testing.T) {
	s := newSending(t, false)
	s.w.revoke(s.b.cert)
	doc := newGUID()
	s.failed(t, s.send(marshal(t, registration(s.a, s.b, doc), s.a.signer), 1), "И.7", false)
	if s.calls.Load() != 0 {
		t.Error("the message reached a server whose certificate is revoked")
	}
	if e := lastJournal(t, s.st, "esoed.send_failed"); !strings.Contains(e.Detail["error"], "revoked") {
		t.Errorf("journal %+v", e.Detail)
	}
}
