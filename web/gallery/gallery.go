// Package gallery shows every pattern of the web shell on a page of its own, in Bulgarian and
// English: a question page that validates on the server, check answers, confirmation, a table
// with sorting, filters and pagination, a task list and the notification banners. People look
// at it to see the shell; the browser tests check it for accessibility and keyboard use.
package gallery

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/aiskao/aiskao/web"
)

//go:embed pages/*.html locales/*.json
var files embed.FS

// Pages are the gallery's addresses, one a pattern; the browser tests visit every one.
var Pages = []string{"/", "/question", "/check-answers", "/confirmation", "/table", "/tasks", "/banners"}

// Gallery is the http.Handler of the gallery.
type Gallery struct {
	shell *web.Shell
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the gallery, its security middleware included.
func New() (http.Handler, error) {
	shell, err := web.New("gallery.app", "/", files)
	if err != nil {
		return nil, fmt.Errorf("gallery: %w", err)
	}
	g := &Gallery{shell: shell, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, name := range []string{"index", "question", "check", "confirmation", "table", "tasks", "banners", "notfound"} {
		t, err := shell.Template(files, "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("gallery: %w", err)
		}
		g.pages[name] = t
	}
	m := g.mux
	m.Handle("GET "+web.AssetPrefix, shell.Assets().Handler())
	m.HandleFunc("GET /{$}", g.index)
	m.HandleFunc("GET /question", g.question)
	m.HandleFunc("POST /question", g.question)
	m.HandleFunc("GET /check-answers", g.check)
	m.HandleFunc("GET /confirmation", g.confirmation)
	m.HandleFunc("POST /confirmation", g.confirm)
	m.HandleFunc("GET /table", g.table)
	m.HandleFunc("GET /tasks", g.tasks)
	m.HandleFunc("GET /banners", g.banners)
	m.HandleFunc("POST /sign-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	m.HandleFunc("/", g.notFound)
	return web.Secure(g), nil
}

// ServeHTTP serves the gallery's pages.
func (g *Gallery) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// page returns a Page for r with the gallery's navigation, current marking path.
func (g *Gallery) page(r *http.Request, path, titleID string) *web.Page {
	tr := g.shell.Tr(r)
	p := &web.Page{Tr: tr, Title: tr.T(titleID)}
	for _, n := range []struct{ url, id string }{
		{"/", "nav.index"}, {"/question", "nav.forms"}, {"/table", "nav.table"}, {"/tasks", "nav.tasks"}, {"/banners", "nav.banners"},
	} {
		p.Nav = append(p.Nav, web.NavItem{Label: tr.T(n.id), URL: n.url, Current: n.url == path})
	}
	return p
}

func (g *Gallery) index(w http.ResponseWriter, r *http.Request) {
	g.shell.Render(w, r, http.StatusOK, g.pages["index"], g.page(r, "/", "index.title"))
}

func (g *Gallery) notFound(w http.ResponseWriter, r *http.Request) {
	g.shell.Render(w, r, http.StatusNotFound, g.pages["notfound"], g.page(r, "", "notfound.title"))
}

// applicationForm is the question page's form, filled from r's form values when posted.
func applicationForm(tr web.Tr, r *http.Request) web.Form {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	return web.NewForm(tr, "/question", tr.T("button.continue"),
		web.Field{Name: "name", Label: tr.T("q.name"), Hint: tr.T("q.name.hint"), Value: v("name"), Autocomplete: "name", Width: "w-l"},
		web.Field{Name: "email", Label: tr.T("q.email"), Hint: tr.T("q.email.hint"), Type: "email", Value: v("email"), Autocomplete: "email", Width: "w-l"},
		web.Field{Name: "delivery", Label: tr.T("q.delivery"), Type: "radios", Value: v("delivery"), Options: []web.Option{
			{Value: "email", Label: tr.T("q.delivery.email")}, {Value: "post", Label: tr.T("q.delivery.post")}, {Value: "counter", Label: tr.T("q.delivery.counter")},
		}},
		web.Field{Name: "details", Label: tr.T("q.details"), Hint: tr.T("q.details.hint"), Type: "textarea", Value: v("details")},
		web.Field{Name: "agree", Label: tr.T("q.agree"), Type: "checkbox", Value: v("agree")},
	)
}

// maxDetails is how many characters the details may have.
const maxDetails = 500

// validate sets the errors of form, each in tr's language and saying how to put it right.
func validate(tr web.Tr, f *web.Form) {
	if f.Value("name") == "" {
		f.Set("name", tr.T("q.name.missing"))
	}
	switch e := f.Value("email"); {
	case e == "":
		f.Set("email", tr.T("q.email.missing"))
	case !validEmail(e):
		f.Set("email", tr.T("q.email.invalid"))
	}
	switch f.Value("delivery") {
	case "email", "post", "counter":
	default:
		f.Set("delivery", tr.T("q.delivery.missing"))
	}
	if utf8.RuneCountInString(f.Value("details")) > maxDetails {
		f.Set("details", tr.T("q.details.long", "Max", maxDetails))
	}
	if f.Value("agree") != "yes" {
		f.Set("agree", tr.T("q.agree.missing"))
	}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.IndexByte(s, '@'):], ".")
}

func (g *Gallery) question(w http.ResponseWriter, r *http.Request) {
	p := g.page(r, "/question", "q.title")
	form := applicationForm(p.Tr, r)
	if r.Method == http.MethodPost {
		validate(p.Tr, &form)
		if form.Valid() {
			g.renderCheck(w, r, form)
			return
		}
		p.Failed = true
		p.Data = form
		g.shell.Render(w, r, http.StatusUnprocessableEntity, g.pages["question"], p)
		return
	}
	p.Data = form
	g.shell.Render(w, r, http.StatusOK, g.pages["question"], p)
}

// checkData is what the check-answers page shows and posts on.
type checkData struct {
	Rows   []web.SummaryRow
	Hidden []web.Field
}

func (g *Gallery) renderCheck(w http.ResponseWriter, r *http.Request, form web.Form) {
	p := g.page(r, "/question", "check.title")
	tr := p.Tr
	d := checkData{}
	for _, f := range form.Fields {
		val := f.Value
		for _, o := range f.Options {
			if o.Value == val {
				val = o.Label
			}
		}
		d.Hidden = append(d.Hidden, web.Field{Name: f.Name, Value: f.Value})
		if f.Type == "checkbox" {
			continue // the declaration is confirmed again by sending, not an answer to check
		}
		if val == "" {
			val = "—"
		}
		d.Rows = append(d.Rows, web.SummaryRow{Key: f.Label, Value: val, ChangeURL: "/question#" + f.ID(),
			ChangeLabel: tr.T("change")})
	}
	p.Data = d
	g.shell.Render(w, r, http.StatusOK, g.pages["check"], p)
}

func (g *Gallery) check(w http.ResponseWriter, r *http.Request) {
	tr := g.shell.Tr(r)
	sample := applicationForm(tr, r)
	for i, v := range []string{tr.T("sample.name"), "maria.ivanova@example.bg", "email", tr.T("sample.details"), "yes"} {
		sample.Fields[i].Value = v
	}
	g.renderCheck(w, r, sample)
}

// confirm takes the application and answers with its reference number (post, redirect, get: a
// reload does not send it twice).
func (g *Gallery) confirm(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/confirmation?ref=ЗАО-2026-000123", http.StatusSeeOther)
}

func (g *Gallery) confirmation(w http.ResponseWriter, r *http.Request) {
	p := g.page(r, "/question", "confirm.title")
	ref := r.URL.Query().Get("ref")
	if ref == "" || utf8.RuneCountInString(ref) > 40 {
		ref = "ЗАО-2026-000123"
	}
	p.Data = web.Panel{Title: p.Title, Body: p.T("confirm.ref"), Ref: ref}
	g.shell.Render(w, r, http.StatusOK, g.pages["confirmation"], p)
}

func (g *Gallery) tasks(w http.ResponseWriter, r *http.Request) {
	p := g.page(r, "/tasks", "tasks.title")
	tr := p.Tr
	// The signed-in person's name and sign-out button, as sign-in will fill them.
	p.User = &web.User{Name: tr.T("sample.name")}
	task := func(id, url, status string) web.Task {
		return web.Task{Label: tr.T(id), URL: url, Hint: tr.T(id + ".hint"), Status: status, StatusLabel: tr.T("status." + status)}
	}
	p.Data = []web.Task{
		task("task.applicant", "/question", "done"),
		task("task.documents", "/question", "progress"),
		task("task.fee", "/check-answers", "todo"),
		task("task.sign", "", "blocked"),
	}
	g.shell.Render(w, r, http.StatusOK, g.pages["tasks"], p)
}

func (g *Gallery) banners(w http.ResponseWriter, r *http.Request) {
	p := g.page(r, "/banners", "banners.title")
	tr := p.Tr
	p.Banner = &web.Banner{Kind: "success", Title: tr.T("banner.success"), Heading: tr.T("banner.success.heading"), Body: tr.T("banner.success.body")}
	p.Data = []web.Banner{
		{Kind: "info", Title: tr.T("banner.info"), Heading: tr.T("banner.info.heading"), Body: tr.T("banner.info.body")},
		{Kind: "warning", Title: tr.T("banner.warning"), Heading: tr.T("banner.warning.heading"), Body: tr.T("banner.warning.body")},
	}
	g.shell.Render(w, r, http.StatusOK, g.pages["banners"], p)
}
