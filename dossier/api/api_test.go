package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/identity"
)

// tasksOf returns the ids of the dossier's tasks by status.
func tasksOf(d map[string]any, status string) []string {
	var out []string
	for _, x := range d["tasks"].([]any) {
		if t := x.(map[string]any); t["status"] == status {
			out = append(out, t["id"].(string))
		}
	}
	return out
}

// TestScenario takes a certificate of heirs through the API from the portal to the end: submitted,
// the clerk's first task in the task list, the register checks answered, an irregularity
// notified and answered, the fee paid, the result issued and delivered, closed. Every answer is
// checked against openapi.yaml.
func TestScenario(t *testing.T) {
	f := newFixture(t)
	list := f.must(req{method: "GET", path: "/api/v1/services"}, 200)
	if n := len(list["items"].([]any)); n < 8 {
		t.Errorf("%d services listed", n)
	}
	svc := f.must(req{method: "GET", path: "/api/v1/services/2016", header: map[string]string{"Accept-Language": "en"}}, 200)
	if svc["name"].(map[string]any)["en"] != "Issuing a certificate of heirs" || fmt.Sprint(svc["versions"]) != "[1]" {
		t.Errorf("service 2016: %v %v", svc["name"], svc["versions"])
	}

	reg := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)
	number := reg["number"].(string)
	if number != "ОБА3-1/04.12.2026" || len(reg["access_code"].(string)) != 10 || reg["location"] != path(number, "") || reg["deadline"] != "2026-12-15" {
		t.Fatalf("registered: %v", reg)
	}

	// The clerk's first task appears in the task list of the position, and in the dossier.
	page := f.must(req{method: "GET", path: "/api/v1/tasks?assignee=position:front-office-clerk&unit=ОБА3", as: "operator"}, 200)
	items := page["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["number"] != number || items[0].(map[string]any)["deadline"] != "2026-12-15" {
		t.Fatalf("task list: %v", page)
	}
	d := f.must(req{method: "GET", path: path(number, ""), as: "operator"}, 200)
	if open := tasksOf(d, "open"); fmt.Sprint(open) != "[T1]" || d["status"] != "open" {
		t.Fatalf("open tasks %v, status %v", open, d["status"])
	}

	// The portal relays the applicant, who follows the dossier with its access code.
	code := strings.ToLower(reg["access_code"].(string))
	pub := f.must(req{method: "POST", path: path(number, "/public"), as: "integrator", body: map[string]any{"access_code": code[:5] + "-" + code[5:]}}, 200)
	if pub["status"] != "open" || len(pub["stages"].([]any)) != 5 || strings.Contains(fmt.Sprint(pub), "front-office-clerk") {
		t.Errorf("public view: %v", pub)
	}
	f.must(req{method: "POST", path: path(number, "/public"), as: "integrator", body: map[string]any{"access_code": "ABCDEFGHJK"}}, 404)

	f.now = f.now.Add(time.Hour)
	d = f.must(req{method: "POST", path: path(number, "/tasks/T1/complete"), as: "operator", body: map[string]any{"note": "прието"}}, 200)
	if open := tasksOf(d, "open"); fmt.Sprint(open) != "[T2 T3]" {
		t.Fatalf("after T1, open tasks %v", open)
	}
	f.must(req{method: "POST", path: path(number, "/items/deceased-data"), as: "operator", body: map[string]any{"outcome": "received", "document": doc("regix-1", "register")}}, 200)
	d = f.must(req{method: "POST", path: path(number, "/items/relations"), as: "operator", body: map[string]any{"outcome": "received", "document": doc("regix-2", "register")}}, 200)
	if open := tasksOf(d, "open"); fmt.Sprint(open) != "[T4]" || len(d["internal"].([]any)) != 2 {
		t.Fatalf("after the registers, open tasks %v, internal %v", open, d["internal"])
	}

	d = f.must(req{method: "POST", path: path(number, "/irregularities"), as: "operator", body: map[string]any{
		"legal_grounds": "чл. 9 от Наредба № РД-02-20-6", "factual_grounds": "Липсва пълномощно.", "due": "2026-12-11",
		"notice": doc("notice-1", "notice")}}, 200)
	if d["status"] != "suspended" {
		t.Fatalf("after the notice: %v", d["status"])
	}
	f.must(req{method: "POST", path: path(number, "/tasks/T4/complete"), as: "operator"}, 409) // suspended
	// Answered on Wednesday 9 December: three working days suspended move the deadline.
	f.now = f.now.Add(5 * 24 * time.Hour)
	d = f.must(req{method: "POST", path: path(number, "/irregularities/N1/answer"), as: "operator", body: map[string]any{"documents": []any{doc("poa-1", "power-of-attorney")}}}, 200)
	if d["status"] != "open" || d["deadline"] == "2026-12-15" {
		t.Fatalf("after the answer: %v, deadline %v", d["status"], d["deadline"])
	}

	f.must(req{method: "POST", path: path(number, "/documents"), as: "operator", body: map[string]any{"document": doc("draft-1", "other"), "section": "internal"}}, 200)
	d = f.must(req{method: "POST", path: path(number, "/suspension"), as: "operator", body: map[string]any{"authority": "000695089", "note": "становище"}}, 200)
	if d["status"] != "suspended" {
		t.Fatalf("suspended for an authority: %v", d["status"])
	}
	f.must(req{method: "POST", path: path(number, "/suspension/end"), as: "operator"}, 200)
	f.must(req{method: "POST", path: path(number, "/tasks/T4/complete"), as: "operator"}, 200)
	f.must(req{method: "POST", path: path(number, "/tasks/T5/assign"), as: "operator", body: map[string]any{"assignee": map[string]any{"user": "kmet"}}}, 200)
	f.must(req{method: "POST", path: path(number, "/tasks/T5/complete"), as: "operator"}, 200)
	f.must(req{method: "POST", path: path(number, "/payments"), as: "operator", body: map[string]any{"amount_cents": 205, "reference": "POS-77"}}, 200)
	result := doc("result-1", "result")
	d = f.must(req{method: "POST", path: path(number, "/result"), as: "operator", body: map[string]any{"outcome": "granted", "document": result}}, 200)
	if d["status"] != "result_issued" {
		t.Fatalf("after the result: %v", d["status"])
	}
	f.must(req{method: "POST", path: path(number, "/result/delivery"), as: "operator", body: map[string]any{"way": "counter"}}, 200)
	d = f.must(req{method: "POST", path: path(number, "/close"), as: "operator", body: map[string]any{"reason": "completed"}}, 200)
	if d["status"] != "closed" || len(d["official"].([]any)) != 4 {
		t.Fatalf("closed: %v, official %v", d["status"], d["official"])
	}

	h := f.must(req{method: "GET", path: path(number, "/history"), as: "auditor"}, 200)
	evs := h["items"].([]any)
	first, last := evs[0].(map[string]any), evs[len(evs)-1].(map[string]any)
	if first["type"] != "dossier.opened" || last["type"] != "dossier.closed" || last["by"].(map[string]any)["id"] != "token:operator" {
		t.Errorf("history from %v to %v", first, last)
	}
	if strings.Contains(fmt.Sprint(h), "8506258485") {
		t.Error("the history shows an ЕГН")
	}
	if p := f.must(req{method: "GET", path: "/api/v1/tasks", as: "operator"}, 200); len(p["items"].([]any)) != 0 {
		t.Errorf("a closed dossier in the active task list: %v", p)
	}
	if p := f.must(req{method: "GET", path: "/api/v1/tasks?state=closed", as: "operator"}, 200); len(p["items"].([]any)) != 1 {
		t.Errorf("closed dossiers: %v", p)
	}
}

// Bad input of the acceptance is refused whole with 422 naming the field, and nothing stays
// behind: no dossier, and no number of the register taken.
func TestBadInputWritesNothing(t *testing.T) {
	f := newFixture(t)
	with := func(change func(a map[string]any)) map[string]any {
		a := application()
		change(a)
		return a
	}
	for _, c := range []struct {
		name          string
		body          map[string]any
		pointer, code string
	}{
		{"unknown service", with(func(a map[string]any) { a["service"] = "9999" }), "/service", "unknown_service"},
		{"missing required item", with(func(a map[string]any) { a["documents"] = []any{} }), "/documents", "missing_item"},
		{"invalid ЕГН checksum", with(func(a map[string]any) { a["applicant"].(map[string]any)["egn"] = "8506258484" }), "/applicant/egn", "invalid_egn"},
		{"invalid ЕГН in the form", with(func(a map[string]any) { a["data"].(map[string]any)["deceased_egn"] = "7501020019" }), "/data/deceased_egn", "invalid_egn"},
		{"term type not offered", map[string]any{
			"service": "2131", "channel": "counter", "applicant": map[string]any{"kind": "person", "egn": "8506258485", "name": "Мария Петрова"},
			"documents": []any{doc("d1", "application")}, "data": map[string]any{"registration_number": "CA1234AB", "tax_year": "2025"},
			"term": "express", "delivery": map[string]any{"way": "counter"}}, "/term", "term_not_offered"},
		{"delivery not offered", with(func(a map[string]any) { a["delivery"] = map[string]any{"way": "po-box"} }), "/delivery/way", "delivery_not_offered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: c.body, header: map[string]string{"Accept-Language": "en"}}, 422)
			if fe := problemField(t, p, c.pointer); fe["code"] != c.code || fe["detail_bg"] == "" || fe["detail_en"] == "" {
				t.Errorf("field error %v", fe)
			}
			if p["code"] != "invalid_application" || p["type"] != "urn:aiskao:problem:invalid_application" || p["detail"] != "The application is not valid." {
				t.Errorf("problem %v", p)
			}
			if n := f.streams(); n != 0 {
				t.Errorf("%d dossiers after a refusal", n)
			}
		})
	}
	// The register's first number is still free.
	reg := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)
	if reg["number"] != "ОБА3-1/04.12.2026" {
		t.Errorf("after the refusals, the first dossier is %v", reg["number"])
	}
}

// A body that is not JSON as described is refused with 400 naming where; other limits too.
func TestMalformedBodies(t *testing.T) {
	f := newFixture(t)
	big := `{"service":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, c := range []struct {
		name, body, ctype string
		status            int
		pointer, code     string
		detail            string
	}{
		{"syntax", `{"service": "2016",}`, "", 400, "", "syntax", "byte 20"},
		{"truncated", `{"service": "2016"`, "", 400, "", "syntax", "byte 18"},
		{"wrong type deep", `{"documents":[{"id":"a"},{"id":"b","size":"big"}]}`, "", 400, "/documents/1/size", "invalid_type", "byte 47"},
		{"unknown field deep", `{"service":"2016","applicant":{"kind":"person","egnn":"1"}}`, "", 400, "/applicant/egnn", "unknown_field", ""},
		{"unknown field at the top", `{"name":"x"}`, "", 400, "/name", "unknown_field", ""},
		{"trailing data", `{} {}`, "", 400, "", "trailing_data", ""},
		{"too large", big, "", 413, "", "", ""},
		{"not JSON", `service=2016`, "application/x-www-form-urlencoded", 415, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"Accept-Language": "en"}
			if c.ctype != "" {
				h["Content-Type"] = c.ctype
			}
			p := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: c.body, header: h}, c.status)
			if c.code == "" {
				return
			}
			fe := problemField(t, p, c.pointer)
			if fe["code"] != c.code || !strings.Contains(fe["detail_en"].(string), c.detail) {
				t.Errorf("field error %v", fe)
			}
		})
	}
	if n := f.streams(); n != 0 {
		t.Errorf("%d dossiers", n)
	}
	// Query parameters are checked too.
	for _, q := range []string{"limit=0", "limit=x", "due_before=4.12.2026", "colour=red", "cursor=garbage"} {
		p := f.must(req{method: "GET", path: "/api/v1/tasks?" + q, as: "operator"}, 400)
		if p["code"] != "invalid_query" {
			t.Errorf("%s: %v", q, p)
		}
	}
}

// A retried submission with the same Idempotency-Key opens no second dossier; the same key with
// another body is refused; keys are each caller's own.
func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "portal-req-42"}
	first := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application(), header: key}, 201)
	rec := f.do(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application(), header: key})
	var again map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &again)
	if rec.Code != 200 || again["number"] != first["number"] || again["access_code"] != nil || rec.Header().Get("Idempotent-Replayed") != "true" ||
		rec.Header().Get("Location") != path(first["number"].(string), "") {
		t.Fatalf("replay: %d %v %v", rec.Code, rec.Header(), again)
	}
	other := application()
	other["term"] = "fast"
	p := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: other, header: key}, 422)
	if p["code"] != "idempotency_key_reused" || problemField(t, p, "Idempotency-Key")["code"] != "idempotency_key_reused" {
		t.Errorf("reused key: %v", p)
	}
	bad := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application(), header: map[string]string{"Idempotency-Key": "ключ"}}, 400)
	problemField(t, bad, "Idempotency-Key")
	// Another caller's key of the same name is another request.
	if r := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator-kiosk", body: application(), header: key}, 201); r["number"] == first["number"] {
		t.Error("another caller's key found the first caller's dossier")
	}
	if n := f.streams(); n != 2 {
		t.Errorf("%d dossiers, want 2", n)
	}
	// A command retried after it was applied is refused by the dossier's state.
	number := first["number"].(string)
	f.must(req{method: "POST", path: path(number, "/tasks/T1/complete"), as: "operator"}, 200)
	f.must(req{method: "POST", path: path(number, "/tasks/T1/complete"), as: "operator"}, 409)
}

// Commands the dossier's state does not allow answer 409; unknown things 404; bad input 422.
func TestRefusals(t *testing.T) {
	f := newFixture(t)
	number := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)["number"].(string)
	for _, c := range []struct {
		name   string
		rq     req
		status int
		code   string
		field  string
	}{
		{"granted before the stages", req{method: "POST", path: path(number, "/result"), body: map[string]any{"outcome": "granted", "document": doc("r", "result")}}, 409, "not_allowed", ""},
		{"delivery before the result", req{method: "POST", path: path(number, "/result/delivery"), body: map[string]any{"way": "counter"}}, 409, "not_allowed", ""},
		{"unknown task", req{method: "POST", path: path(number, "/tasks/T9/complete")}, 404, "not_found", ""},
		{"system task", req{method: "POST", path: path(number, "/tasks/T1/complete")}, 200, "", ""},
		{"system task by hand", req{method: "POST", path: path(number, "/tasks/T2/complete")}, 409, "not_allowed", ""},
		{"unknown irregularity", req{method: "POST", path: path(number, "/irregularities/N7/answer")}, 404, "not_found", ""},
		{"wrong fee", req{method: "POST", path: path(number, "/payments"), body: map[string]any{"amount_cents": 100, "reference": "x"}}, 422, "invalid_input", "/amount_cents"},
		{"bad due", req{method: "POST", path: path(number, "/irregularities"), body: map[string]any{"legal_grounds": "a", "factual_grounds": "b", "due": "tomorrow"}}, 422, "invalid_input", "/due"},
		{"past due", req{method: "POST", path: path(number, "/irregularities"), body: map[string]any{"legal_grounds": "a", "factual_grounds": "", "due": "2026-12-01"}}, 422, "invalid_input", "/factual_grounds"},
		{"bad section", req{method: "POST", path: path(number, "/documents"), body: map[string]any{"document": doc("x", "other"), "section": "secret"}}, 422, "invalid_input", "/section"},
		{"bad checksum", req{method: "POST", path: path(number, "/documents"), body: map[string]any{"document": map[string]any{"id": "y", "kind": "other", "media_type": "text/plain", "size": 1, "sha256": "ABC"}, "section": "official"}}, 422, "invalid_input", "/document/sha256"},
		{"bad close reason", req{method: "POST", path: path(number, "/close"), body: map[string]any{"reason": "bored"}}, 422, "invalid_input", "/reason"},
		{"resume when not suspended", req{method: "POST", path: path(number, "/suspension/end")}, 409, "not_allowed", ""},
		{"bad authority", req{method: "POST", path: path(number, "/suspension"), body: map[string]any{"authority": "123"}}, 422, "invalid_input", "/authority"},
		{"start a stage that starts by itself", req{method: "POST", path: path(number, "/stages/prepare/start")}, 409, "not_allowed", ""},
		{"start an unknown stage", req{method: "POST", path: path(number, "/stages/nope/start")}, 404, "not_found", ""},
		{"request an item asked for", req{method: "POST", path: path(number, "/items/relations/request")}, 409, "not_allowed", ""},
		{"request an applicant's item", req{method: "POST", path: path(number, "/items/application/request")}, 422, "invalid_input", ""},
		{"unknown dossier", req{method: "GET", path: path("ОБА3-99/04.12.2026", "")}, 404, "dossier_not_found", ""},
		{"unknown dossier's history", req{method: "GET", path: path("nope", "/history")}, 404, "dossier_not_found", ""},
		{"command on an unknown dossier", req{method: "POST", path: path("nope", "/close"), body: map[string]any{"reason": "withdrawn"}}, 404, "dossier_not_found", ""},
		{"unknown service", req{method: "GET", path: "/api/v1/services/9999"}, 404, "service_not_found", ""},
		{"unknown version", req{method: "GET", path: "/api/v1/services/2016?version=7"}, 404, "service_not_found", ""},
		{"bad version", req{method: "GET", path: "/api/v1/services/2016?version=x"}, 400, "invalid_query", "version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.rq.as = "operator"
			p := f.must(c.rq, c.status)
			if c.code == "" {
				return
			}
			if p["code"] != c.code || p["status"] != float64(c.status) || p["detail"] == "" {
				t.Errorf("problem %v", p)
			}
			if c.field != "" {
				problemField(t, p, c.field)
			}
		})
	}
}

// Personal data is shown to principals with personal_data.read only, and each such read is
// journaled with who looked; the others see it masked.
func TestPersonalData(t *testing.T) {
	f := newFixture(t)
	a := application()
	named := doc("d-1", "application")
	named["name"] = "ЕГН 8506258485.pdf"
	a["documents"] = []any{named}
	number := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: a}, 201)["number"].(string)
	f.must(req{method: "POST", path: path(number, "/irregularities"), as: "operator", body: map[string]any{
		"legal_grounds": "чл. 9", "factual_grounds": "Пълномощното за 8506258485 липсва.", "due": "2026-12-11"}}, 200)
	for _, c := range []struct {
		role   identity.Role
		masked bool
	}{{identity.Operator, false}, {identity.Auditor, true}, {identity.Integrator, true}} {
		t.Run(string(c.role), func(t *testing.T) {
			before := len(f.journal.list())
			d := f.must(req{method: "GET", path: path(number, ""), as: string(c.role)}, 200)
			app := d["application"].(map[string]any)
			applicant := app["applicant"].(map[string]any)
			body, _ := json.Marshal(d)
			journaled := len(f.journal.list()) - before
			if c.masked {
				if applicant["egn"] != "******8485" || applicant["name"] != "М. П." || applicant["address"] != nil || applicant["email"] != nil ||
					app["data"].(map[string]any)["deceased_egn"] != "******0018" || d["personal_data_masked"] != true {
					t.Errorf("masked application: %v", app)
				}
				if strings.Contains(string(body), "8506258485") || strings.Contains(string(body), "Петрова") || journaled != 0 {
					t.Errorf("personal data shown or journaled (%d): %s", journaled, body)
				}
				return
			}
			if applicant["egn"] != "8506258485" || applicant["name"] != "Мария Петрова" || d["personal_data_masked"] != false {
				t.Errorf("application: %v", app)
			}
			e := f.journal.list()[before]
			if journaled != 1 || e.Kind != "dossier.personal_data_read" || e.Dossier != number || e.Actor != "token:operator" {
				t.Errorf("journal: %d entries, %+v", journaled, e)
			}
		})
	}
	// Without the journal's record, no personal data.
	f.journal.fail = errJournal
	p := f.must(req{method: "GET", path: path(number, ""), as: "operator"}, http.StatusServiceUnavailable)
	if p["code"] != "unavailable" {
		t.Errorf("journal down: %v", p)
	}
	// A command is applied all the same, and its answer masked.
	d := f.must(req{method: "POST", path: path(number, "/irregularities/N1/answer"), as: "operator"}, 200)
	if d["personal_data_masked"] != true || d["application"].(map[string]any)["applicant"].(map[string]any)["egn"] != "******8485" || d["status"] != "open" {
		t.Errorf("command with the journal down: %v", d)
	}
	f.journal.fail = nil
}

// Feedback is registered with a number and a deadline, read with its author masked unless
// allowed, and answered once.
func TestFeedback(t *testing.T) {
	f := newFixture(t)
	fb := map[string]any{"kind": "complaint", "channel": "portal", "author": map[string]any{"name": "Иван Иванов", "email": "ivan@example.bg"},
		"text": "Чаках 2 часа; ЕГН 8506258485.", "dossier": "ОБА3-1/04.12.2026"}
	key := map[string]string{"Idempotency-Key": "fb-1"}
	reg := f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: fb, header: key}, 201)
	number := reg["number"].(string)
	if number != "СПЖ-1/04.12.2026" || reg["due"] != "2026-12-11" {
		t.Fatalf("feedback registered: %v", reg)
	}
	if again := f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: fb, header: key}, 200); again["number"] != number {
		t.Errorf("replay: %v", again)
	}
	fb["text"] = "Друго."
	f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: fb, header: key}, 422)
	fb["text"] = "Чаках 2 часа; ЕГН 8506258485."
	bad := f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: map[string]any{"kind": "rant", "channel": "portal", "author": map[string]any{"name": ""}, "text": "x"}}, 422)
	problemField(t, bad, "/kind")
	problemField(t, bad, "/author/name")

	fp := "/api/v1/feedback/" + url.PathEscape(number)
	masked := f.must(req{method: "GET", path: fp, as: "auditor"}, 200)
	if masked["author"].(map[string]any)["name"] != "И. И." || masked["author"].(map[string]any)["email"] != nil || strings.Contains(masked["text"].(string), "8506258485") ||
		masked["deadline_state"] != "running" {
		t.Errorf("masked feedback: %v", masked)
	}
	f.journal.fail = errJournal
	f.must(req{method: "GET", path: fp, as: "operator"}, http.StatusServiceUnavailable)
	f.journal.fail = nil
	f.must(req{method: "POST", path: fp + "/answer", as: "integrator", body: map[string]any{"text": "Извиняваме се."}}, 403)
	ans := f.must(req{method: "POST", path: fp + "/answer", as: "operator", body: map[string]any{"text": "Извиняваме се."}}, 200)
	if ans["answer"].(map[string]any)["text"] != "Извиняваме се." || ans["author"].(map[string]any)["email"] != "ivan@example.bg" {
		t.Errorf("answered: %v", ans)
	}
	f.must(req{method: "POST", path: fp + "/answer", as: "operator", body: map[string]any{"text": "Пак."}}, 409)
	f.must(req{method: "GET", path: "/api/v1/feedback/nope", as: "operator"}, 404)
	f.must(req{method: "POST", path: "/api/v1/feedback/nope/answer", as: "operator", body: map[string]any{"text": "x"}}, 404)
	// Feedback is not a dossier, and a dossier is not feedback.
	f.must(req{method: "GET", path: path(number, ""), as: "operator"}, 404)
	f.must(req{method: "GET", path: path(number, "/history"), as: "operator"}, 404)
	f.must(req{method: "POST", path: path(number, "/close"), as: "operator", body: map[string]any{"reason": "withdrawn"}}, 404)
	dn := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)["number"].(string)
	f.must(req{method: "GET", path: "/api/v1/feedback/" + url.PathEscape(dn), as: "operator"}, 404)
	// Feedback is not in the dossiers' task lists.
	if p := f.must(req{method: "GET", path: "/api/v1/tasks", as: "operator"}, 200); len(p["items"].([]any)) != 1 {
		t.Errorf("task list: %v", p)
	}
	s, err := f.store.Summary(t.Context(), number)
	if err != nil || s.Kind != store.KindFeedback || s.State != "answered" || s.Active {
		t.Errorf("feedback summary %+v, %v", s, err)
	}
}

// The task list pages by deadline with a keyset cursor, following next.
func TestTaskPages(t *testing.T) {
	f := newFixture(t)
	var want []string
	for i, term := range []string{"normal", "fast", "normal"} {
		a := application()
		a["term"] = term
		a["documents"] = []any{doc(fmt.Sprint("d", i), "application")}
		want = append(want, f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: a}, 201)["number"].(string))
	}
	want[0], want[1] = want[1], want[0] // the fast one is due first
	var got []string
	next := "/api/v1/tasks?service=2016&limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		p := f.must(req{method: "GET", path: next, as: "auditor"}, 200)
		for _, it := range p["items"].([]any) {
			got = append(got, it.(map[string]any)["number"].(string))
		}
		next, _ = p["next"].(string)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	if p := f.must(req{method: "GET", path: "/api/v1/tasks?due_before=2026-12-10", as: "auditor"}, 200); len(p["items"].([]any)) != 1 {
		t.Errorf("due before 10 December: %v", p)
	}
}

// A store that fails is a failure of the server: 500, logged, with a problem that says nothing
// of its cause.
func TestStoreFailure(t *testing.T) {
	f := newFixture(t)
	number := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)["number"].(string)
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, rq := range []req{
		{method: "GET", path: path(number, ""), as: "operator"},
		{method: "GET", path: path(number, "/history"), as: "operator"},
		{method: "POST", path: path(number, "/public"), as: "integrator", body: map[string]any{"access_code": "x"}},
		{method: "POST", path: path(number, "/close"), as: "operator", body: map[string]any{"reason": "withdrawn"}},
		{method: "GET", path: "/api/v1/tasks", as: "operator"},
		{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()},
		{method: "POST", path: "/api/v1/feedback", as: "integrator", body: map[string]any{"kind": "praise", "channel": "email", "author": map[string]any{"name": "И", "email": "i@example.bg"}, "text": "Браво."}},
		{method: "GET", path: "/api/v1/feedback/x", as: "operator"},
		{method: "POST", path: "/api/v1/feedback/x/answer", as: "operator", body: map[string]any{"text": "x"}},
	} {
		p := f.must(rq, http.StatusInternalServerError)
		if p["code"] != "internal_error" || strings.Contains(fmt.Sprint(p), "sql") {
			t.Errorf("%s %s: %v", rq.method, rq.path, p)
		}
	}
}

// Concurrent submissions under one Idempotency-Key open one dossier, and every one of them
// answers its number.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	f := newFixture(t)
	body, _ := json.Marshal(application())
	const n = 8
	codes, numbers := make([]int, n), make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("POST", "/api/v1/applications", bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer integrator")
			r.Header.Set("Idempotency-Key", "same")
			rec := httptest.NewRecorder()
			f.mux.ServeHTTP(rec, r)
			var out map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			codes[i], numbers[i] = rec.Code, fmt.Sprint(out["number"])
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if codes[i] == 201 {
			created++
		}
		if (codes[i] != 201 && codes[i] != 200) || numbers[i] != "ОБА3-1/04.12.2026" {
			t.Errorf("request %d: %d %s", i, codes[i], numbers[i])
		}
	}
	if created != 1 || f.streams() != 1 {
		t.Errorf("%d answered 201, %d dossiers; want 1 and 1", created, f.streams())
	}
}
