package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// dashboardFile is the Grafana dashboard shipped for the hub.
const dashboardFile = "../configs/grafana/aiskao-hub.json"

// TestDashboardQueriesExportedMetrics fails when a panel or variable of the dashboard queries a
// metric that the hub does not export: such a panel would stay empty without saying why.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	queries := dashboardQueries(t, dashboardFile)
	exported, types := exportedMetrics(t)
	used := 0
	for _, q := range queries {
		names, err := promMetricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %s: %v in %q", dashboardFile, q.where, err, q.expr)
			continue
		}
		if len(names) == 0 && q.needsMetric {
			t.Errorf("%s: %s: no metric found in %q", dashboardFile, q.where, q.expr)
		}
		for _, n := range names {
			used++
			if why := checkExported(n, exported, types); why != "" {
				t.Errorf("%s: %s queries %s, %s", dashboardFile, q.where, n, why)
			}
		}
	}
	if used == 0 {
		t.Fatalf("%s: no metric found in any query", dashboardFile)
	}
}

// TestDashboardShowsEveryHubMetric fails when the hub exports an aiskao_ metric that no panel
// shows, so that a new metric comes with its panel.
func TestDashboardShowsEveryHubMetric(t *testing.T) {
	exported, types := exportedMetrics(t)
	shown := map[string]bool{}
	for _, q := range dashboardQueries(t, dashboardFile) {
		names, err := promMetricNames(q.expr)
		if err != nil {
			continue // reported by TestDashboardQueriesExportedMetrics
		}
		for _, n := range names {
			shown[n] = true
			if base, ok := histogramBase(n, types); ok {
				shown[base] = true
			}
		}
	}
	for n := range exported {
		if strings.HasPrefix(n, "aiskao_") && !shown[n] {
			t.Errorf("the hub exports %s, but no panel of %s shows it", n, dashboardFile)
		}
	}
}

// TestDashboardVariables checks the variables the panels rely on.
func TestDashboardVariables(t *testing.T) {
	d := loadDashboard(t, dashboardFile)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	for name, typ := range map[string]string{"datasource": "datasource", "route": "query", "instance": "query"} {
		if vars[name] != typ {
			t.Errorf("%s: variable %q has type %q, want %q", dashboardFile, name, vars[name], typ)
		}
	}
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: panel %q uses data source %q, want ${datasource}", dashboardFile, p.Title, p.Datasource.UID)
		}
	}
}

func TestPromMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`go_goroutines`, []string{"go_goroutines"}},
		{`rate(aiskao_route_messages_total{route=~"$route", outcome="delivered"}[5m])`, []string{"aiskao_route_messages_total"}},
		{`sum by (route, outcome) (rate(aiskao_route_messages_total[5m]))`, []string{"aiskao_route_messages_total"}},
		{`sum(rate(a_total[5m])) without (instance, job)`, []string{"a_total"}},
		{`histogram_quantile(0.99, sum by (route, step, le) (rate(aiskao_step_duration_seconds_bucket{route=~"$route"}[$__rate_interval])))`, []string{"aiskao_step_duration_seconds_bucket"}},
		{`a / on (route) group_left (version) b`, []string{"a", "b"}},
		{`a > bool 0.5 and ignoring (x) b offset 1h or c unless d`, []string{"a", "b", "c", "d"}},
		{`max by (route) (x{label="sum by (y) (z)", other='b{c}'})`, []string{"x"}},
		{`topk(5, x) * 1e3 + count_values("v", y)`, []string{"x", "y"}},
		{`label_values(aiskao_route_messages_total, route)`, []string{"aiskao_route_messages_total"}},
		{`label_values(aiskao_build_info{instance=~"$instance"}, version)`, []string{"aiskao_build_info"}},
		{`label_values(route)`, nil},
		{`sum(x{instance=~"${instance:regex}"}) by (route)`, []string{"x"}},
		{`a:recorded:rate5m`, []string{"a:recorded:rate5m"}},
		{`vector(1)`, nil},
	}
	for _, tt := range tests {
		got, err := promMetricNames(tt.expr)
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: metric names %q, want %q", tt.expr, got, tt.want)
		}
	}
	for _, bad := range []string{`rate(x[5m]`, `x{a="b"`, `x{a="b}`, `sum(x))`} {
		if got, err := promMetricNames(bad); err == nil {
			t.Errorf("%q: metric names %q and no error, want an error", bad, got)
		}
	}
}

// dashboard is the part of a Grafana dashboard model that the tests read.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

func loadDashboard(t *testing.T, file string) dashboard {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// query is one PromQL expression of the dashboard and where it is.
type query struct {
	where       string
	expr        string
	needsMetric bool
}

// dashboardQueries returns the expressions of every panel target and query variable of file.
func dashboardQueries(t *testing.T, file string) []query {
	t.Helper()
	d := loadDashboard(t, file)
	var out []query
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			out = append(out, query{where: fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), expr: tg.Expr, needsMetric: true})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		// Grafana writes a query variable's query as a string or, in newer versions, an object.
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q.Query); err != nil {
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("%s: variable %q: query is neither a string nor an object with a query: %v", file, v.Name, err)
			}
		}
		out = append(out, query{where: fmt.Sprintf("variable %q", v.Name), expr: q.Query})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no queries", file)
	}
	return out
}

// exportedMetrics returns the names of every metric the hub's registry describes or gathers, and
// the types of those it gathers. A vector without children is not gathered, so the names come
// from the descriptions; histogram types come from gathering after one observation each.
func exportedMetrics(t *testing.T) (map[string]bool, map[string]dto.MetricType) {
	t.Helper()
	m := NewMetrics("test")
	rm := m.forRoute("route")
	rm.count(OutcomeDelivered)
	rm.duration.Observe(0.01)
	rm.observeStep("steps[0]", time.Millisecond)
	m.setGauges(func(context.Context) gaugeValues {
		return gaugeValues{deadLetters: map[string]float64{"route": 1}, backlog: map[string]float64{"route": 2}, consumers: map[string]float64{"route": 3}}
	})

	names := map[string]bool{}
	descs := make(chan *prometheus.Desc)
	go func() {
		m.Registry.Describe(descs)
		close(descs)
	}()
	for d := range descs {
		match := descName.FindStringSubmatch(d.String())
		if match == nil {
			t.Fatalf("no metric name in description %s", d)
		}
		names[match[1]] = true
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	types := map[string]dto.MetricType{}
	for _, f := range families {
		names[f.GetName()] = true
		types[f.GetName()] = f.GetType()
	}
	return names, types
}

// descName finds the metric name in prometheus.Desc.String, which has no accessor for it.
var descName = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)

// checkExported says why name is not a metric the hub exports, or returns "" when it is.
func checkExported(name string, exported map[string]bool, types map[string]dto.MetricType) string {
	if exported[name] {
		return ""
	}
	if base, ok := histogramBase(name, types); ok && exported[base] {
		return ""
	}
	known := make([]string, 0, len(exported))
	for n := range exported {
		if strings.HasPrefix(n, "aiskao_") {
			known = append(known, n)
		}
	}
	sort.Strings(known)
	return fmt.Sprintf("which the hub does not export (its own metrics are %s)", strings.Join(known, ", "))
}

// histogramBase maps a series name of a histogram or summary (name_bucket, name_sum,
// name_count) to the metric's name.
func histogramBase(name string, types map[string]dto.MetricType) (string, bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch types[base] {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			return base, true
		case dto.MetricType_SUMMARY:
			return base, suffix != "_bucket"
		}
	}
	return "", false
}

// PromQL words that are not metric names wherever they appear without a following "(".
var (
	promAggregations = setOf("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
		"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio")
	promGrouping = setOf("by", "without", "on", "ignoring", "group_left", "group_right")
	promKeywords = setOf("bool", "offset", "and", "or", "unless", "atan2", "inf", "nan", "start", "end")
)

func setOf(words ...string) map[string]bool {
	s := map[string]bool{}
	for _, w := range words {
		s[strings.ToLower(w)] = true
	}
	return s
}

// promMetricNames returns the metric names an expression (PromQL, or Grafana's label_values)
// selects, in order of appearance. It is a tokenizer, not a parser: it drops string literals,
// label matchers, ranges, numbers, Grafana variables, function names, aggregations with their
// grouping labels and keywords, and keeps the identifiers left.
func promMetricNames(expr string) ([]string, error) {
	var names []string
	depth := 0
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '{':
			end, err := skipTo(expr, i, '}')
			if err != nil {
				return nil, err
			}
			i = end
		case c == '[':
			end, err := skipTo(expr, i, ']')
			if err != nil {
				return nil, err
			}
			i = end
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				end, err := skipTo(expr, i, '}')
				if err != nil {
					return nil, err
				}
				i = end
			} else {
				for i < len(expr) && isIdent(expr[i]) {
					i++
				}
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at offset %d", i)
			}
			i++
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := i
			for next < len(expr) && (expr[next] == ' ' || expr[next] == '\t' || expr[next] == '\n') {
				next++
			}
			call := next < len(expr) && expr[next] == '('
			lower := strings.ToLower(word)
			switch {
			case promGrouping[lower]:
				if call { // the label list
					end, err := skipTo(expr, next, ')')
					if err != nil {
						return nil, err
					}
					i = end
				}
			case lower == "label_values" && call:
				end, err := skipTo(expr, next, ')')
				if err != nil {
					return nil, err
				}
				// label_values(selector, label) or label_values(label): only the first form
				// names a metric.
				args := expr[next+1 : end-1]
				if comma := topLevelComma(args); comma >= 0 {
					inner, err := promMetricNames(args[:comma])
					if err != nil {
						return nil, err
					}
					names = append(names, inner...)
				}
				i = end
			case call, promAggregations[lower], promKeywords[lower]:
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%d unclosed (", depth)
	}
	return names, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// skipString returns the offset after the string literal starting at i.
func skipString(s string, i int) (int, error) {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote != '`':
			j++
		case s[j] == quote:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at offset %d", i)
}

// skipTo returns the offset after the close that matches the opening bracket at i, skipping
// string literals and nested brackets of the same kind.
func skipTo(s string, i int, close byte) (int, error) {
	open := s[i]
	depth := 0
	for j := i; j < len(s); {
		switch s[j] {
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = end
			continue
		case open:
			depth++
		case close:
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
		j++
	}
	return 0, fmt.Errorf("unclosed %c at offset %d", open, i)
}

// topLevelComma returns the offset of the first comma of s outside brackets and strings, or -1.
func topLevelComma(s string) int {
	depth := 0
	for j := 0; j < len(s); j++ {
		switch s[j] {
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return -1
			}
			j = end - 1
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}
