package esoedconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/store"
)

// Codes of sending failures that the specification does not number.
const (
	codeNoEndpoint = "крайна-точка"      // the registry lists no active exchange endpoint for the recipient
	codeExhausted  = "опитите-изчерпани" // the last retry of the strategy failed too
	codeErrorReply = "ИГ"                // the recipient answered with an error notice
)

type sink struct {
	*node
	schedule esoed.RetrySchedule

	mu      sync.Mutex
	clients map[string]*http.Client // by recipient GUID and certificate serial
	closed  atomic.Bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	n, err := newNode("sink", cfg, env)
	if err != nil {
		return nil, err
	}
	return &sink{node: n, schedule: esoed.RetrySchedule{First: n.cfg.RetryFirst.D(), Retries: n.cfg.Retries}, clients: map[string]*http.Client{}}, nil
}

// Send submits the ЕСОЕД message in the payload to its recipient. Exceptions (И.7, И.8, a
// registry that does not answer) are returned for a retry until the strategy's last attempt;
// every other failure is the sender's or the recipient's error and is permanent.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	if s.closed.Load() {
		return fmt.Errorf("esoed sink %s: send after close", s.name)
	}
	attempt, _ := strconv.Atoi(msg.Metadata.Get(envelope.Attempt))
	attempt = max(attempt, 1)
	raw := msg.Payload
	if h, err := esoed.ParseHeader(bytes.NewReader(raw)); err == nil && !h.Signed {
		// Dated now: the time of signing is the time receivers judge the certificate at.
		signed, err := s.signer.SignDated(raw, s.now())
		if err != nil {
			return s.failed(ctx, msg, h, attempt, &esoed.CheckError{Code: "И.5", Outcome: esoed.SenderError,
				Reason: "съобщението не може да бъде подписано / the message cannot be signed", Err: err})
		}
		raw = signed
	}
	checks := s.sendChecks(nil)
	sum, _, recipient, err := checks.Outgoing(ctx, raw)
	if err != nil {
		return s.failed(ctx, msg, sum, attempt, err)
	}
	self := sum.Header.Sender.GUID
	endpoint, ok := recipient.Endpoint()
	if !ok {
		return s.failed(ctx, msg, sum, attempt, &esoed.CheckError{Code: codeNoEndpoint, Outcome: esoed.Exception,
			Reason: "получателят няма активна крайна точка в Регистъра / the recipient has no active endpoint in the registry", Err: errors.New(recipient.Name)})
	}

	// Recorded before the message leaves, so that an answer sent back at once on another
	// connection finds it (ИС.1, ИГ.1).
	now := s.now()
	if err := s.table.PutMsg(ctx, self, &docflow.MsgRec{MessageGUID: sum.Header.MessageGUID, Type: sum.Header.MessageType, Direction: "out",
		Peer: sum.Header.Recipient.Identifier, PeerGUID: sum.Header.Recipient.GUID, DocGUID: sum.DocGUID, Time: now}); err != nil {
		return fmt.Errorf("esoed sink %s: %w", s.name, err)
	}
	if sum.Header.MessageType == esoed.TypeRegistrationRequest {
		init := &docflow.OutDoc{DocGUID: sum.DocGUID, DocID: docIDOf(sum), Recipient: sum.Header.Recipient.Identifier,
			RecipientGUID: sum.Header.Recipient.GUID, MessageGUID: sum.Header.MessageGUID, Status: docflow.OutSent}
		if _, err := s.table.UpdateOut(ctx, self, sum.DocGUID, init, func(d *docflow.OutDoc) {
			d.MessageGUID, d.Attempts, d.Updated, d.Error, d.NextAttempt = sum.Header.MessageGUID, attempt, now, "", time.Time{}
			if d.Status == docflow.OutFailed {
				d.Status = docflow.OutSent // sent again by hand after a failure
			}
		}); err != nil {
			return fmt.Errorf("esoed sink %s: %w", s.name, err)
		}
	}

	sctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.D())
	answer, err := esoed.Submit(sctx, s.client(recipient), endpoint, raw)
	cancel()
	if err != nil {
		return s.failed(ctx, msg, sum, attempt, checks.SubmitFailed(err))
	}
	answerChecks := s.sendChecks(func(guid string) bool {
		m, err := s.table.Msg(ctx, self, guid)
		return err == nil && m != nil
	})
	ans, err := answerChecks.Answer(ctx, answer, sum)
	if err != nil {
		return s.failed(ctx, msg, sum, attempt, err)
	}

	result, detail := "empty", map[string]string{"recipient": sum.Header.Recipient.Identifier, "endpoint": endpoint, "attempt": strconv.Itoa(attempt)}
	if sum.DocGUID != "" {
		detail["document_guid"] = sum.DocGUID
	}
	if ans != nil {
		detail["answer_guid"] = ans.Header.MessageGUID
		if err := s.table.PutMsg(ctx, self, &docflow.MsgRec{MessageGUID: ans.Header.MessageGUID, Type: ans.Header.MessageType, Direction: "in",
			Peer: ans.Header.Sender.Identifier, PeerGUID: ans.Header.Sender.GUID, DocGUID: ans.DocGUID, Time: s.now()}); err != nil {
			return fmt.Errorf("esoed sink %s: %w", s.name, err)
		}
		am, _, err := esoed.ParseMessage(bytes.NewReader(answer))
		if err != nil {
			return s.failed(ctx, msg, sum, attempt, &esoed.CheckError{Code: "И.10", Outcome: esoed.RecipientError,
				Reason: "отговорът не съответства на XSD схемите / the answer breaks the XSD schemas", Err: err})
		}
		switch {
		case am.Body.StatusResponse != nil:
			sr := am.Body.StatusResponse
			result = sr.Status
			if _, err := s.table.UpdateOut(ctx, self, sr.DocID.GUID, nil, func(d *docflow.OutDoc) { docflow.ApplyAnswer(d, sum.Header.MessageType, sr, s.now()) }); err != nil {
				return fmt.Errorf("esoed sink %s: %w", s.name, err)
			}
		case am.Body.Error != nil && docflow.NormGUID(am.Body.Error.MessageGUID) != docflow.NormGUID(sum.Header.MessageGUID):
			// An error notice about another message (ИГ.1) does not fail this one: the
			// recipient took the message, and what the notice is about is journaled.
			en := am.Body.Error
			result = "ИГ.1"
			detail["error_notice"] = fmt.Sprintf("about message %q, not this one: %s: %s", en.MessageGUID, en.Type, en.Description)
		case am.Body.Error != nil:
			en := am.Body.Error
			side := esoed.SenderError
			if en.Type == esoed.ErrorInternal {
				side = esoed.RecipientError
			}
			return s.failed(ctx, msg, sum, attempt, &esoed.CheckError{Code: codeErrorReply, Outcome: side,
				Reason: "получателят отговори с известие за грешка / the recipient answered with an error notice", Err: fmt.Errorf("%s: %s", en.Type, en.Description)})
		}
	}
	if sum.Header.MessageType == esoed.TypeStatusResponse {
		// A status the administration tells of a document it received: status requests about
		// it are answered with it from now on (ПС.1–ПС.7).
		if err := s.recordOwnStatus(ctx, sum, raw); err != nil {
			return fmt.Errorf("esoed sink %s: %w", s.name, err)
		}
	}
	s.journal(ctx, store.JournalEntry{Kind: "esoed.sent", MessageID: msg.UUID, Route: msg.Metadata.Get(envelope.Route), Dossier: sum.DocNumber,
		Actor: sum.Header.Sender.Identifier, Subject: sum.Header.MessageType + " " + sum.Header.MessageGUID, Result: result, Detail: detail})
	return nil
}

// recordOwnStatus keeps the status told in an outgoing status response in the record of the
// document received.
func (s *sink) recordOwnStatus(ctx context.Context, sum *esoed.Summary, raw []byte) error {
	m, _, err := esoed.ParseMessage(bytes.NewReader(raw))
	if err != nil || m.Body.StatusResponse == nil {
		return err
	}
	sr := m.Body.StatusResponse
	_, err = s.table.UpdateIn(ctx, sum.Header.Sender.GUID, sr.DocID.GUID, func(d *docflow.InDoc) {
		d.Status, d.Updated = sr.Status, s.now()
		d.RejectionReason, d.ExpectCloseDate = "", time.Time{} // an earlier status's, not this one's
		switch sr.Status {
		case esoed.StatusRejected:
			d.RejectionReason = sr.RejectionReason
		case esoed.StatusRegistered, esoed.StatusStopped, esoed.StatusClosed, esoed.StatusAlreadyReceived:
			id := sr.DocID
			d.Registered = &id
			if !sr.ExpectCloseDate.IsZero() {
				d.ExpectCloseDate = sr.ExpectCloseDate
			}
		}
	})
	return err
}

// failed journals a failed exchange, records it with the document, and returns the error the
// engine retries (an exception before the last attempt) or not (everything else).
func (s *sink) failed(ctx context.Context, msg *message.Message, sum *esoed.Summary, attempt int, err error) error {
	code, outcome := "", esoed.Exception
	var ce *esoed.CheckError
	if errors.As(err, &ce) {
		code, outcome = ce.Code, ce.Outcome
	}
	retry := outcome == esoed.Exception
	detail := map[string]string{"outcome": outcome.String(), "attempt": strconv.Itoa(attempt), "error": err.Error()}
	var next time.Time
	if retry {
		if d, ok := s.schedule.Delay(attempt); ok {
			next = s.now().Add(d)
			detail["next_attempt"] = next.Format(time.RFC3339)
		} else {
			retry = false
			detail["exhausted"] = fmt.Sprintf("%d опита / attempts", attempt)
		}
	}
	result := code
	if result == "" {
		result = "error"
	}
	e := store.JournalEntry{Kind: "esoed.send_failed", MessageID: msg.UUID, Route: msg.Metadata.Get(envelope.Route), Result: result, Detail: detail}
	if sum != nil {
		e.Actor, e.Subject, e.Dossier = sum.Header.Sender.Identifier, sum.Header.MessageType+" "+sum.Header.MessageGUID, sum.DocNumber
		detail["recipient"] = sum.Header.Recipient.Identifier
		if sum.Header.MessageType == esoed.TypeRegistrationRequest && sum.DocGUID != "" && esoed.ValidGUID(sum.Header.Sender.GUID) {
			if _, terr := s.table.UpdateOut(ctx, sum.Header.Sender.GUID, sum.DocGUID, nil, func(d *docflow.OutDoc) {
				d.Attempts, d.Error, d.NextAttempt, d.Updated = attempt, err.Error(), next, s.now()
				if !retry {
					d.Status = docflow.OutFailed
				}
			}); terr != nil {
				s.log.Error("status of an outgoing document not recorded", "document", sum.DocGUID, "error", terr)
			}
		}
	}
	s.journal(ctx, e)
	err = fmt.Errorf("esoed sink %s: %w", s.name, err)
	if retry {
		s.log.Warn("ЕСОЕД message not sent, will retry", "code", code, "attempt", attempt, "next", next, "error", err)
		return err
	}
	if outcome == esoed.Exception {
		err = fmt.Errorf("%s: %w", codeExhausted, err)
	}
	return fault.Permanent(err)
}

// client returns the HTTP client for one recipient: the administration's transport
// certificate as the client certificate, and the recipient's server certificate checked
// against the registry (И.7).
func (s *sink) client(recipient *esoed.Entity) *http.Client {
	key := docflow.NormGUID(recipient.GUID) + "/" + recipient.CertificateSN
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[key]; ok {
		return c
	}
	rec := *recipient
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 8,
		TLSClientConfig: &tls.Config{
			Certificates: []tls.Certificate{s.pair},
			MinVersion:   tls.VersionTLS12,
			// The server is identified by the certificate the registry names for the recipient,
			// checked in VerifyConnection (И.7), not by a host name under a public CA.
			InsecureSkipVerify: true,
			// The chain must verify to the configured anchors, now, for server use, unrevoked,
			// and be the recipient's transport certificate.
			VerifyConnection: func(cs tls.ConnectionState) error {
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Revocation.Timeout.D()*2)
				defer cancel()
				return s.sendChecks(nil).ServerCertificate(ctx, cs.PeerCertificates, &rec)
			},
		},
	}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.clients[key] = c
	return c
}

// Close drops idle connections; Sends after it fail.
func (s *sink) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.CloseIdleConnections()
	}
	return nil
}

// docIDOf is the identification of the summarized document.
func docIDOf(sum *esoed.Summary) esoed.DocID {
	id := esoed.DocID{GUID: sum.DocGUID}
	if sum.DocNumber != "" {
		id.Number = &esoed.DocNumber{Number: sum.DocNumber, Date: sum.DocDate}
	}
	return id
}
