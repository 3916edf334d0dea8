package gallery

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/web"
)

// dossier is one row of the table page's sample.
type dossier struct {
	Number   string
	Service  int // index into services
	Status   string
	Received time.Time
	DaysLeft int
}

var services = []string{"svc.sketch", "svc.permit", "svc.certificate", "svc.address", "svc.register"}

var statuses = []string{"progress", "done", "todo", "blocked"}

// sample is the table page's 47 dossiers, the same on every start.
var sample = func() []dossier {
	out := make([]dossier, 47)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = dossier{
			Number:   fmt.Sprintf("ЗАО-2026-%06d", 100+i*7),
			Service:  (i * 3) % len(services),
			Status:   statuses[(i*5)%len(statuses)],
			Received: start.AddDate(0, 0, (i*11)%60),
			DaysLeft: (i*13)%30 - 3,
		}
	}
	return out
}()

// perPage is how many rows a page of the table shows.
const perPage = 10

// tableData is what the table page shows: the filters, the table and its pages.
type tableData struct {
	Filters web.Form
	Table   web.Table
	Pages   web.Pagination
	Count   string
}

func (g *Gallery) table(w http.ResponseWriter, r *http.Request) {
	p := g.page(r, "/table", "table.title")
	tr := p.Tr
	q := r.URL.Query()
	status, search := q.Get("status"), strings.TrimSpace(q.Get("q"))
	rows := make([]dossier, 0, len(sample))
	for _, d := range sample {
		if status != "" && d.Status != status {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(d.Number+" "+tr.T(services[d.Service])), strings.ToLower(search)) {
			continue
		}
		rows = append(rows, d)
	}
	sortKey, desc := q.Get("sort"), q.Get("dir") == "desc"
	by := map[string]func(a, b dossier) int{
		"number":   func(a, b dossier) int { return cmp.Compare(a.Number, b.Number) },
		"service":  func(a, b dossier) int { return strings.Compare(tr.T(services[a.Service]), tr.T(services[b.Service])) },
		"received": func(a, b dossier) int { return a.Received.Compare(b.Received) },
		"days":     func(a, b dossier) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) },
	}
	if _, ok := by[sortKey]; !ok {
		sortKey, desc = "received", true
	}
	slices.SortStableFunc(rows, func(a, b dossier) int {
		c := by[sortKey](a, b)
		if desc {
			return -c
		}
		return c
	})
	pages := max(1, (len(rows)+perPage-1)/perPage)
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	n = min(n, pages)
	// Links keep the filters and the language, not the page or the sort of the moment.
	base := url.Values{}
	for _, k := range []string{"status", "q"} {
		if v := q.Get(k); v != "" {
			base.Set(k, v)
		}
	}
	sorted := clone(base)
	sorted.Set("sort", sortKey)
	if desc {
		sorted.Set("dir", "desc")
	}
	d := tableData{
		Table: web.Table{Caption: tr.T("table.caption"), Sort: sortKey, Desc: desc, Base: base, Columns: []web.Column{
			{Key: "number", Label: tr.T("col.number")}, {Key: "service", Label: tr.T("col.service")},
			{Label: tr.T("col.status")}, {Key: "received", Label: tr.T("col.received")},
			{Key: "days", Label: tr.T("col.days"), Numeric: true},
		}},
		Pages: web.Pagination{Page: n, Pages: pages, Base: sorted, Prev: tr.T("pagination.prev"), Next: tr.T("pagination.next"), Label: tr.T("pagination.label")},
		Count: tr.T("table.count", "Count", len(rows)),
	}
	for _, row := range rows[min((n-1)*perPage, len(rows)):min(n*perPage, len(rows))] {
		d.Table.Rows = append(d.Table.Rows, []string{row.Number, tr.T(services[row.Service]), tr.T("status." + row.Status),
			row.Received.Format("02.01.2006"), strconv.Itoa(row.DaysLeft)})
	}
	opts := []web.Option{{Value: "", Label: tr.T("filter.all")}}
	for _, s := range statuses {
		opts = append(opts, web.Option{Value: s, Label: tr.T("status." + s)})
	}
	d.Filters = web.NewForm(tr, "/table", tr.T("filter.apply"),
		web.Field{Name: "q", Label: tr.T("filter.search"), Type: "search", Value: search, Width: "w-m"},
		web.Field{Name: "status", Label: tr.T("col.status"), Type: "select", Value: status, Options: opts},
	)
	p.Data = d
	g.shell.Render(w, r, http.StatusOK, g.pages["table"], p)
}

func clone(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
