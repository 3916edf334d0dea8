// Package clerk is the clerks' application on the staff site: the work of the front office,
// experts and heads of units. Its first screen shows the positions the person holds (through
// which tasks reach them) and their task list, and the entry point for registering an
// application brought to the counter.
package clerk

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/web"
	"github.com/aiskao/aiskao/web/staff"
)

//go:embed pages/*.html locales/*.json
var files embed.FS

// Files holds the application's message catalogues, for web.New.
var Files fs.FS = files

// Home is the application's first screen.
const Home = "/clerk/"

// Sections are what the start page and the navigation offer of the application.
var Sections = []staff.Section{
	{Label: "clerk.section", Hint: "clerk.section.hint", URL: Home, Perm: identity.TasksWork},
}

// App serves the clerks' pages. Make it with New.
type App struct {
	site  *staff.Site
	org   org.Store
	pages map[string]*template.Template
}

// New returns the application on site, reading positions from o (nil: none are known).
func New(site *staff.Site, o org.Store) (*App, error) {
	a := &App{site: site, org: o, pages: map[string]*template.Template{}}
	for _, name := range []string{"home", "register"} {
		t, err := site.Shell().Template(files, "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("clerk: %w", err)
		}
		a.pages[name] = t
	}
	return a, nil
}

// Endpoints are the application's routes, each with the permission it needs.
func (a *App) Endpoints() []httpauth.Endpoint {
	return []httpauth.Endpoint{
		{Pattern: "GET /clerk/{$}", Perm: identity.TasksWork, Handler: http.HandlerFunc(a.home)},
		{Pattern: "GET /clerk/register", Perm: identity.ApplicationsRegister, Handler: http.HandlerFunc(a.register)},
	}
}

// position is a position as the first screen shows it.
type position struct{ ID, Title, Unit string }

// homeData is what the first screen draws.
type homeData struct {
	Positions []position
	Tasks     []web.Task
	Register  bool
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	who, _ := identity.FromContext(r.Context())
	p := a.site.Page(r, "clerk.home.title", Home)
	ps, err := a.positions(r.Context(), who.Positions)
	if err != nil {
		http.Error(w, "positions are not available; try again later", http.StatusServiceUnavailable)
		return
	}
	p.Data = homeData{Positions: ps, Register: who.Can(identity.ApplicationsRegister)}
	a.site.Shell().Render(w, r, http.StatusOK, a.pages["home"], p)
}

// positions returns the positions of ids with their titles and units' names.
func (a *App) positions(ctx context.Context, ids []string) ([]position, error) {
	out := make([]position, 0, len(ids))
	for _, id := range ids {
		out = append(out, position{ID: id, Title: id})
	}
	if a.org == nil || len(ids) == 0 {
		return out, nil
	}
	all, err := a.org.Positions(ctx)
	if err != nil {
		return nil, fmt.Errorf("clerk: positions: %w", err)
	}
	units, err := a.org.Units(ctx)
	if err != nil {
		return nil, fmt.Errorf("clerk: units: %w", err)
	}
	unitName := map[string]string{}
	for _, u := range units {
		unitName[u.ID] = u.Name
	}
	byID := map[string]org.Position{}
	for _, p := range all {
		byID[p.ID] = p
	}
	for i := range out {
		if p, ok := byID[out[i].ID]; ok {
			out[i].Title, out[i].Unit = p.Title, unitName[p.Unit]
		}
	}
	return out, nil
}

func (a *App) register(w http.ResponseWriter, r *http.Request) {
	p := a.site.Page(r, "clerk.register.title", Home)
	a.site.Shell().Render(w, r, http.StatusOK, a.pages["register"], p)
}
