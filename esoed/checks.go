package esoed

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/internal/xsd"
)

// Outcome is how an exchange ends, in the terms of the specification ("Обработка на грешки").
type Outcome int

const (
	// Success: "Успешен".
	Success Outcome = iota
	// SenderError: "Неуспешен – Грешка при подателя". The same message must not be sent again.
	SenderError
	// RecipientError: "Неуспешен – Грешка при получателя". The same message must not be sent again.
	RecipientError
	// Exception: "Неуспешен – Изключение". The sender tries again on the [RetrySchedule].
	Exception
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "Успешен (success)"
	case SenderError:
		return "Неуспешен – Грешка при подателя (failed: sender's error)"
	case RecipientError:
		return "Неуспешен – Грешка при получателя (failed: recipient's error)"
	case Exception:
		return "Неуспешен – Изключение (failed: exception)"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// CheckError is a failed check of the exchange: its code in the specification (И.1–И.15 when
// sending, П.1–П.15 when receiving), the outcome the specification prescribes, and why.
type CheckError struct {
	Code    string
	Outcome Outcome
	Reason  string // Bulgarian, then English
	Err     error  // the underlying problem, if any
}

func (e *CheckError) Error() string {
	s := "esoed: " + e.Code + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *CheckError) Unwrap() error { return e.Err }

// Retry reports whether the message may be sent again (only after an exception).
func (e *CheckError) Retry() bool { return e.Outcome == Exception }

// Fault is the SOAP fault an endpoint answers with for a failed receiving check: every П check
// "generates an exception". Client for the sender's errors, Server otherwise; the faultstring
// starts with the code.
func (e *CheckError) Fault() *Fault {
	code := FaultServer
	if e.Outcome == SenderError {
		code = FaultClient
	}
	f := &Fault{Code: code, String: e.Code + ": " + e.Reason}
	if e.Err != nil {
		f.Detail = e.Err.Error()
	}
	return f
}

func fail(code string, o Outcome, reason string, err error) *CheckError {
	return &CheckError{Code: code, Outcome: o, Reason: reason, Err: err}
}

// validate runs the XSD check once and tells a document that is not XML (a syntax error, a
// DOCTYPE) from one that breaks the schema.
func validate(raw []byte) (notXML, invalid error) {
	s, err := Schema()
	if err != nil {
		return nil, err
	}
	err = s.Validate(bytes.NewReader(raw))
	var ve *xsd.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if p.Rule == "syntax" || p.Rule == "doctype" {
				return err, nil
			}
		}
		return nil, err
	}
	if err != nil {
		return err, nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return errors.New("empty"), nil
	}
	return nil, nil
}

// lookup asks the registry; a registry that cannot answer is an exception, not a verdict.
func lookup(ctx context.Context, reg Registry, p Participant, code string, o Outcome, reason string) (*Entity, *CheckError) {
	e, err := reg.Lookup(ctx, p.GUID)
	if errors.Is(err, ErrUnknownParticipant) || (err == nil && !e.Matches(p)) {
		if err == nil {
			err = fmt.Errorf("the registry has %s as %s (%s)", p.GUID, e.Identifier, e.Name)
		}
		return nil, fail(code, o, reason, err)
	}
	if err != nil {
		return nil, fail(code, Exception, "регистърът на участниците не отговаря / the participants registry does not answer", err)
	}
	return e, nil
}

// signedBy checks that raw carries a signature (code1) made with the transport certificate of
// e (code2), whose chain trust verifies at the message's signing time.
func signedBy(ctx context.Context, trust *Trust, raw []byte, e *Entity, code1, code2 string, o Outcome) *CheckError {
	s, err := VerifySignature(ctx, raw, trust)
	if errors.Is(err, ErrNoSignature) {
		return fail(code1, o, "съобщението не е електронно подписано / the message is not signed", nil)
	}
	if err != nil {
		return certFailure(code2, o, "подписът на съобщението не е валиден или подписващият сертификат не е доверен / the message's signature does not verify or its certificate is not trusted", err)
	}
	if err := e.Identifies(s.Chain, trust); err != nil {
		return fail(code2, o, "съобщението не е подписано с транспортния сертификат на "+e.Name+" / the message is not signed with the participant's transport certificate", err)
	}
	return nil
}

// certFailure is the failure of a certificate check: an exception (to be tried again) when
// only the revocation status could not be learnt, the outcome o otherwise.
func certFailure(code string, o Outcome, reason string, err error) *CheckError {
	if errors.Is(err, ErrRevocationUnknown) {
		return fail(code, Exception, "статусът на сертификата не може да бъде проверен (списък с отменени сертификати, OCSP) / the certificate's revocation status cannot be learnt now", err)
	}
	return fail(code, o, reason, err)
}

// peerCertificate verifies the certificate chain a connection's other side presented, at now,
// for the use given, and that it is e's transport certificate.
func peerCertificate(ctx context.Context, trust *Trust, now func() time.Time, chain []*x509.Certificate, usage x509.ExtKeyUsage, e *Entity) error {
	at := time.Now()
	if now != nil {
		at = now()
	}
	verified, err := trust.Verify(ctx, chain, at, usage)
	if err != nil {
		return err
	}
	return e.Identifies(verified, trust)
}

// SendChecks are the checks of the sending procedure (И.1–И.15).
type SendChecks struct {
	Registry Registry
	// Trust verifies the certificates of signatures and of the recipient's endpoint; nil
	// trusts no one.
	Trust *Trust
	// Now is the clock for the server certificate (И.7); nil is time.Now.
	Now func() time.Time
	// Seen reports whether a message with this MessageGUID was already received or sent (И.15).
	Seen func(messageGUID string) bool
}

// Outgoing checks a message about to be sent (И.1–И.6) and returns its summary and the
// participants from the registry. Every failure is the sender's error, except a registry that
// does not answer (an exception).
func (c *SendChecks) Outgoing(ctx context.Context, raw []byte) (sum *Summary, sender, recipient *Entity, err error) {
	notXML, invalid := validate(raw)
	if notXML != nil {
		return nil, nil, nil, fail("И.1", SenderError, "изходящото съобщение не е валиден XML документ / the outgoing message is not XML", notXML)
	}
	if invalid != nil {
		return nil, nil, nil, fail("И.2", SenderError, "изходящото съобщение не съответства на XSD схемите / the outgoing message breaks the XSD schemas", invalid)
	}
	sum, perr := ParseHeader(bytes.NewReader(raw))
	if perr != nil {
		return nil, nil, nil, fail("И.2", SenderError, "изходящото съобщение не съответства на XSD схемите / the outgoing message breaks the XSD schemas", perr)
	}
	var ce *CheckError
	if sender, ce = lookup(ctx, c.Registry, sum.Header.Sender, "И.3", SenderError, "подателят не е в Регистъра на участниците / the sender is not in the participants registry"); ce != nil {
		return sum, nil, nil, ce
	}
	if recipient, ce = lookup(ctx, c.Registry, sum.Header.Recipient, "И.4", SenderError, "получателят не е в Регистъра на участниците / the recipient is not in the participants registry"); ce != nil {
		return sum, sender, nil, ce
	}
	if ce := signedBy(ctx, c.Trust, raw, sender, "И.5", "И.6", SenderError); ce != nil {
		return sum, sender, recipient, ce
	}
	return sum, sender, recipient, nil
}

// ServerCertificate checks the certificate chain the recipient's endpoint presented (И.7): it
// must chain to a trust anchor, be valid now for TLS server use, not be revoked, and be the
// recipient's transport certificate in the registry. A failure stops the sending as an
// exception. Call it from tls.Config.VerifyConnection with the peer certificates.
func (c *SendChecks) ServerCertificate(ctx context.Context, chain []*x509.Certificate, recipient *Entity) error {
	if len(chain) == 0 {
		return fail("И.7", Exception, "сървърът не представи сертификат / the server presented no certificate", nil)
	}
	if err := peerCertificate(ctx, c.Trust, c.Now, chain, x509.ExtKeyUsageServerAuth, recipient); err != nil {
		return fail("И.7", Exception, "сървърният сертификат не е доверен транспортен сертификат на получателя / the server certificate is not the recipient's trusted transport certificate", err)
	}
	return nil
}

// SubmitFailed classifies an error of [Submit] (И.8): a fault or a transport failure is an
// exception, to be retried.
func (c *SendChecks) SubmitFailed(err error) error {
	if err == nil {
		return nil
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		return err
	}
	return fail("И.8", Exception, "изпращането завърши с изключение / sending ended with an exception", err)
}

// Answer checks the synchronous answer to a message sent (И.9–И.15). A nil answer (the
// endpoint accepted the message for later processing) passes with a nil summary. Every
// failure is the recipient's error. The answer must further not be a registration or a status
// request (the procedure's "(!)"): that, too, is the recipient's error, under И.10.
func (c *SendChecks) Answer(ctx context.Context, answer []byte, sent *Summary) (*Summary, error) {
	if answer == nil {
		return nil, nil
	}
	notXML, invalid := validate(answer)
	if notXML != nil {
		return nil, fail("И.9", RecipientError, "отговорът не е валиден XML документ / the answer is not XML", notXML)
	}
	if invalid != nil {
		return nil, fail("И.10", RecipientError, "отговорът не съответства на XSD схемите / the answer breaks the XSD schemas", invalid)
	}
	sum, err := ParseHeader(bytes.NewReader(answer))
	if err != nil {
		return nil, fail("И.10", RecipientError, "отговорът не съответства на XSD схемите / the answer breaks the XSD schemas", err)
	}
	if t := sum.Header.MessageType; t == TypeRegistrationRequest || t == TypeStatusRequest {
		return sum, fail("И.10", RecipientError, "отговорът не може да бъде заявление / an answer cannot be a request", fmt.Errorf("answer is %s", t))
	}
	if !sameParticipant(sum.Header.Sender, sent.Header.Recipient) {
		return sum, fail("И.11", RecipientError, "подателят на отговора не е получателят на съобщението / the answer's sender is not the message's recipient",
			fmt.Errorf("%s %s, want %s %s", sum.Header.Sender.Identifier, sum.Header.Sender.GUID, sent.Header.Recipient.Identifier, sent.Header.Recipient.GUID))
	}
	if !sameParticipant(sum.Header.Recipient, sent.Header.Sender) {
		return sum, fail("И.12", RecipientError, "получателят на отговора не е подателят на съобщението / the answer's recipient is not the message's sender",
			fmt.Errorf("%s %s, want %s %s", sum.Header.Recipient.Identifier, sum.Header.Recipient.GUID, sent.Header.Sender.Identifier, sent.Header.Sender.GUID))
	}
	if !sum.Signed {
		return sum, fail("И.13", RecipientError, "отговорът не е електронно подписан / the answer is not signed", nil)
	}
	recipient, ce := lookup(ctx, c.Registry, sent.Header.Recipient, "И.14", RecipientError, "получателят не е в Регистъра на участниците / the recipient is not in the participants registry")
	if ce != nil {
		return sum, ce
	}
	if ce := signedBy(ctx, c.Trust, answer, recipient, "И.13", "И.14", RecipientError); ce != nil {
		return sum, ce
	}
	if sum.Header.MessageGUID == sent.Header.MessageGUID || (c.Seen != nil && c.Seen(sum.Header.MessageGUID)) {
		return sum, fail("И.15", RecipientError, "отговорът повтаря идентификатор на вече получено или изпратено съобщение / the answer's MessageGUID is one already received or sent",
			errors.New(sum.Header.MessageGUID))
	}
	return sum, nil
}

// sameParticipant compares two header participants by GUID and ЕИК/БУЛСТАТ, as the
// specification requires.
func sameParticipant(a, b Participant) bool {
	return a.Identifier == b.Identifier && normalGUID(a.GUID) == normalGUID(b.GUID) && normalGUID(a.GUID) != ""
}

// ReceiveChecks are the checks of the receiving procedure (П.1–П.15).
type ReceiveChecks struct {
	// Self are the participants this endpoint answers for (П.4).
	Self     []Participant
	Registry Registry
	// Trust verifies the certificates of the client and of signatures; nil trusts no one.
	Trust *Trust
	// Now is the clock for the client certificate (П.6); nil is time.Now.
	Now func() time.Time
	// Seen reports whether a message with this MessageGUID was already received or sent (П.9).
	Seen func(messageGUID string) bool
}

// Incoming checks a message an endpoint received (П.1–П.9), given the client certificate chain
// of the connection (leaf first; empty when none): the chain must verify to a trust anchor now,
// for client use, and be the sender's transport certificate (П.6). It returns the message's
// summary and its sender from the registry. Every failure is answered with [CheckError.Fault]; all are the sender's errors,
// except a registry that does not answer.
func (c *ReceiveChecks) Incoming(ctx context.Context, raw []byte, clientChain []*x509.Certificate) (*Summary, *Entity, error) {
	if len(clientChain) == 0 || clientChain[0] == nil {
		return nil, nil, fail("П.1", SenderError, "липсва клиентски сертификат / no client certificate", nil)
	}
	notXML, invalid := validate(raw)
	if notXML != nil {
		return nil, nil, fail("П.2", SenderError, "съобщението не е валиден XML документ / the message is not XML", notXML)
	}
	if invalid != nil {
		return nil, nil, fail("П.3", SenderError, "съобщението не съответства на XSD схемите / the message breaks the XSD schemas", invalid)
	}
	sum, err := ParseHeader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fail("П.3", SenderError, "съобщението не съответства на XSD схемите / the message breaks the XSD schemas", err)
	}
	mine := false
	for _, p := range c.Self {
		mine = mine || sameParticipant(p, sum.Header.Recipient)
	}
	if !mine {
		return sum, nil, fail("П.4", SenderError, "получателят на съобщението не се обслужва от тази крайна точка / the recipient is not served by this endpoint",
			fmt.Errorf("recipient %s %s", sum.Header.Recipient.Identifier, sum.Header.Recipient.GUID))
	}
	sender, ce := lookup(ctx, c.Registry, sum.Header.Sender, "П.5", SenderError, "подателят не е активен участник в Регистъра / the sender is not an active participant in the registry")
	if ce != nil {
		return sum, nil, ce
	}
	if !sender.Active() {
		return sum, sender, fail("П.5", SenderError, "подателят не е активен участник в Регистъра / the sender is not an active participant in the registry",
			fmt.Errorf("%s is %s", sender.Name, sender.Status))
	}
	if err := peerCertificate(ctx, c.Trust, c.Now, clientChain, x509.ExtKeyUsageClientAuth, sender); err != nil {
		return sum, sender, certFailure("П.6", SenderError, "клиентският сертификат не е доверен транспортен сертификат на подателя / the client certificate is not the sender's trusted transport certificate", err)
	}
	if ce := signedBy(ctx, c.Trust, raw, sender, "П.7", "П.8", SenderError); ce != nil {
		return sum, sender, ce
	}
	if c.Seen != nil && c.Seen(sum.Header.MessageGUID) {
		return sum, sender, fail("П.9", SenderError, "съобщението вече е получено / the message was already received", errors.New(sum.Header.MessageGUID))
	}
	return sum, sender, nil
}

// Reply checks the answer an endpoint is about to return to a message it received
// (П.10–П.15). Every failure is the recipient's own error, answered with a fault.
func (c *ReceiveChecks) Reply(ctx context.Context, reply []byte, incoming *Summary) error {
	notXML, invalid := validate(reply)
	if notXML != nil {
		return fail("П.10", RecipientError, "отговорът не е валиден XML документ / the answer is not XML", notXML)
	}
	if invalid != nil {
		return fail("П.11", RecipientError, "отговорът не съответства на XSD схемите / the answer breaks the XSD schemas", invalid)
	}
	sum, err := ParseHeader(bytes.NewReader(reply))
	if err != nil {
		return fail("П.11", RecipientError, "отговорът не съответства на XSD схемите / the answer breaks the XSD schemas", err)
	}
	if !sameParticipant(sum.Header.Sender, incoming.Header.Recipient) {
		return fail("П.12", RecipientError, "подателят на отговора не е получателят на съобщението / the answer's sender is not the message's recipient",
			fmt.Errorf("%s %s", sum.Header.Sender.Identifier, sum.Header.Sender.GUID))
	}
	if !sameParticipant(sum.Header.Recipient, incoming.Header.Sender) {
		return fail("П.13", RecipientError, "получателят на отговора не е подателят на съобщението / the answer's recipient is not the message's sender",
			fmt.Errorf("%s %s", sum.Header.Recipient.Identifier, sum.Header.Recipient.GUID))
	}
	if !sum.Signed {
		return fail("П.14", RecipientError, "отговорът не е електронно подписан / the answer is not signed", nil)
	}
	self, ce := lookup(ctx, c.Registry, sum.Header.Sender, "П.15", RecipientError, "подателят на отговора не е в Регистъра / the answer's sender is not in the registry")
	if ce != nil {
		return ce
	}
	if ce := signedBy(ctx, c.Trust, reply, self, "П.14", "П.15", RecipientError); ce != nil {
		return ce
	}
	return nil
}
