package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "set",
		Doc: "Sets metadata, JSON fields or the whole JSON payload from expressions over {meta, body}. " +
			"Every expression sees the message as it came into the step. A metadata value is the result as " +
			"text (objects and arrays as JSON); null removes the name. fields merges its results into the " +
			"JSON object payload (an empty payload starts as {}); json replaces the payload with its result.",
		Config: &SetOptions{},
		New:    newSet,
	})
}

// SetOptions configures set.
type SetOptions struct {
	Metadata map[string]string `yaml:"metadata" doc:"Metadata names mapped to expressions." example:"{subject: \"body.Message.Body.DocumentStatusResponse.DocID.DocumentNumber.DocNumber\"}"`
	Fields   map[string]string `yaml:"fields" doc:"Keys of the JSON object payload mapped to expressions whose results are set there." example:"{received_by: \"meta.source\"}"`
	JSON     string            `yaml:"json" doc:"An expression whose result becomes the whole JSON payload." example:"{\"number\": meta.subject, \"status\": body.status}"`
}

// Validate checks that something is set and compiles every expression.
func (o *SetOptions) Validate() error {
	_, err := compileSet(o)
	return err
}

type setStep struct {
	metadata []transforms.NamedExpr
	fields   []transforms.NamedExpr
	json     *transforms.Expr
	usesBody bool
}

func compileSet(o *SetOptions) (*setStep, error) {
	var errs []error
	if len(o.Metadata) == 0 && len(o.Fields) == 0 && o.JSON == "" {
		errs = append(errs, spec.FieldErrorf("metadata", "set at least one of metadata, fields or json"))
	}
	if len(o.Fields) > 0 && o.JSON != "" {
		errs = append(errs, spec.FieldErrorf("json", "set fields or json, not both"))
	}
	s := &setStep{}
	var metaBody, fieldsBody bool
	var metaErrs, fieldErrs []error
	s.metadata, metaBody, metaErrs = transforms.CompileNamed("metadata", o.Metadata)
	s.fields, fieldsBody, fieldErrs = transforms.CompileNamed("fields", o.Fields)
	s.usesBody = metaBody || fieldsBody
	errs = append(append(errs, metaErrs...), fieldErrs...)
	if o.JSON != "" {
		e, err := transforms.CompileExpr(o.JSON)
		if err != nil {
			errs = append(errs, spec.FieldErrorf("json", "%v", err))
		} else {
			s.json = e
			s.usesBody = s.usesBody || e.UsesBody()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func newSet(cfg any, _ transforms.Env) (transforms.Step, error) {
	return compileSet(cfg.(*SetOptions))
}

// Apply evaluates every expression first, then changes the message.
func (s *setStep) Apply(_ context.Context, m *transforms.Message) error {
	env := transforms.NewExprEnv(m, s.usesBody)
	meta := make([]any, len(s.metadata))
	for i, ne := range s.metadata {
		v, err := ne.Expr.Run(env)
		if err != nil {
			return fmt.Errorf("set: metadata %q: %w", ne.Name, err)
		}
		meta[i] = v
	}
	var obj map[string]any
	if len(s.fields) > 0 {
		var err error
		if obj, err = jsonObject(m); err != nil {
			return fmt.Errorf("set: fields: %w", err)
		}
		for _, ne := range s.fields {
			v, err := ne.Expr.Run(env)
			if err != nil {
				return fmt.Errorf("set: field %q: %w", ne.Name, err)
			}
			if obj[ne.Name], err = jsonValue(v); err != nil {
				return fmt.Errorf("set: field %q: %w", ne.Name, err)
			}
		}
	}
	var whole any
	if s.json != nil {
		v, err := s.json.Run(env)
		if err != nil {
			return fmt.Errorf("set: json: %w", err)
		}
		if whole, err = jsonValue(v); err != nil {
			return fmt.Errorf("set: json: %w", err)
		}
	}
	for i, ne := range s.metadata {
		if meta[i] == nil {
			delete(m.Metadata, ne.Name)
			continue
		}
		t, err := text(meta[i])
		if err != nil {
			return fmt.Errorf("set: metadata %q: %w", ne.Name, err)
		}
		m.Metadata[ne.Name] = t
	}
	switch {
	case obj != nil:
		m.SetJSON(obj)
	case s.json != nil:
		m.SetJSON(whole)
	}
	return nil
}

// jsonObject returns a copy of the payload's JSON object to merge fields into; an empty payload
// is an empty object.
func jsonObject(m *transforms.Message) (map[string]any, error) {
	if p, err := m.Payload(); err == nil && len(bytes.TrimSpace(p)) == 0 {
		return map[string]any{}, nil
	}
	v, err := m.JSON()
	if err != nil {
		return nil, err
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("payload is a JSON %T, not an object", v)
	}
	out := make(map[string]any, len(o)+4)
	for k, x := range o {
		out[k] = x
	}
	return out, nil
}

// jsonValue turns an expression's result into a decoded JSON value like Message.JSON returns
// (numbers as json.Number), so that later steps see one kind of value whatever made it. Values
// that are already JSON values are kept as they are; only numbers and other Go types are
// converted, without a round trip through bytes.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return v, nil
	case int:
		return json.Number(strconv.Itoa(v)), nil
	case int64:
		return json.Number(strconv.FormatInt(v, 10)), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("result has no JSON form: number %v", v)
		}
		return json.Number(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case map[string]any:
		for k, x := range v {
			y, err := jsonValue(x)
			if err != nil {
				return nil, err
			}
			v[k] = y
		}
		return v, nil
	case []any:
		for i, x := range v {
			y, err := jsonValue(x)
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("result has no JSON form: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("result has no JSON form: %v", err)
	}
	return out, nil
}

// text writes an expression's result as a metadata value.
func text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case json.Number:
		return string(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("result %T has no text form: %v", v, err)
	}
	return string(b), nil
}
