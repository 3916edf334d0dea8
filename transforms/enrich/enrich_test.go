package enrich

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

// fakeCaller answers with data, or fails with err, and keeps the requests.
type fakeCaller struct {
	data any
	err  error
	reqs []connectors.CallRequest
}

func (f *fakeCaller) Call(_ context.Context, req connectors.CallRequest) (connectors.CallResult, error) {
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return connectors.CallResult{}, f.err
	}
	return connectors.CallResult{Data: f.data, Raw: []byte("<x/>")}, nil
}

func (f *fakeCaller) Close() error { return nil }

const application = `{"number":"94-00-17","applicant":{"egn":"8506258485","names":"Ивелина Димитрова"},"company":{"eik":201593301},"registers":{"other":"kept"}}`

func build(t *testing.T, o Options, caller connectors.Caller) transforms.Step {
	t.Helper()
	env := transforms.Env{Route: "applications", Caller: func(name string) (connectors.Caller, error) {
		if name != "registers" {
			return nil, errors.New(`connector "` + name + `" is not configured`)
		}
		return caller, nil
	}}
	s, err := newStep(&o, env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var person = Options{
	Connector:  "registers",
	Operation:  "PersonDataSearch",
	Parameters: map[string]string{"EGN": "body.applicant.egn", "Missing": "body.nothing"},
	Context:    map[string]string{"law_reason": `"чл. 13"`, "dossier": "meta.subject", "service_type": "body.company.eik", "empty": `""`},
	Into:       "registers.grao",
}

func TestEnrich(t *testing.T) {
	fc := &fakeCaller{data: map[string]any{"PersonNames": map[string]any{"FirstName": "Ивелина"}, "Count": 2}}
	s := build(t, person, fc)
	m := transforms.NewMessage("m-1", map[string]string{"subject": "94-00-17"}, []byte(application))
	if err := s.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Payload()
	want := `{"applicant":{"egn":"8506258485","names":"Ивелина Димитрова"},"company":{"eik":201593301},"number":"94-00-17","registers":{"grao":{"Count":2,"PersonNames":{"FirstName":"Ивелина"}},"other":"kept"}}`
	if string(p) != want {
		t.Errorf("payload\n%s\nwant\n%s", p, want)
	}
	req := fc.reqs[0]
	if req.Operation != "PersonDataSearch" || req.Route != "applications" || req.Message.UUID != "m-1" || req.Message.Metadata.Get("subject") != "94-00-17" {
		t.Errorf("request %+v", req)
	}
	if len(req.Parameters) != 1 || req.Parameters["EGN"] != "8506258485" {
		t.Errorf("parameters = %v, want EGN only (null leaves a parameter out)", req.Parameters)
	}
	if len(req.Context) != 3 || req.Context["law_reason"] != "чл. 13" || req.Context["dossier"] != "94-00-17" || req.Context["service_type"] != "201593301" {
		t.Errorf("context = %v", req.Context)
	}
}

func TestEnrichErrors(t *testing.T) {
	tests := []struct {
		name      string
		payload   string
		caller    *fakeCaller
		into      string
		want      string
		permanent bool
	}{
		{"register error is retried", application, &fakeCaller{err: errors.New("regix: PersonDataSearch: the register answered with an error: Регистърът временно не е достъпен")}, "",
			`enrich: PersonDataSearch of connector "registers": regix: PersonDataSearch: the register answered with an error: Регистърът временно не е достъпен`, false},
		{"refusal is not", application, &fakeCaller{err: fault.Permanent(errors.New("refused: no legal basis"))}, "", "refused: no legal basis", true},
		{"XML payload", `<Application/>`, &fakeCaller{}, "", "payload is not valid JSON", true},
		{"JSON array", `[1]`, &fakeCaller{}, "", "the payload is a JSON array, not an object (convert XML with xml_to_json before enrich)", true},
		{"into a string", application, &fakeCaller{data: "x"}, "number.grao", "enrich: into number.grao: number is a JSON string, not an object", true},
		{"object parameter", `{"applicant":{"egn":{"a":1}}}`, &fakeCaller{}, "", `enrich: parameter EGN: expr "body.applicant.egn" gives a map[string]interface {}, not text or a number`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := person
			if tt.into != "" {
				o.Into = tt.into
			}
			s := build(t, o, tt.caller)
			m := transforms.NewMessage("m-1", nil, []byte(tt.payload))
			// The engine's classification: permanent unless the step marked the error retryable.
			err := s.Apply(context.Background(), m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if got := !fault.IsRetryable(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if p, _ := m.Payload(); string(p) != tt.payload {
				t.Errorf("payload changed to %s", p)
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	s, err := newStep(&person, transforms.Env{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Apply(context.Background(), transforms.NewMessage("m", nil, []byte(application)))
	if !errors.Is(err, ErrDryRun) || !strings.Contains(err.Error(), `PersonDataSearch [EGN] of connector "registers"`) {
		t.Errorf("err = %v", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		o    Options
		want []string
	}{
		{Options{}, []string{"connector: is required", "operation: is required", "parameters: is required", "into: is required"}},
		{Options{Connector: "c", Operation: "o", Parameters: map[string]string{"A": "body."}, Context: map[string]string{"x": "meta["}, Into: ".a"},
			[]string{"parameters.A: invalid expression", "context.x: invalid expression", `into: ".a" is not a dotted path`}},
	}
	for _, tt := range tests {
		err := spec.Validate(&tt.o)
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("err = %v, want %q", err, w)
			}
		}
	}
	env := transforms.Env{Caller: func(name string) (connectors.Caller, error) {
		return nil, errors.New(`connector "` + name + `" (type file) cannot be called from a step`)
	}}
	o := person
	o.Connector = "archive"
	if _, err := newStep(&o, env); err == nil || !strings.Contains(err.Error(), `connector: connector "archive" (type file) cannot be called`) {
		t.Errorf("New with a connector that cannot be called: %v", err)
	}
}
