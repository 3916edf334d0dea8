// Package enrich holds the enrich step: it calls a connector that answers requests (a register
// through the regix connector, for instance) in the middle of a route, with parameters and context
// taken from the message, and merges the answer into the message's JSON payload.
//
// Values of parameters and context are expressions over {meta, body}, as in the set step: body is
// the JSON payload, meta the metadata; a literal is written as a quoted string ('"чл. 13"'). The
// payload must be a JSON object at this point (convert XML with xml_to_json first): the answer goes
// into it under into, a dotted path of object keys created as needed.
//
// A call that fails for a reason a retry may cure (the register is unavailable, it answered with an
// error, no answer in time) fails the message retryably, so the route's retry policy applies and the
// dead letter, if it comes to that, carries the connector's error text. A call the connector refuses
// (no legal basis, a bad parameter) fails it at once.
package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "enrich",
		Doc: "Calls a connector that answers requests (such as a regix connector for the central registers) " +
			"with parameters and context computed from the message by expressions over {meta, body}, and " +
			"merges the answer into the JSON object payload under into. A failure the connector may overcome " +
			"later is retried with the route's policy; a refused request fails the message at once. Not run " +
			"by aiskao try and route tests, which make no calls: there the step fails saying so.",
		Config: &Options{},
		New:    newStep,
	})
}

// Options configures enrich.
type Options struct {
	Connector  string            `yaml:"connector" doc:"Name of the connector to call; its type must answer requests (regix)." required:"true" example:"registers"`
	Operation  string            `yaml:"operation" doc:"What to ask: for a regix connector, the operation's code or full name." required:"true" example:"PersonDataSearch"`
	Parameters map[string]string `yaml:"parameters" doc:"The operation's parameters mapped to expressions over {meta, body} giving their values; an expression giving null or \"\" leaves the parameter out." required:"true" min:"1" example:"{EGN: body.applicant.egn}"`
	Context    map[string]string `yaml:"context" doc:"Context of the call (for regix: law_reason, dossier, service_uri, service_type, employee_identifier, ...) mapped to expressions, as parameters. Values given here override the connector's defaults." example:"{law_reason: '\"чл. 13, ал. 1 от Наредбата\"', dossier: meta.subject}"`
	Into       string            `yaml:"into" doc:"Where the answer goes in the JSON object payload: a key, or a dotted path of keys (registers.grao); objects on the way are created, and a value already there is replaced." required:"true" example:"registers.grao"`
}

// Validate compiles the expressions and checks into.
func (o *Options) Validate() error {
	_, err := compile(o)
	return err
}

type step struct {
	connector string
	operation string
	params    []transforms.NamedExpr
	context   []transforms.NamedExpr
	into      []string
	usesBody  bool
	caller    connectors.Caller
	route     string
}

func compile(o *Options) (*step, error) {
	var errs []error
	s := &step{connector: o.Connector, operation: o.Operation}
	exprs := func(field string, m map[string]string) []transforms.NamedExpr {
		named := make(map[string]string, len(m))
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if strings.TrimSpace(name) == "" {
				errs = append(errs, spec.FieldErrorf(field, "a name is empty"))
				continue
			}
			named[name] = m[name]
		}
		out, usesBody, cerrs := transforms.CompileNamed(field, named)
		s.usesBody = s.usesBody || usesBody
		errs = append(errs, cerrs...)
		return out
	}
	s.params = exprs("parameters", o.Parameters)
	s.context = exprs("context", o.Context)
	if o.Into != "" {
		s.into = strings.Split(o.Into, ".")
		if slices.Contains(s.into, "") {
			errs = append(errs, spec.FieldErrorf("into", "%q is not a dotted path of keys such as registers.grao", o.Into))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func newStep(cfg any, env transforms.Env) (transforms.Step, error) {
	if err := spec.Check(cfg); err != nil {
		return nil, err
	}
	s, err := compile(cfg.(*Options))
	if err != nil {
		return nil, err
	}
	s.route = env.Route
	if env.Caller != nil {
		if s.caller, err = env.Caller(s.connector); err != nil {
			return nil, spec.FieldErrorf("connector", "%v", err)
		}
	}
	return s, nil
}

// ErrDryRun is the error of an enrich step where no calls are made (aiskao try, route tests).
var ErrDryRun = errors.New("enrich: обръщения не се правят при проба / calls are not made in a dry run (aiskao try, route tests)")

// Apply computes the call, makes it and merges the answer.
func (s *step) Apply(ctx context.Context, m *transforms.Message) error {
	obj, err := object(m)
	if err != nil {
		return fmt.Errorf("enrich: %w (convert XML with xml_to_json before enrich)", err)
	}
	env := transforms.NewExprEnv(m, s.usesBody)
	params, err := values(env, "parameter", s.params)
	if err != nil {
		return err
	}
	callCtx, err := values(env, "context", s.context)
	if err != nil {
		return err
	}
	if s.caller == nil {
		return fmt.Errorf("%w: %s %s of connector %q", ErrDryRun, s.operation, slices.Sorted(maps.Keys(params)), s.connector)
	}
	wm := message.NewMessage(m.ID, nil)
	for k, v := range m.Metadata {
		wm.Metadata.Set(k, v)
	}
	res, err := s.caller.Call(ctx, connectors.CallRequest{Operation: s.operation, Parameters: params, Context: callCtx, Message: wm, Route: s.route})
	if err != nil {
		err = fmt.Errorf("enrich: %s of connector %q: %w", s.operation, s.connector, err)
		if fault.IsPermanent(err) {
			return err
		}
		return fault.Retryable(err)
	}
	data, err := jsonValue(res.Data)
	if err != nil {
		return fmt.Errorf("enrich: %s of connector %q: the answer: %w", s.operation, s.connector, err)
	}
	if err := put(obj, s.into, data); err != nil {
		return fmt.Errorf("enrich: into %s: %w", strings.Join(s.into, "."), err)
	}
	m.SetJSON(obj)
	return nil
}

// values runs expressions and writes their results as text; null and "" leave the name out.
func values(env transforms.ExprEnv, what string, exprs []transforms.NamedExpr) (map[string]string, error) {
	out := make(map[string]string, len(exprs))
	for _, ne := range exprs {
		v, err := ne.Expr.Run(env)
		if err != nil {
			return nil, fmt.Errorf("enrich: %s %s: %w", what, ne.Name, err)
		}
		var t string
		switch v := v.(type) {
		case nil:
			continue
		case string:
			t = v
		case bool:
			t = strconv.FormatBool(v)
		case int:
			t = strconv.Itoa(v)
		case float64:
			t = strconv.FormatFloat(v, 'f', -1, 64)
		case json.Number:
			t = string(v)
		default:
			return nil, fmt.Errorf("enrich: %s %s: expr %q gives a %T, not text or a number", what, ne.Name, ne.Expr, v)
		}
		if t != "" {
			out[ne.Name] = t
		}
	}
	return out, nil
}

// object returns a copy of the payload's JSON object, whose nested objects are copied on write by put.
func object(m *transforms.Message) (map[string]any, error) {
	v, err := m.JSON()
	if err != nil {
		return nil, err
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the payload is a JSON %s, not an object", kind(v))
	}
	out := make(map[string]any, len(o)+1)
	for k, x := range o {
		out[k] = x
	}
	return out, nil
}

// put sets path in obj to v, copying the objects on the way so that the value the message held
// is not changed in place.
func put(obj map[string]any, path []string, v any) error {
	for i, k := range path[:len(path)-1] {
		next := map[string]any{}
		switch cur := obj[k].(type) {
		case nil:
		case map[string]any:
			for k2, x := range cur {
				next[k2] = x
			}
		default:
			return fmt.Errorf("%s is a JSON %s, not an object", strings.Join(path[:i+1], "."), kind(cur))
		}
		obj[k] = next
		obj = next
	}
	obj[path[len(path)-1]] = v
	return nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}

// jsonValue turns an answer into decoded JSON values like Message.JSON returns (numbers as
// json.Number), so that later steps see one kind of value.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, json.Number, map[string]any, []any:
		if !numbersInside(v) {
			return v, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("has no JSON form: %w", err)
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("has no JSON form: %w", err)
	}
	return out, nil
}

// numbersInside reports whether v holds a value other than a string, bool, json.Number, map or list.
func numbersInside(v any) bool {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return false
	case map[string]any:
		for _, x := range v {
			if numbersInside(x) {
				return true
			}
		}
		return false
	case []any:
		for _, x := range v {
			if numbersInside(x) {
				return true
			}
		}
		return false
	}
	return true
}
