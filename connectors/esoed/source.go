package esoedconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// Codes of the refusals that the specification lists without a number; journaled as the
// result and written at the start of the fault string, like the numbered ones.
const (
	codeInvalidCert = "П.1-невалиден-сертификат" // a client certificate that is expired, revoked or not issued by a configured CA
	codeTooLarge    = "размер"                   // a request larger than max_message_size
	codeInternal    = "вътрешна-грешка"          // the message could not be stored: step 11 of the receiving procedure
)

// shutdownWait bounds how long a stopping endpoint waits for the requests under way.
const shutdownWait = 30 * time.Second

type source struct {
	*node
	locks docflow.Locks

	mu   sync.Mutex
	emit connectors.Emit
	addr net.Addr // the listener's address once Run has bound it
	up   chan struct{}
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	n, err := newNode("source", cfg, env)
	if err != nil {
		return nil, err
	}
	if n.cfg.Listen == "" {
		return nil, fmt.Errorf("esoed source %s: listen is required to receive messages", env.Name)
	}
	return &source{node: n, up: make(chan struct{})}, nil
}

// Run serves the endpoint on its own listener until ctx is done, then stops taking requests
// and waits for those under way.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("esoed source %s: listen: %w", s.name, err)
	}
	s.mu.Lock()
	s.emit, s.addr = emit, ln.Addr()
	s.mu.Unlock()
	close(s.up)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{s.pair},
			MinVersion:   tls.VersionTLS12,
			// Any certificate or none is let through the handshake so that the endpoint can
			// answer with a SOAP fault, as the specification asks (П.1), and journal it; the
			// handler checks the certificate itself.
			ClientAuth: tls.RequestClientCert,
		},
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	s.log.Info("ЕСОЕД endpoint listening", "address", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("esoed source %s: %w", s.name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// Addr returns the address the endpoint listens on, waiting for Run to bind it.
func (s *source) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case <-s.up:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.addr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exchange is what is known of one request while it is processed, for the answer and the
// journal.
type exchange struct {
	clientCert  *x509.Certificate
	clientChain []*x509.Certificate
	sum         *esoed.Summary
	sender      *esoed.Entity
}

func (x *exchange) actor() string {
	switch {
	case x.sum != nil && x.sum.Header.Sender.Identifier != "":
		return x.sum.Header.Sender.Identifier
	case x.clientCert != nil:
		return "certificate " + x.clientCert.Subject.String() + " serial " + x.clientCert.SerialNumber.Text(16)
	}
	return "unknown"
}

func (x *exchange) subject() string {
	if x.sum == nil {
		return ""
	}
	return strings.TrimSpace(x.sum.Header.MessageType + " " + x.sum.Header.MessageGUID)
}

func (s *source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeFault(w, http.StatusMethodNotAllowed, &esoed.Fault{Code: esoed.FaultClient,
			String: fmt.Sprintf("Методът %s не е разрешен, използвайте POST / method %s not allowed, use POST", r.Method, r.Method)})
		return
	}
	ctx := r.Context()
	x := &exchange{}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		x.clientCert, x.clientChain = r.TLS.PeerCertificates[0], r.TLS.PeerCertificates
		// Refused before the request is read: a certificate no configured authority issued,
		// expired or revoked.
		if err := s.checkPeer(ctx, r.TLS.PeerCertificates, x509.ExtKeyUsageClientAuth); err != nil {
			outcome := esoed.SenderError
			if errors.Is(err, esoed.ErrRevocationUnknown) {
				outcome = esoed.Exception // the sender may try again when the CRL answers
			}
			s.refuse(w, r, x, &esoed.CheckError{Code: codeInvalidCert, Outcome: outcome,
				Reason: "невалиден клиентски сертификат / invalid client certificate", Err: err})
			return
		}
	}
	var seenErr error
	checks := s.receiveChecks(func(guid string) bool {
		seen, err := s.table.Seen(ctx, s.self, guid)
		seenErr = errors.Join(seenErr, err)
		return seen
	})
	if x.clientCert == nil {
		// П.1 before anything is read: the checks say so without looking at the message.
		_, _, err := checks.Incoming(ctx, nil, nil)
		s.refuse(w, r, x, err)
		return
	}

	limit := int64(s.cfg.MaxMessageSize)
	if r.ContentLength > limit {
		s.refuse(w, r, x, tooLarge(limit, r.ContentLength))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.refuse(w, r, x, tooLarge(limit, -1))
		return
	}
	if err != nil {
		s.log.Debug("request not read", "remote", r.RemoteAddr, "error", err)
		return // the connection is gone; there is no one to answer
	}
	raw, err := esoed.ParseSubmitRequest(bytes.NewReader(body))
	if err == nil && raw == nil {
		err = errors.New("Submit/request is empty")
	}
	if err != nil {
		s.refuse(w, r, x, &esoed.CheckError{Code: "П.2", Outcome: esoed.SenderError,
			Reason: "заявката не е SOAP 1.1 Submit със съобщение / the request is not a SOAP 1.1 Submit carrying a message", Err: err})
		return
	}
	body = nil

	x.sum, x.sender, err = checks.Incoming(ctx, raw, x.clientChain)
	if seenErr != nil {
		s.fail(w, r, x, seenErr)
		return
	}
	if err != nil {
		s.refuse(w, r, x, err)
		return
	}
	unlock, err := s.locks.Lock(ctx, docflow.NormGUID(x.sum.Header.MessageGUID))
	if err != nil {
		return
	}
	defer unlock()
	// A second copy sent at the same time passed П.9 while the first was processed.
	if seen, err := s.table.Seen(ctx, s.self, x.sum.Header.MessageGUID); err != nil || seen {
		if err != nil {
			s.fail(w, r, x, err)
			return
		}
		s.refuse(w, r, x, &esoed.CheckError{Code: "П.9", Outcome: esoed.SenderError,
			Reason: "съобщението вече е получено / the message was already received", Err: errors.New(x.sum.Header.MessageGUID)})
		return
	}
	s.process(w, r, x, raw)
}

func tooLarge(limit, got int64) *esoed.CheckError {
	err := fmt.Errorf("the limit is %d bytes", limit)
	if got > 0 {
		err = fmt.Errorf("the request has %d bytes, the limit is %d", got, limit)
	}
	return &esoed.CheckError{Code: codeTooLarge, Outcome: esoed.SenderError,
		Reason: "съобщението надхвърля максимално допустимия размер / the message exceeds the largest size accepted", Err: err}
}

// result is how the application level handled an accepted message.
type result struct {
	scenario string     // ЗР.n, ПС.n, ИС.n, ИГ.n
	answer   esoed.Body // the answering message; zero for an empty answer
	emitted  *message.Message
	docGUID  string
}

// process handles an accepted message at the application level, then answers.
func (s *source) process(w http.ResponseWriter, r *http.Request, x *exchange, raw []byte) {
	ctx := r.Context()
	self := s.isSelf(x.sum.Header.Recipient)
	m, _, err := esoed.ParseMessageWith(bytes.NewReader(raw), esoed.ParseOptions{
		Attachment: func(_ int, _ *esoed.Attachment, content io.Reader) error {
			_, err := io.Copy(io.Discard, content) // the route gets the message as received; nothing is kept twice
			return err
		},
	})
	if err != nil {
		s.refuse(w, r, x, &esoed.CheckError{Code: "П.3", Outcome: esoed.SenderError,
			Reason: "съобщението не съответства на XSD схемите / the message breaks the XSD schemas", Err: err})
		return
	}
	var res result
	handOn := func(docGUID, docNumber string) (err error) {
		res.emitted, err = s.handOn(ctx, x, m, raw, docGUID, docNumber)
		return err
	}
	flow := &docflow.Flow{Table: s.table, Locks: &s.locks, Now: s.now}
	var out docflow.Outcome
	switch {
	case m.Body.RegistrationRequest != nil:
		out, err = flow.Registration(ctx, self.GUID, m, handOn)
	case m.Body.StatusRequest != nil:
		out, err = flow.StatusRequest(ctx, self.GUID, m)
	case m.Body.StatusResponse != nil:
		out, err = flow.StatusResponse(ctx, self.GUID, m, handOn)
	case m.Body.Error != nil:
		out, err = flow.ErrorNotice(ctx, self.GUID, m, handOn)
	}
	res.scenario, res.answer, res.docGUID = out.Scenario, out.Answer, out.DocGUID
	if err != nil {
		s.fail(w, r, x, err)
		return
	}

	var answer []byte
	var answerGUID string
	if res.answer.Type() != "" {
		answerGUID = newGUID()
		answer, err = esoed.Marshal(&esoed.Message{
			Header: esoed.Header{
				MessageDate: s.now(),
				Sender:      esoed.Participant{Identifier: self.Identifier, AdministrativeBodyName: nameOr(self.AdministrativeBodyName, x.sum.Header.Recipient.AdministrativeBodyName), GUID: x.sum.Header.Recipient.GUID},
				Recipient:   x.sum.Header.Sender,
				MessageGUID: answerGUID,
			},
			Body: res.answer,
		}, s.signer)
		if err == nil {
			err = s.receiveChecks(nil).Reply(ctx, answer, x.sum)
		}
		if err != nil {
			s.fail(w, r, x, err)
			return
		}
	}
	// The message counts as received (П.9) only now that it is stored and answered.
	now := s.now()
	err = s.table.PutMsg(ctx, self.GUID, &docflow.MsgRec{MessageGUID: x.sum.Header.MessageGUID, Type: x.sum.Header.MessageType, Direction: "in",
		Peer: x.sum.Header.Sender.Identifier, PeerGUID: x.sum.Header.Sender.GUID, DocGUID: res.docGUID, Time: now})
	if err == nil && answerGUID != "" {
		err = s.table.PutMsg(ctx, self.GUID, &docflow.MsgRec{MessageGUID: answerGUID, Type: res.answer.Type(), Direction: "out",
			Peer: x.sum.Header.Sender.Identifier, PeerGUID: x.sum.Header.Sender.GUID, DocGUID: res.docGUID, Time: now})
	}
	if err != nil {
		s.fail(w, r, x, err)
		return
	}

	e := store.JournalEntry{Kind: "esoed.received", Actor: x.actor(), Subject: x.subject(), Result: resultOf(res.answer),
		Detail: map[string]string{"scenario": res.scenario, "recipient": x.sum.Header.Recipient.Identifier, "remote": r.RemoteAddr}}
	if sr := m.Body.StatusResponse; sr != nil && res.answer.Type() == "" {
		// What a status response accepted says is the status it tells; the answer was empty.
		e.Result, e.Detail["answer"] = sr.Status, "empty"
	}
	if res.docGUID != "" {
		e.Detail["document_guid"] = res.docGUID
	}
	if x.sum.DocNumber != "" {
		e.Detail["document_number"] = x.sum.DocNumber
		e.Dossier = x.sum.DocNumber
	}
	if res.emitted != nil {
		e.MessageID = res.emitted.UUID
	}
	if answerGUID != "" {
		e.Detail["answer_guid"] = answerGUID
	}
	s.journal(ctx, e)

	w.Header().Set("Content-Type", esoed.SOAPContentType)
	var b bytes.Buffer
	_ = esoed.WriteSubmitResponse(&b, answer)
	_, _ = w.Write(b.Bytes())
}

// resultOf is the journal's result of an accepted message: the status or the error kind
// answered, or "empty" for an empty answer (a status response accepted is journaled with the
// status it tells instead).
func resultOf(b esoed.Body) string {
	switch {
	case b.StatusResponse != nil:
		return b.StatusResponse.Status
	case b.Error != nil:
		return b.Error.Type
	}
	return "empty"
}

// handOn gives a received message to the routes and returns once it is stored.
func (s *source) handOn(ctx context.Context, x *exchange, m *esoed.Message, raw []byte, docGUID, docNumber string) (*message.Message, error) {
	s.mu.Lock()
	emit := s.emit
	s.mu.Unlock()
	// The id follows from the MessageGUID, so that a message stored but not answered (a crash
	// between the two) and sent again is the same hub message.
	id := docflow.NormGUID(m.Header.MessageGUID)
	if _, err := uuid.Parse(id); err != nil {
		id = envelope.NewID()
	}
	msg := message.NewMessage(id, raw)
	md := msg.Metadata
	md.Set(envelope.Type, TypePrefix+x.sum.Body)
	md.Set(envelope.ContentType, "application/xml")
	subject := docNumber
	if subject == "" {
		subject = docGUID
	}
	if subject != "" {
		md.Set(envelope.Subject, subject)
	}
	md.Set(MetaSender, m.Header.Sender.Identifier)
	md.Set(MetaSenderGUID, m.Header.Sender.GUID)
	md.Set(MetaRecipient, m.Header.Recipient.Identifier)
	md.Set(MetaRecipientGUID, m.Header.Recipient.GUID)
	md.Set(MetaMessageGUID, m.Header.MessageGUID)
	if docGUID != "" {
		md.Set(MetaDocumentGUID, docGUID)
	}
	if docNumber != "" {
		md.Set(MetaDocumentNumber, docNumber)
	}
	if err := emit(ctx, msg); err != nil {
		return nil, fmt.Errorf("message not stored: %w", err)
	}
	return msg, nil
}

// refuse answers a failed check with the fault the specification prescribes and journals it.
func (s *source) refuse(w http.ResponseWriter, r *http.Request, x *exchange, err error) {
	var ce *esoed.CheckError
	if !errors.As(err, &ce) {
		s.fail(w, r, x, err)
		return
	}
	detail := map[string]string{"reason": ce.Reason, "outcome": ce.Outcome.String(), "remote": r.RemoteAddr}
	if ce.Err != nil {
		detail["error"] = ce.Err.Error()
	}
	if x.clientCert != nil {
		detail["client_certificate"] = x.clientCert.SerialNumber.Text(16)
	}
	s.journal(r.Context(), store.JournalEntry{Kind: "esoed.refused", Actor: x.actor(), Subject: x.subject(), Result: ce.Code, Detail: detail})
	s.log.Info("ЕСОЕД message refused", "code", ce.Code, "actor", x.actor(), "subject", x.subject(), "error", err)
	writeFault(w, http.StatusInternalServerError, ce.Fault())
}

// fail answers an error of the endpoint itself (the store, the registry): the exchange is the
// recipient's failure and the sender may try again later.
func (s *source) fail(w http.ResponseWriter, r *http.Request, x *exchange, err error) {
	var ce *esoed.CheckError
	if errors.As(err, &ce) && ce.Outcome != esoed.SenderError {
		// A reply that failed its own checks (П.10–П.15) or a registry that did not answer.
		s.journal(r.Context(), store.JournalEntry{Kind: "esoed.refused", Actor: x.actor(), Subject: x.subject(), Result: ce.Code,
			Detail: map[string]string{"reason": ce.Reason, "outcome": ce.Outcome.String(), "error": err.Error()}})
		s.log.Error("ЕСОЕД message not processed", "code", ce.Code, "actor", x.actor(), "subject", x.subject(), "error", err)
		writeFault(w, http.StatusInternalServerError, ce.Fault())
		return
	}
	s.journal(r.Context(), store.JournalEntry{Kind: "esoed.refused", Actor: x.actor(), Subject: x.subject(), Result: codeInternal,
		Detail: map[string]string{"error": err.Error(), "outcome": esoed.RecipientError.String()}})
	s.log.Error("ЕСОЕД message not processed", "actor", x.actor(), "subject", x.subject(), "error", err)
	writeFault(w, http.StatusInternalServerError, &esoed.Fault{Code: esoed.FaultServer,
		String: codeInternal + ": съобщението не е обработено, опитайте отново по-късно / the message was not processed, try again later"})
}

func writeFault(w http.ResponseWriter, status int, f *esoed.Fault) {
	w.Header().Set("Content-Type", esoed.SOAPContentType)
	w.WriteHeader(status)
	_ = esoed.WriteFault(w, f)
}

func newGUID() string { return "{" + uuid.NewString() + "}" }

func nameOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
