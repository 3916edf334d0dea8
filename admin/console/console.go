// Package console is the administration application's first screens on the staff site: the
// staff accounts (list, create, reset a password, enrol a second factor, disable and enable:
// users.manage), their roles (roles.manage, the security officer's) and ending a person's
// sessions (sessions.revoke). identity/account journals every change of an account; the end of
// a person's sessions is journaled here.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/web"
	"github.com/aiskao/aiskao/web/staff"
)

//go:embed pages/*.html locales/*.json
var files embed.FS

// Files holds the application's message catalogues, for web.New.
var Files fs.FS = files

// The application's first screens.
const (
	AccountsHome = "/admin/"
	RolesHome    = "/admin/roles/"
)

// Sections are what the start page and the navigation offer of the application.
var Sections = []staff.Section{
	{Label: "console.accounts.section", Hint: "console.accounts.section.hint", URL: AccountsHome, Perm: identity.UsersManage},
	{Label: "console.roles.section", Hint: "console.roles.section.hint", URL: RolesHome, Perm: identity.RolesManage},
}

// Options are what the application works with.
type Options struct {
	Accounts *account.Service
	Sessions *session.Manager
	Journal  store.Journal
	// Org holds the units and positions given to accounts; nil: no positions are offered.
	Org org.Store
}

// App serves the administration's pages. Make it with New.
type App struct {
	site  *staff.Site
	o     Options
	pages map[string]*template.Template
}

// New returns the application on site.
func New(site *staff.Site, o Options) (*App, error) {
	if o.Accounts == nil || o.Sessions == nil {
		return nil, errors.New("console: accounts and sessions are required")
	}
	a := &App{site: site, o: o, pages: map[string]*template.Template{}}
	for _, name := range []string{"accounts", "new", "account", "secret", "roles", "role", "notfound"} {
		t, err := site.Shell().Template(files, "pages/common.html", "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		a.pages[name] = t
	}
	return a, nil
}

// Endpoints are the application's routes, each with the permission it needs.
func (a *App) Endpoints() []httpauth.Endpoint {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []httpauth.Endpoint{
		{Pattern: "GET /admin/{$}", Perm: identity.UsersManage, Handler: h(a.accounts)},
		{Pattern: "GET /admin/accounts/new", Perm: identity.UsersManage, Handler: h(a.newAccount)},
		{Pattern: "POST /admin/accounts", Perm: identity.UsersManage, Handler: h(a.create)},
		{Pattern: "GET /admin/accounts/{name}", Perm: identity.UsersManage, Handler: h(a.account)},
		{Pattern: "POST /admin/accounts/{name}/reset", Perm: identity.UsersManage, Handler: h(a.reset)},
		{Pattern: "POST /admin/accounts/{name}/totp", Perm: identity.UsersManage, Handler: h(a.totp)},
		{Pattern: "POST /admin/accounts/{name}/disable", Perm: identity.UsersManage, Handler: h(a.disable(true))},
		{Pattern: "POST /admin/accounts/{name}/enable", Perm: identity.UsersManage, Handler: h(a.disable(false))},
		{Pattern: "POST /admin/accounts/{name}/positions", Perm: identity.UsersManage, Handler: h(a.hold)},
		{Pattern: "GET /admin/roles/{$}", Perm: identity.RolesManage, Handler: h(a.roles)},
		{Pattern: "GET /admin/roles/{name}", Perm: identity.RolesManage, Handler: h(a.role)},
		{Pattern: "POST /admin/roles/{name}", Perm: identity.RolesManage, Handler: h(a.setRoles)},
		{Pattern: "POST /admin/sessions/{name}", Perm: identity.SessionsRevoke, Handler: h(a.endSessions)},
	}
}

// actor names the person acting, for the journal.
func actor(r *http.Request) string {
	p, _ := identity.FromContext(r.Context())
	return p.String()
}

// staffRoles are the roles an account of the staff site may be given: every person's role but
// the citizen's, whose people sign in through eAuth.
func staffRoles() []identity.Role {
	var out []identity.Role
	for _, r := range identity.PersonRoles() {
		if r != identity.Citizen {
			out = append(out, r)
		}
	}
	return out
}

// row is an account as the lists show it.
type row struct {
	Name, FullName, Roles, State, URL string
}

func (a *App) rows(ctx context.Context, tr web.Tr, base string) ([]row, error) {
	list, err := a.o.Accounts.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(list))
	for _, acc := range list {
		out = append(out, row{Name: acc.Name, FullName: acc.FullName, Roles: roleNames(tr, acc.Roles),
			State: tr.T(state(acc)), URL: base + url.PathEscape(acc.Name)})
	}
	return out, nil
}

func state(a account.Account) string {
	switch {
	case a.Disabled:
		return "console.state.disabled"
	case a.MustChange:
		return "console.state.must_change"
	}
	return "console.state.active"
}

func roleNames(tr web.Tr, roles []identity.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = staff.RoleName(tr, r)
	}
	return strings.Join(s, ", ")
}

// listData is what the lists of accounts draw.
type listData struct {
	Rows   []row
	Create bool
}

func (a *App) accounts(w http.ResponseWriter, r *http.Request) {
	p := a.site.Page(r, "console.accounts.title", AccountsHome)
	rows, err := a.rows(r.Context(), p.Tr, "/admin/accounts/")
	if err != nil {
		a.unavailable(w, err)
		return
	}
	p.Data = listData{Rows: rows, Create: true}
	a.render(w, r, http.StatusOK, "accounts", p)
}

func (a *App) roles(w http.ResponseWriter, r *http.Request) {
	p := a.site.Page(r, "console.roles.title", RolesHome)
	rows, err := a.rows(r.Context(), p.Tr, RolesHome)
	if err != nil {
		a.unavailable(w, err)
		return
	}
	p.Data = listData{Rows: rows}
	a.render(w, r, http.StatusOK, "roles", p)
}

// roleOption is a role's checkbox.
type roleOption struct {
	ID, Value, Label string
	Checked          bool
}

// rolesField is the roles' checkboxes of a form, with its error.
type rolesField struct {
	Legend             string
	Options            []roleOption
	Error, ErrorPrefix string
}

func roleOptions(tr web.Tr, have []identity.Role) []roleOption {
	var out []roleOption
	for i, r := range staffRoles() {
		id := "f-roles"
		if i > 0 {
			id += "-" + strconv.Itoa(i)
		}
		out = append(out, roleOption{ID: id, Value: string(r), Label: staff.RoleName(tr, r), Checked: slices.Contains(have, r)})
	}
	return out
}

// chosenRoles returns the roles r's form checks, known staff roles only.
func chosenRoles(r *http.Request) []identity.Role {
	var out []identity.Role
	for _, v := range r.PostForm["role"] {
		if role := identity.Role(v); slices.Contains(staffRoles(), role) && !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out
}

// newData is what the form of a new account draws.
type newData struct {
	Form  web.Form
	Roles rolesField
}

func (a *App) newForm(tr web.Tr, name, fullName string) web.Form {
	return web.NewForm(tr, "/admin/accounts", tr.T("console.new.submit"),
		web.Field{Name: "name", Label: tr.T("console.name"), Hint: tr.T("console.name.hint"), Value: name, Autocomplete: "off", Width: "w-l"},
		web.Field{Name: "full_name", Label: tr.T("console.full_name"), Value: fullName, Autocomplete: "off", Width: "w-l"},
		web.Field{Name: "roles", Label: tr.T("console.roles")})
}

func (a *App) newAccount(w http.ResponseWriter, r *http.Request) {
	p := a.site.Page(r, "console.new.title", AccountsHome)
	f := a.newForm(p.Tr, "", "")
	p.Data = newData{Form: f, Roles: rolesField{Legend: p.T("console.roles"), Options: roleOptions(p.Tr, nil), ErrorPrefix: f.ErrorPrefix}}
	a.render(w, r, http.StatusOK, "new", p)
}

func (a *App) create(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	p := a.site.Page(r, "console.new.title", AccountsHome)
	tr := p.Tr
	name, fullName := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("full_name"))
	roles := chosenRoles(r)
	f := a.newForm(tr, name, fullName)
	switch {
	case name == "":
		f.Set("name", tr.T("console.error.name.empty"))
	case account.CheckName(name) != nil || account.IsSSO(name):
		f.Set("name", tr.T("console.error.name.invalid"))
	}
	if fullName == "" {
		f.Set("full_name", tr.T("console.error.full_name.empty"))
	}
	if len(roles) == 0 {
		f.Set("roles", tr.T("console.error.roles.empty"))
	}
	var token string
	if f.Valid() {
		var err error
		token, err = a.o.Accounts.Create(r.Context(), actor(r), name, fullName, roles)
		switch {
		case errors.Is(err, account.ErrExists):
			f.Set("name", tr.T("console.error.name.exists"))
		case err != nil:
			a.unavailable(w, err)
			return
		}
	}
	if !f.Valid() {
		p.Failed = true
		rf := rolesField{Legend: tr.T("console.roles"), Options: roleOptions(tr, roles), ErrorPrefix: f.ErrorPrefix}
		for _, fl := range f.Fields {
			if fl.Name == "roles" {
				rf.Error = fl.Error
			}
		}
		p.Data = newData{Form: f, Roles: rf}
		a.render(w, r, http.StatusBadRequest, "new", p)
		return
	}
	a.secret(w, r, name, "console.created", token, "console.secret.token")
}

// secretData is what the page showing a one-time secret draws.
type secretData struct {
	Panel web.Panel
	Hint  string
	URL   string
}

// secret shows a one-time token or second factor, once: the page is not kept by the browser's
// cache (the shell answers no-store).
func (a *App) secret(w http.ResponseWriter, r *http.Request, name, title, secret, hint string) {
	p := a.site.Page(r, title, AccountsHome)
	p.Data = secretData{Panel: web.Panel{Title: p.Title, Body: p.T("console.secret.for", "Name", name), Ref: secret},
		Hint: p.T(hint), URL: "/admin/accounts/" + url.PathEscape(name)}
	a.render(w, r, http.StatusOK, "secret", p)
}

// accountData is what an account's page draws.
type accountData struct {
	Name, Path  string
	About       []web.SummaryRow
	Disabled    bool
	SSO         bool
	CanSessions bool
	CanRoles    bool
	Roles       rolesField
	Form        web.Form
	// Held are the positions the person holds; Position is the form giving another, nil when
	// none is left to give.
	Held     []string
	Position *web.Form
}

// load returns the account of r's {name}, or answers 404.
func (a *App) load(w http.ResponseWriter, r *http.Request) (account.Account, bool, bool) {
	acc, enrolled, err := a.o.Accounts.Get(r.Context(), r.PathValue("name"))
	if errors.Is(err, account.ErrNotFound) {
		p := a.site.Page(r, "console.notfound.title", "")
		a.render(w, r, http.StatusNotFound, "notfound", p)
		return acc, false, false
	}
	if err != nil {
		a.unavailable(w, err)
		return acc, false, false
	}
	return acc, enrolled, true
}

func (a *App) about(tr web.Tr, acc account.Account, enrolled bool) []web.SummaryRow {
	second := tr.T("console.totp.none")
	if enrolled {
		second = tr.T("console.totp.enrolled")
	}
	return []web.SummaryRow{
		{Key: tr.T("console.name"), Value: acc.Name},
		{Key: tr.T("console.full_name"), Value: acc.FullName},
		{Key: tr.T("console.roles"), Value: roleNames(tr, acc.Roles)},
		{Key: tr.T("console.state"), Value: tr.T(state(acc))},
		{Key: tr.T("console.totp"), Value: second},
		{Key: tr.T("console.created.at"), Value: acc.Created.Local().Format(time.DateTime)},
	}
}

func (a *App) account(w http.ResponseWriter, r *http.Request) {
	acc, enrolled, ok := a.load(w, r)
	if !ok {
		return
	}
	p := a.site.Page(r, "console.account.title", AccountsHome)
	p.Title = p.T("console.account.title", "Name", acc.Name)
	p.Banner = a.doneBanner(p.Tr, r)
	d := accountData{Name: acc.Name, Path: url.PathEscape(acc.Name), About: a.about(p.Tr, acc, enrolled),
		Disabled: acc.Disabled, SSO: account.IsSSO(acc.Name)}
	if a.o.Org != nil {
		held, err := a.o.Org.PositionsOf(r.Context(), acc.Name)
		if err != nil {
			a.unavailable(w, err)
			return
		}
		all, err := a.o.Org.Positions(r.Context())
		if err != nil {
			a.unavailable(w, err)
			return
		}
		d.Held = held
		var opts []web.Option
		for _, pos := range all {
			if !slices.Contains(held, pos.ID) {
				label := pos.Title
				if label != pos.ID {
					label += " (" + pos.ID + ")"
				}
				opts = append(opts, web.Option{Value: pos.ID, Label: label})
			}
		}
		if len(opts) > 0 {
			f := web.NewForm(p.Tr, "/admin/accounts/"+d.Path+"/positions", p.T("console.positions.submit"),
				web.Field{Name: "position", Label: p.T("console.positions.choose"), Type: "select", Options: opts, Width: "w-l"})
			d.Position = &f
		}
	}
	p.Data = d
	a.render(w, r, http.StatusOK, "account", p)
}

// hold gives the account the position chosen; identity/account journals it.
func (a *App) hold(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name, position := r.PathValue("name"), r.PostFormValue("position")
	if a.o.Org == nil || org.CheckID(position) != nil {
		http.Error(w, "choose a position", http.StatusBadRequest)
		return
	}
	err := a.o.Accounts.Hold(r.Context(), actor(r), name, position)
	switch {
	case errors.Is(err, account.ErrNotFound):
		a.notFound(w, r)
		return
	case errors.Is(err, org.ErrNotFound):
		http.Error(w, "no such position", http.StatusBadRequest)
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(name)+"?done=position", http.StatusSeeOther)
}

// doneBanner says what the last act did, from ?done=.
func (a *App) doneBanner(tr web.Tr, r *http.Request) *web.Banner {
	done := r.URL.Query().Get("done")
	switch done {
	case "disabled", "enabled", "roles", "sessions", "position":
		return &web.Banner{Kind: "success", Title: tr.T("console.banner.done"), Heading: tr.T("console.done." + done)}
	}
	return nil
}

func (a *App) reset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	tok, err := a.o.Accounts.Reset(r.Context(), actor(r), name)
	switch {
	case errors.Is(err, account.ErrNotFound):
		a.notFound(w, r)
		return
	case errors.Is(err, account.ErrSSOAccount):
		http.Error(w, "an account of single sign-on has no password to reset", http.StatusConflict)
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	a.secret(w, r, name, "console.reset.done", tok, "console.secret.token")
}

func (a *App) totp(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	uri, err := a.o.Accounts.EnrolTOTP(r.Context(), actor(r), name)
	switch {
	case errors.Is(err, account.ErrNotFound):
		a.notFound(w, r)
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	a.secret(w, r, name, "console.totp.done", uri, "console.secret.totp")
}

func (a *App) disable(disabled bool) http.HandlerFunc {
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if p, _ := identity.FromContext(r.Context()); disabled && p.Name == name {
			http.Error(w, "you cannot disable your own account", http.StatusConflict)
			return
		}
		err := a.o.Accounts.SetDisabled(r.Context(), actor(r), name, disabled)
		switch {
		case errors.Is(err, account.ErrNotFound):
			a.notFound(w, r)
			return
		case err != nil:
			a.unavailable(w, err)
			return
		}
		http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(name)+"?done="+done, http.StatusSeeOther)
	}
}

func (a *App) roleData(r *http.Request, p *web.Page, acc account.Account, enrolled bool, have []identity.Role) accountData {
	who, _ := identity.FromContext(r.Context())
	f := web.NewForm(p.Tr, RolesHome+url.PathEscape(acc.Name), p.T("console.roles.submit"), web.Field{Name: "roles", Label: p.T("console.roles")})
	return accountData{Name: acc.Name, Path: url.PathEscape(acc.Name), About: a.about(p.Tr, acc, enrolled),
		CanSessions: who.Can(identity.SessionsRevoke), CanRoles: true, Form: f,
		Roles: rolesField{Legend: p.T("console.roles"), Options: roleOptions(p.Tr, have), ErrorPrefix: f.ErrorPrefix}}
}

func (a *App) role(w http.ResponseWriter, r *http.Request) {
	acc, enrolled, ok := a.load(w, r)
	if !ok {
		return
	}
	p := a.site.Page(r, "console.role.title", RolesHome)
	p.Title = p.T("console.role.title", "Name", acc.Name)
	p.Banner = a.doneBanner(p.Tr, r)
	p.Data = a.roleData(r, p, acc, enrolled, acc.Roles)
	a.render(w, r, http.StatusOK, "role", p)
}

func (a *App) setRoles(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	acc, enrolled, ok := a.load(w, r)
	if !ok {
		return
	}
	roles := chosenRoles(r)
	if len(roles) == 0 {
		p := a.site.Page(r, "console.role.title", RolesHome)
		p.Title = p.T("console.role.title", "Name", acc.Name)
		p.Failed = true
		d := a.roleData(r, p, acc, enrolled, roles)
		d.Form.Set("roles", p.T("console.error.roles.empty"))
		d.Roles.Error = p.T("console.error.roles.empty")
		p.Data = d
		a.render(w, r, http.StatusBadRequest, "role", p)
		return
	}
	if err := a.o.Accounts.SetRoles(r.Context(), actor(r), acc.Name, roles); err != nil {
		a.unavailable(w, err)
		return
	}
	http.Redirect(w, r, RolesHome+url.PathEscape(acc.Name)+"?done=roles", http.StatusSeeOther)
}

// endSessions signs the person out everywhere and journals it: identity/session ends the
// sessions, and the act is the security officer's.
func (a *App) endSessions(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, _, err := a.o.Accounts.Get(r.Context(), name); errors.Is(err, account.ErrNotFound) {
		a.notFound(w, r)
		return
	}
	n, err := a.o.Sessions.EndAll(r.Context(), name)
	if err != nil {
		a.unavailable(w, err)
		return
	}
	if a.o.Journal != nil {
		e := store.JournalEntry{Kind: "sessions.revoked", Actor: actor(r), Subject: "account " + name, Result: "ok",
			Detail: map[string]string{"sessions": strconv.FormatInt(n, 10), "addr": a.o.Sessions.Addr(r)}}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		if _, err := a.o.Journal.AppendJournal(ctx, e); err != nil {
			a.unavailable(w, err)
			return
		}
	}
	http.Redirect(w, r, RolesHome+url.PathEscape(name)+"?done=sessions", http.StatusSeeOther)
}

func (a *App) render(w http.ResponseWriter, r *http.Request, code int, page string, p *web.Page) {
	a.site.Shell().Render(w, r, code, a.pages[page], p)
}

// unavailable answers 503 when the store fails; its error goes to the log, not to the browser.
func (a *App) unavailable(w http.ResponseWriter, err error) {
	slog.Error("console: accounts", "error", err)
	http.Error(w, "the accounts are not available; try again later", http.StatusServiceUnavailable)
}

// readForm reads r's form, bounded to 64 KiB; it answers 400 and reports false when it cannot.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return false
	}
	return true
}

// notFound answers the page of an account that is not there.
func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusNotFound, "notfound", a.site.Page(r, "console.notfound.title", ""))
}
