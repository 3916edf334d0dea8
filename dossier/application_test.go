package dossier

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/service"
)

// heirs loads the example service of the certificate of heirs.
func heirs(t testing.TB) *service.Service {
	t.Helper()
	b, err := os.ReadFile("service/testdata/heirs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.Parse("heirs.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1ba2b0b822cd15d6c15b0f00a0"

// goodApplication is a valid application for the certificate of heirs.
func goodApplication() Application {
	return Application{
		Service:    "2016",
		Channel:    service.Counter,
		ReceivedAt: time.Date(2026, 12, 4, 9, 30, 0, 0, sofia),
		Applicant:  Party{Kind: Person, EGN: "8506258485", Name: "Мария Петрова", Address: "ул. Образцова 1, Примерно"},
		Documents:  []Document{{ID: "doc-1", Kind: "application", Name: "Заявление.pdf", MediaType: "application/pdf", Size: 1024, SHA256: sum}},
		Data:       map[string]string{"deceased_egn": "7501020018", "deceased_name": "Петър Петров"},
		Term:       service.Normal,
		Delivery:   DeliveryChoice{Way: service.PostCorrespondence},
	}
}

func TestApplicationValidate(t *testing.T) {
	svc := heirs(t)
	tests := []struct {
		name   string
		change func(a *Application)
		svc    *service.Service
		want   map[string]string // pointer -> code; empty when valid
	}{
		{"valid", func(a *Application) {}, svc, nil},
		{"valid company with representative", func(a *Application) {
			a.Applicant = Party{Kind: Company, EIK: "831641791", Name: "Примерно ООД"}
			a.Representative = &Party{Kind: Person, LNC: "1234567893", Name: "John Smith", Address: "Sofia"}
			a.Delivery = DeliveryChoice{Way: service.Electronic}
		}, svc, nil},
		{"unknown service", func(a *Application) { a.Service = "9999" }, nil, map[string]string{"/service": "unknown_service"}},
		{"another service", func(a *Application) { a.Service = "2128" }, svc, map[string]string{"/service": "unknown_service"}},
		{"invalid ЕГН checksum", func(a *Application) { a.Applicant.EGN = "8506258484" }, svc, map[string]string{"/applicant/egn": "invalid_egn"}},
		{"ЕГН of no date", func(a *Application) { a.Applicant.EGN = "8513258485" }, svc, map[string]string{"/applicant/egn": "invalid_egn"}},
		{"no identifier", func(a *Application) { a.Applicant.EGN = "" }, svc, map[string]string{"/applicant/egn": "required"}},
		{"invalid ЛНЧ of representative", func(a *Application) {
			a.Representative = &Party{Kind: Person, LNC: "1234567890", Name: "John Smith"}
		}, svc, map[string]string{"/representative/lnch": "invalid_lnch"}},
		{"invalid ЕИК", func(a *Application) { a.Applicant = Party{Kind: Company, EIK: "83164179", Name: "X", Address: "Y"} }, svc, map[string]string{"/applicant/eik": "invalid_eik"}},
		{"missing required item", func(a *Application) { a.Documents = nil }, svc, map[string]string{"/documents": "missing_item"}},
		{"ex officio item brought", func(a *Application) {
			a.Documents = append(a.Documents, Document{ID: "doc-2", Kind: "relations", Name: "x", MediaType: "application/pdf", SHA256: sum})
		}, svc, map[string]string{"/documents/1/kind": "ex_officio_item"}},
		{"unknown item and bad checksum", func(a *Application) {
			a.Documents = append(a.Documents, Document{ID: "doc-1", Kind: "passport", MediaType: "image/png", SHA256: "ABC"})
		}, svc, map[string]string{"/documents/1/kind": "invalid_value", "/documents/1/sha256": "invalid_value", "/documents/1/id": "duplicate"}},
		{"term not offered", func(a *Application) { a.Term = "overnight" }, svc, map[string]string{"/term": "term_not_offered"}},
		{"no term", func(a *Application) { a.Term = "" }, svc, map[string]string{"/term": "required"}},
		{"delivery not offered", func(a *Application) { a.Delivery.Way = service.POBox }, svc, map[string]string{"/delivery/way": "delivery_not_offered"}},
		{"unknown delivery", func(a *Application) { a.Delivery.Way = "pigeon" }, svc, map[string]string{"/delivery/way": "invalid_value"}},
		{"post without address", func(a *Application) { a.Applicant.Address = "" }, svc, map[string]string{"/delivery/address": "required"}},
		{"data: invalid ЕГН, unknown field, bad date", func(a *Application) {
			a.Data["deceased_egn"] = "7501020019"
			a.Data["date_of_death"] = "1.12.2026"
			a.Data["a/b"] = "x"
		}, svc, map[string]string{"/data/deceased_egn": "invalid_egn", "/data/date_of_death": "invalid_value", "/data/a~1b": "unknown_field"}},
		{"data: required field missing", func(a *Application) { delete(a.Data, "deceased_name") }, svc, map[string]string{"/data/deceased_name": "required"}},
		{"channel not offered", func(a *Application) { a.Channel = service.Phone }, svc, map[string]string{"/channel": "channel_not_offered"}},
		{"several at once", func(a *Application) { a.Applicant.EGN = "1"; a.Term = "fastest"; a.Channel = "fax" }, svc,
			map[string]string{"/applicant/egn": "invalid_egn", "/term": "term_not_offered", "/channel": "invalid_value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := goodApplication()
			tt.change(&a)
			err := a.Validate(tt.svc)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != Invalid || e.Code != CodeInvalidApplication {
				t.Fatalf("Validate = %#v, want an invalid_application *Error", err)
			}
			got := map[string]string{}
			for _, f := range e.Fields {
				got[f.Pointer] = f.Code
				if f.Message.BG == "" || f.Message.EN == "" {
					t.Errorf("%s: message not in both languages: %+v", f.Pointer, f.Message)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
			for p, code := range tt.want {
				if got[p] != code {
					t.Errorf("%s = %q, want %q (all: %v)", p, got[p], code, err)
				}
			}
		})
	}
}

func TestApplicationErrorsSayWhatIsWrong(t *testing.T) {
	a := goodApplication()
	a.Applicant.EGN = "8506258484"
	a.Documents = nil
	err := a.Validate(heirs(t))
	var e *Error
	errors.As(err, &e)
	if f := e.Field("/applicant/egn"); f == nil || !strings.Contains(f.Message.EN, "check digit") || !strings.Contains(f.Message.BG, "Контролната цифра") {
		t.Errorf("ЕГН message = %+v", f)
	}
	if f := e.Field("/documents"); f == nil || !strings.Contains(f.Message.BG, "Заявление по образец") || !strings.Contains(f.Message.EN, "(application)") {
		t.Errorf("missing item message = %+v", f)
	}
	if strings.Contains(err.Error(), "8506258484") {
		t.Errorf("the error shows the ЕГН: %v", err)
	}
}

func TestPartyStringMasks(t *testing.T) {
	p := Party{Kind: Person, EGN: "8506258485", Name: "Мария Петрова"}
	if s := p.String(); s != "person ******8485" {
		t.Errorf("String = %q", s)
	}
}
