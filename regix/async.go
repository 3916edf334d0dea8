package regix

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotReady reports a slow operation whose result did not come within the
// client's PollTimeout. It is retryable: RegiX keeps working on the call.
var ErrNotReady = errors.New("the result is not ready")

// Execute calls the operation like ExecuteSynchronous, but through the entry
// point's Execute method, which suits slow (asynchronous) registers: when the
// answer says the result is still being prepared (a ServiceCallID and a
// VerificationCode without data), Execute asks CheckResult every
// PollInterval until the result is ready, the register reports an error, or
// PollTimeout passes (ErrNotReady, retryable).
func (c *Client) Execute(ctx context.Context, op *Operation, params map[string]string, rd RequestData) (*Result, error) {
	env, id, err := c.requestEnvelope("Execute", op, params, rd)
	if err != nil {
		return nil, err
	}
	res, err := c.roundTrip(ctx, op, "Execute", env, id)
	if err != nil {
		return res, err
	}
	interval, limit := c.PollInterval, c.PollTimeout
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if limit <= 0 {
		limit = DefaultPollTimeout
	}
	deadline := time.Now().Add(limit)
	for pending(res) {
		if res.ServiceCallID == "" {
			return res, permanent(fmt.Errorf("regix: %s: the result is not ready and the answer has no ServiceCallID to ask for it", op.Code))
		}
		if time.Now().Add(interval).After(deadline) {
			return res, fmt.Errorf("regix: %s: %w after %s (ServiceCallID %s)", op.Code, ErrNotReady, limit, res.ServiceCallID)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("regix: %s: waiting for ServiceCallID %s: %w", op.Code, res.ServiceCallID, ctx.Err())
		case <-t.C:
		}
		id := res.ServiceCallID
		if res, err = c.checkResult(ctx, op, id, res.VerificationCode); err != nil {
			return res, err
		}
		if res.ServiceCallID == "" {
			res.ServiceCallID = id
		}
	}
	return res, op.complete(res)
}

// CheckResult asks once for the result of an earlier Execute of op, by the
// ServiceCallID and VerificationCode of its answer (V1 has no
// VerificationCode: it is ignored). A result that is ready
// has its response document validated and turned into fields; one that is
// not is returned as it is (IsReady false, or no data yet).
func (c *Client) CheckResult(ctx context.Context, op *Operation, serviceCallID, verificationCode string) (*Result, error) {
	res, err := c.checkResult(ctx, op, serviceCallID, verificationCode)
	if err != nil || pending(res) {
		return res, err
	}
	return res, op.complete(res)
}

func (c *Client) checkResult(ctx context.Context, op *Operation, serviceCallID, verificationCode string) (*Result, error) {
	if strings.TrimSpace(serviceCallID) == "" {
		return nil, permanent(fmt.Errorf("regix: %s: CheckResult needs a ServiceCallID", op.Code))
	}
	if c.EntryPoint != V1 {
		return c.roundTrip(ctx, op, "CheckResult", checkEnvelope(serviceCallID, verificationCode), "")
	}
	if !decimalRE.MatchString(strings.TrimSpace(serviceCallID)) {
		return nil, permanent(fmt.Errorf("regix: %s: ServiceCallID %q is not a decimal number, as the V1 entry point's are", op.Code, serviceCallID))
	}
	id := newMessageID()
	return c.roundTrip(ctx, op, "CheckResult", BuildV1CheckEnvelope(c.Endpoint, id, strings.TrimSpace(serviceCallID)), id)
}

// pending reports an answer that says the result is still being prepared:
// no error and no data, either not ready or carrying the VerificationCode
// that RegiX gives only for calls in progress.
func pending(res *Result) bool {
	return !res.HasError && len(res.Response) == 0 && (!res.IsReady || res.VerificationCode != "")
}

// checkEnvelope builds the SOAP envelope of CheckResult: the argument wraps
// ServiceCheckResultArgument as Execute's request wraps ServiceRequestData.
func checkEnvelope(serviceCallID, verificationCode string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<soapenv:Envelope xmlns:soapenv="%s" xmlns:reg="%s" xmlns:tem="%s">`, SOAPNS, EntryPointNS, SignedDataNS)
	b.WriteString(`<soapenv:Header/><soapenv:Body><reg:CheckResult><reg:argument><tem:ServiceCheckResultArgument>`)
	elem(&b, "ServiceCallID", serviceCallID, true)
	elem(&b, "VerificationCode", verificationCode, true)
	b.WriteString(`</tem:ServiceCheckResultArgument></reg:argument></reg:CheckResult></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}
