package regixconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "regix",
		Doc: "Calls the central registers through the RegiX entry point (V2, or V1 as its public WSDL describes it), from the enrich step: builds the " +
			"operation's request from the step's parameters and validates it against the register's schema, " +
			"refuses a call without a legal basis before anything leaves, validates the answer and gives its " +
			"fields to the route. Mutual TLS, a circuit breaker per register and a cache per operation that " +
			"keeps answers within one dossier; every call is journaled (kind regix.call) with personal data as " +
			"journal_personal_data says.",
		Config:    &Config{},
		NewCaller: func(cfg any, env connectors.Env) (connectors.Caller, error) { return New(cfg, env) },
	})
}

// JournalKind is the kind of the journal entries of register calls.
const JournalKind = "regix.call"

// Result codes of journal entries.
const (
	ResultOK            = "ok"
	ResultRefused       = "refused"
	ResultRegisterError = "register_error"
	ResultFault         = "fault"
	ResultTimeout       = "timeout"
	ResultUnavailable   = "unavailable"
	ResultInvalid       = "invalid_answer"
	ResultFailed        = "failed"
)

// Caller calls RegiX for the routes of one connector.
type Caller struct {
	cfg     Config
	ops     *regix.Operations
	opts    map[*regix.Operation]Operation
	client  *regix.Client
	http    *http.Client
	breaker *regix.Breaker
	cache   *regix.Cache
	journal store.Journal
	log     *slog.Logger
	name    string
}

// New makes a regix caller from its options.
func New(cfg any, env connectors.Env) (*Caller, error) {
	c, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, err
	}
	ops, err := regix.Catalog()
	if err != nil {
		return nil, err
	}
	hc, err := c.TLS.HTTPClient(env.BaseDir)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl := &Caller{
		cfg: c, ops: ops, opts: map[*regix.Operation]Operation{}, http: hc,
		client: &regix.Client{Endpoint: c.URL, HTTP: hc, Timeout: c.Timeout.D(),
			PollInterval: c.PollInterval.D(), PollTimeout: c.PollTimeout.D(), EntryPoint: regix.EntryPoint(c.EntryPoint)},
		breaker: regix.NewBreaker(c.BreakerFailures, c.BreakerPause.D()),
		cache:   regix.NewCache(c.CacheSize),
		log:     log.With("connector", env.Name),
		name:    env.Name,
	}
	if env.Journal != nil {
		cl.journal = env.Journal
	}
	for name, o := range c.Operations {
		op, _ := ops.Lookup(name) // Validate checked the names
		cl.opts[op] = o
	}
	return cl, nil
}

// Close releases idle connections.
func (c *Caller) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// contextNames maps the names of CallRequest.Context to what they set.
var contextNames = map[string]func(rd *regix.RequestData, v string){
	"law_reason":                     func(rd *regix.RequestData, v string) { rd.CallContext.LawReason = v },
	"service_uri":                    func(rd *regix.RequestData, v string) { rd.CallContext.ServiceURI = v },
	"service_type":                   func(rd *regix.RequestData, v string) { rd.CallContext.ServiceType = v },
	"employee_identifier":            func(rd *regix.RequestData, v string) { rd.CallContext.EmployeeIdentifier = v },
	"employee_names":                 func(rd *regix.RequestData, v string) { rd.CallContext.EmployeeNames = v },
	"employee_additional_identifier": func(rd *regix.RequestData, v string) { rd.CallContext.EmployeeAditionalIdentifier = v },
	"employee_position":              func(rd *regix.RequestData, v string) { rd.CallContext.EmployeePosition = v },
	"administration_oid":             func(rd *regix.RequestData, v string) { rd.CallContext.AdministrationOId = v },
	"administration_name":            func(rd *regix.RequestData, v string) { rd.CallContext.AdministrationName = v },
	"responsible_person_identifier":  func(rd *regix.RequestData, v string) { rd.CallContext.ResponsiblePersonIdentifier = v },
	"remark":                         func(rd *regix.RequestData, v string) { rd.CallContext.Remark = v },
	"citizen_egn":                    func(rd *regix.RequestData, v string) { rd.CitizenEGN = v },
	"employee_egn":                   func(rd *regix.RequestData, v string) { rd.EmployeeEGN = v },
	"dossier":                        func(*regix.RequestData, string) {},
}

// requestData is the connector's defaults with the call's context over them.
func (c *Caller) requestData(ctx map[string]string) (regix.RequestData, error) {
	d := c.cfg.CallContext
	rd := regix.RequestData{
		CallContext: regix.CallContext{
			ServiceType: d.ServiceType, EmployeeIdentifier: d.EmployeeIdentifier, EmployeeNames: d.EmployeeNames,
			EmployeePosition: d.EmployeePosition, AdministrationOId: d.AdministrationOID, AdministrationName: d.AdministrationName,
			ResponsiblePersonIdentifier: d.ResponsiblePersonIdentifier, Remark: d.Remark,
		},
		SignResult: c.cfg.SignResult,
	}
	var unknown []string
	for k, v := range ctx {
		set, ok := contextNames[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		if v = strings.TrimSpace(v); v != "" {
			set(&rd, v)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := make([]string, 0, len(contextNames))
		for k := range contextNames {
			known = append(known, k)
		}
		sort.Strings(known)
		return rd, fmt.Errorf("unknown context name %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	if rd.CallContext.ServiceURI == "" {
		rd.CallContext.ServiceURI = strings.TrimSpace(ctx["dossier"])
	}
	return rd, nil
}

// Call asks the register. See the package documentation for the context names.
func (c *Caller) Call(ctx context.Context, req connectors.CallRequest) (connectors.CallResult, error) {
	start := time.Now()
	dossier := strings.TrimSpace(req.Context["dossier"])
	e := store.JournalEntry{Kind: JournalKind, Route: req.Route, Dossier: dossier, Subject: req.Operation, Detail: map[string]string{}}
	if req.Message != nil {
		e.MessageID = req.Message.UUID
	}
	op, ok := c.ops.Lookup(req.Operation)
	r := c.redactor(op, req.Parameters)
	if !ok {
		err := fault.Permanent(fmt.Errorf("regix: отказано: непозната операция %q / refused: unknown operation %q (known: %s)", req.Operation, req.Operation, codes(c.ops)))
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultRefused, err, start)
	}
	e.Subject = op.Register + "/" + op.Code
	e.Detail["operation"] = op.Name
	e.Detail["parameters"] = r.params(req.Parameters)
	rd, err := c.requestData(req.Context)
	e.Actor = firstOf(rd.CallContext.EmployeeIdentifier, rd.CallContext.ResponsiblePersonIdentifier, rd.CallContext.AdministrationName)
	e.LegalBasis = rd.CallContext.LawReason
	for k, v := range map[string]string{"service_uri": rd.CallContext.ServiceURI, "service_type": rd.CallContext.ServiceType} {
		if v != "" {
			e.Detail[k] = v
		}
	}
	if err != nil {
		err = fault.Permanent(fmt.Errorf("regix: отказано / refused: %s: %w", op.Code, err))
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultRefused, err, start)
	}
	if rd.CallContext.LawReason == "" {
		err := fault.Permanent(fmt.Errorf("regix: отказано: заявката към %s няма правно основание (law_reason) и не е изпратена / refused: the request to %s has no legal basis (law_reason) and was not sent: %w",
			op.Code, op.Code, regix.ErrNoLawReason))
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultRefused, err, start)
	}
	if rd.CallContext.ServiceURI == "" || rd.CallContext.ServiceType == "" {
		err := fault.Permanent(fmt.Errorf("regix: отказано: заявката към %s не посочва преписка (dossier или service_uri) и вид услуга (service_type) / refused: the request to %s names no dossier (dossier or service_uri) or kind of service (service_type)",
			op.Code, op.Code))
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultRefused, err, start)
	}
	if _, err := op.BuildRequest(req.Parameters); err != nil {
		err = fault.Permanent(fmt.Errorf("regix: отказано: невалидна заявка / refused: invalid request: %w", err))
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultRefused, err, start)
	}

	o := c.opts[op]
	var key string
	if o.Cache > 0 && (o.ShareAcrossDossiers || dossier != "") {
		scope := dossier
		if o.ShareAcrossDossiers {
			scope = ""
		}
		key = regix.CacheKey(op, req.Parameters, scope)
		if res, ok := c.cache.Get(key); ok {
			e.Detail["cached"] = "true"
			return c.result(res), c.finish(ctx, e, r, ResultOK, nil, start)
		}
	}
	if err := c.breaker.Allow(op.Register); err != nil {
		return connectors.CallResult{}, c.finish(ctx, e, r, ResultUnavailable, err, start)
	}
	res, attempts, err := c.execute(ctx, op, req.Parameters, rd, o.Asynchronous)
	c.breaker.Done(op.Register, err)
	if attempts > 1 {
		e.Detail["attempts"] = strconv.Itoa(attempts)
	}
	if res != nil && res.ServiceCallID != "" {
		e.Detail["service_call_id"] = res.ServiceCallID
	}
	if err != nil {
		return connectors.CallResult{}, c.finish(ctx, e, r, resultCode(err), err, start)
	}
	if key != "" {
		c.cache.Put(key, res, o.Cache.D())
	}
	return c.result(res), c.finish(ctx, e, r, ResultOK, nil, start)
}

// execute calls the operation, trying again at once what failed before the register answered.
func (c *Caller) execute(ctx context.Context, op *regix.Operation, p map[string]string, rd regix.RequestData, async bool) (*regix.Result, int, error) {
	for attempt := 1; ; attempt++ {
		var res *regix.Result
		var err error
		if async {
			res, err = c.client.Execute(ctx, op, p, rd)
		} else {
			res, err = c.client.ExecuteSynchronous(ctx, op, p, rd)
		}
		var re *regix.RegisterError
		if err == nil || fault.IsPermanent(err) || errors.As(err, &re) || errors.Is(err, regix.ErrNotReady) ||
			ctx.Err() != nil || attempt >= c.cfg.Attempts {
			return res, attempt, err
		}
		c.log.Debug("regix call failed, trying again", "operation", op.Code, "attempt", attempt, "error", c.redactor(op, p).log(err.Error()))
		t := time.NewTimer(c.cfg.RetryBackoff.D())
		select {
		case <-ctx.Done():
			t.Stop()
			return res, attempt, err
		case <-t.C:
		}
	}
}

func (c *Caller) result(res *regix.Result) connectors.CallResult {
	// Each message gets its own copy: answers are shared through the cache, and later steps
	// may change what they are given.
	return connectors.CallResult{Data: copyValue(res.Fields), Raw: res.Response}
}

// finish journals the call and logs it, and returns err. A call that succeeded but could not be
// journaled fails (retryably): no register data is used without its record.
func (c *Caller) finish(ctx context.Context, e store.JournalEntry, r redactor, code string, err error, start time.Time) error {
	e.Result = code
	e.Detail["duration_ms"] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
	if err != nil {
		e.Detail["error"] = r.text(err.Error())
	}
	attrs := []any{"operation", e.Subject, "route", e.Route, "dossier", e.Dossier, "result", code,
		"parameters", r.log(e.Detail["parameters"])}
	if err != nil {
		c.log.Warn("regix call failed", append(attrs, "error", r.log(err.Error()))...)
	} else {
		c.log.Debug("regix call", attrs...)
	}
	if c.journal == nil {
		return err
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, jerr := c.journal.AppendJournal(jctx, e); jerr != nil {
		c.log.Error("regix call not journaled", "operation", e.Subject, "dossier", e.Dossier, "error", jerr)
		if err == nil {
			return fmt.Errorf("regix: %s: the call could not be journaled, so its answer is not used: %w", e.Subject, jerr)
		}
	}
	return err
}

// redactor hides personal data of one call in the journal, as journal_personal_data says, and
// in logs (always masked).
type redactor struct {
	level  string
	values []string // values of personal parameters, longest first
}

func (c *Caller) redactor(op *regix.Operation, p map[string]string) redactor {
	r := redactor{level: c.cfg.JournalPersonalData}
	for k, v := range p {
		personal := true
		if op != nil {
			for _, prm := range op.Params {
				if prm.Name == k {
					personal = prm.Personal()
				}
			}
		}
		if personal && len(v) >= 3 {
			r.values = append(r.values, v)
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	return r
}

// mask hides all of v but its last four characters (all of it with none).
func mask(level, v string) string {
	rs := []rune(v)
	keep := 4
	if level == "none" || len(rs) <= keep {
		keep = 0
	}
	return strings.Repeat("*", len(rs)-keep) + string(rs[len(rs)-keep:])
}

// text redacts free text: the call's personal values and any ЕГН in it.
func (r redactor) text(s string) string {
	if r.level == "full" {
		return s
	}
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, mask(r.level, v))
	}
	if r.level == "none" {
		return regix.HidePersonalNumbers(s)
	}
	return regix.MaskPersonalNumbers(s)
}

// log is text redacted for the logs, which always mask.
func (r redactor) log(s string) string {
	if r.level == "full" {
		r.level = "masked"
	}
	return r.text(s)
}

// params writes parameters as "name=value, ..." in name order; none keeps the names only.
func (r redactor) params(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if r.level == "none" {
		return strings.Join(keys, ", ")
	}
	for i, k := range keys {
		keys[i] = k + "=" + r.text(p[k])
	}
	return strings.Join(keys, ", ")
}

// resultCode classes an error of a call for the journal.
func resultCode(err error) string {
	var re *regix.RegisterError
	var fe *regix.FaultError
	var oe *regix.OpenError
	switch {
	case errors.As(err, &re):
		return ResultRegisterError
	case errors.As(err, &fe):
		return ResultFault
	case errors.As(err, &oe):
		return ResultUnavailable
	case errors.Is(err, regix.ErrTimeout), errors.Is(err, regix.ErrNotReady), errors.Is(err, context.DeadlineExceeded):
		return ResultTimeout
	case fault.IsPermanent(err):
		return ResultInvalid
	}
	return ResultFailed
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// copyValue copies the maps and lists of a parsed answer.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyValue(x)
		}
		return out
	}
	return v
}
