package regix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Defaults of the Client's durations.
const (
	// DefaultTimeout bounds a call when Client.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultPollInterval is the pause between CheckResult calls.
	DefaultPollInterval = time.Second
	// DefaultPollTimeout bounds the wait for a slow operation's result.
	DefaultPollTimeout = 2 * time.Minute
)

// Client calls the RegiX entry point, V2 or V1 (EntryPoint).
//
// Errors are classified for the engine's retry policy (see PermanentError): what a
// second try cannot change is marked permanent — a missing legal basis, a
// request the schema refuses, a SOAP fault blamed on the request
// (Client/Sender), an HTTP 4xx answer, an answer that is no SOAP envelope,
// and a response document that fails its schema. A timeout, a broken
// connection, an HTTP 5xx answer, a SOAP fault blamed on the server, and the
// register's own HasError stay retryable: RegiX reports an unavailable or
// overloaded register through HasError, which later calls often clear.
type Client struct {
	// Endpoint is the URL of the entry point, e.g.
	// https://service-regix.egov.bg/RegiX/RegiXEntryPointV2.svc.
	Endpoint string
	// HTTP sends the calls; nil means http.DefaultClient. Mutual TLS is
	// configured on its transport.
	HTTP *http.Client
	// Timeout bounds one call; zero means DefaultTimeout.
	Timeout time.Duration
	// PollInterval is the pause between CheckResult calls while Execute
	// waits for a slow operation; zero means DefaultPollInterval.
	PollInterval time.Duration
	// PollTimeout bounds how long Execute waits for a slow operation's
	// result; zero means DefaultPollTimeout.
	PollTimeout time.Duration
	// EntryPoint is the version of the entry point at Endpoint; empty means
	// V2. V1 speaks SOAP 1.2 with WS-Addressing in the namespace
	// http://tempuri.org/, as the public RegiXEntryPoint WSDL describes.
	EntryPoint EntryPoint
}

// RegisterError is an error reported by RegiX or the register itself
// (ServiceResultData.HasError).
type RegisterError struct {
	// Operation is the code of the operation called.
	Operation string
	// Text is the error text of the answer.
	Text string
}

func (e *RegisterError) Error() string {
	return fmt.Sprintf("regix: %s: the register answered with an error: %s", e.Operation, e.Text)
}

// ExecuteSynchronous builds the operation's request from params, sends it
// with the call context cc and returns the answer with its response
// document validated and turned into fields. With HasError set the result is
// returned together with a *RegisterError.
func (c *Client) ExecuteSynchronous(ctx context.Context, op *Operation, params map[string]string, rd RequestData) (*Result, error) {
	env, id, err := c.requestEnvelope("ExecuteSynchronous", op, params, rd)
	if err != nil {
		return nil, err
	}
	res, err := c.roundTrip(ctx, op, "ExecuteSynchronous", env, id)
	if err != nil {
		return res, err
	}
	if !res.IsReady {
		return res, permanent(fmt.Errorf("regix: %s: the result is not ready (ServiceCallID %s); call Execute for asynchronous operations", op.Code, res.ServiceCallID))
	}
	return res, op.complete(res)
}

// requestEnvelope checks the legal basis, builds and validates the request
// document and wraps it in the envelope of method for the client's entry
// point; nothing is sent. It returns the WS-Addressing MessageID the
// envelope carries too (V1; empty for V2).
func (c *Client) requestEnvelope(method string, op *Operation, params map[string]string, rd RequestData) ([]byte, string, error) {
	if strings.TrimSpace(rd.CallContext.LawReason) == "" {
		return nil, "", permanent(ErrNoLawReason)
	}
	arg, err := op.BuildRequest(params)
	if err != nil {
		return nil, "", permanent(err)
	}
	var env []byte
	var id string
	if c.EntryPoint == V1 {
		id = newMessageID()
		env, err = BuildV1Envelope(method, c.Endpoint, id, op.Name, arg, rd)
	} else {
		env, err = buildEnvelope(method, op.Name, arg, rd)
	}
	if err != nil {
		return nil, "", permanent(fmt.Errorf("regix: %s: %w", op.Code, err))
	}
	return env, id, nil
}

// roundTrip posts env and reads ServiceResultData, classing what went wrong:
// a SOAP fault, an HTTP error status, an answer that is no envelope, and the
// register's HasError (returned with the result as a *RegisterError).
//
// A V1 answer that is no fault must also be what the WSDL says it is
// (checkV1Answer); messageID is the request's WS-Addressing MessageID.
func (c *Client) roundTrip(ctx context.Context, op *Operation, method string, env []byte, messageID string) (*Result, error) {
	body, status, err := c.post(ctx, op, method, env)
	if err != nil {
		return nil, err
	}
	res, a, err := parseAnswer(body)
	if err == nil && c.EntryPoint == V1 {
		if err = checkV1Answer(method, messageID, a); err != nil {
			err = fmt.Errorf("regix: %w", err)
		}
	}
	var fe *FaultError
	switch {
	case errors.As(err, &fe):
		err = fmt.Errorf("regix: %s: HTTP %d: %w", op.Code, status, fe)
		if fe.sender() {
			return nil, permanent(err)
		}
		return nil, err
	case status >= 500:
		return nil, fmt.Errorf("regix: %s: HTTP %d from %s", op.Code, status, c.Endpoint)
	case status >= 400:
		return nil, permanent(fmt.Errorf("regix: %s: HTTP %d from %s", op.Code, status, c.Endpoint))
	case err != nil:
		return nil, permanent(fmt.Errorf("regix: %s: %w", op.Code, err))
	}
	if res.HasError {
		text := res.Error
		if text == "" {
			text = "(no error text)"
		}
		return res, &RegisterError{Operation: op.Code, Text: text}
	}
	return res, nil
}

// complete checks that a ready answer holds a response document and turns
// it into res.Fields.
func (op *Operation) complete(res *Result) error {
	if len(res.Response) == 0 {
		return permanent(fmt.Errorf("regix: %s: the answer has no response document (ServiceResultData/Data/Response is empty)", op.Code))
	}
	fields, err := op.ParseResponse(bytes.NewReader(res.Response))
	if err != nil {
		return permanent(err)
	}
	res.Fields = fields
	return nil
}

// post sends a request (SOAP 1.1 to V2, SOAP 1.2 to V1) and reads the
// answer, whatever its status.
func (c *Client) post(ctx context.Context, op *Operation, method string, env []byte) ([]byte, int, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint, bytes.NewReader(env))
	if err != nil {
		return nil, 0, permanent(fmt.Errorf("regix: %s: endpoint %q: %w", op.Code, c.Endpoint, err))
	}
	if c.EntryPoint == V1 {
		// SOAP 1.2 carries the action in the media type, not in SOAPAction.
		req.Header.Set("Content-Type", SOAP12ContentType+`; charset=utf-8; action="`+V1ActionPrefix+method+`"`)
	} else {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `"`+ActionPrefix+method+`"`)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, c.transportError(ctx, op, timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 2*MaxDocument+1))
	if err != nil {
		return nil, 0, c.transportError(ctx, op, timeout, err)
	}
	if len(body) > 2*MaxDocument {
		return nil, 0, permanent(fmt.Errorf("regix: %s: the answer of %s is larger than %d bytes", op.Code, c.Endpoint, 2*MaxDocument))
	}
	return body, resp.StatusCode, nil
}

// ErrTimeout reports a call that got no complete answer in time.
var ErrTimeout = errors.New("no answer in time")

// transportError words a failure to send or to read an answer; all such
// failures are retryable.
func (c *Client) transportError(ctx context.Context, op *Operation, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("regix: %s: %w from %s within %s", op.Code, ErrTimeout, c.Endpoint, timeout)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("regix: %s: call to %s cancelled: %w", op.Code, c.Endpoint, ctx.Err())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("regix: %s: %s closed the connection before answering: %w", op.Code, c.Endpoint, err)
	}
	return fmt.Errorf("regix: %s: calling %s: %w", op.Code, c.Endpoint, err)
}
