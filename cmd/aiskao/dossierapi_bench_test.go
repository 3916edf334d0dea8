package main

// Applications registered per second through the dossier API of the real binary: 16 clients
// post b.N applications, each with an Idempotency-Key of its own, spread over one or two
// processes, with the dossiers in the embedded SQLite file or in one PostgreSQL schema.
//
// Run with, for example:
//
//	go test ./cmd/aiskao -run '^$' -bench DossierAPIRegistrations -benchtime 2000x
//	DOSSIER_API_BENCH_PRELOAD=100000 go test ./cmd/aiskao -run '^$' -bench 'DossierAPIRegistrations/sqlite' -benchtime 2000x
//
// DOSSIER_API_BENCH_PRELOAD loads that many dossiers into the SQLite file before the hub starts
// (the dossier store benchmarks' data), so that registrations are measured on a register in use.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	dstore "github.com/aiskao/aiskao/dossier/store"
	dpostgres "github.com/aiskao/aiskao/dossier/store/postgres"
	dsqlite "github.com/aiskao/aiskao/dossier/store/sqlite"
	"github.com/aiskao/aiskao/dossier/store/storetest"
)

// apiBenchClients are the clients posting at once.
const apiBenchClients = 16

func BenchmarkDossierAPIRegistrations(b *testing.B) {
	preload := apiBenchPreload(b)
	var tmpl preloadTemplate
	b.Cleanup(tmpl.remove)
	app := []byte(strings.TrimSuffix(strings.TrimPrefix(dossierApplication, `{"application": `), "}"))
	var run atomic.Int64 // keeps idempotency keys apart between the runs of a benchmark
	for _, c := range []struct {
		name     string
		postgres bool
		n        int
	}{
		{"sqlite/processes=1", false, 1},
		{"postgres/processes=1", true, 1},
		{"postgres/processes=2", true, 2},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := &deployment{tb: b, name: uniqueName("aiskao_apibench_")}
			var count func() int
			database := ""
			if c.postgres {
				d.pgURL = apiBenchPostgres(b)
				schema := d.name + "_dossiers" // dropped with the deployment's
				b.Cleanup(d.dropSchema)
				database = fmt.Sprintf("    database: { postgres: { url: %q, schema: %s } }", d.pgURL, schema)
				count = func() int {
					st, err := dpostgres.New(context.Background(), dpostgres.Config{URL: d.pgURL, Schema: schema})
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					return countDossiers(b, st)
				}
			}
			d.config = apiBenchConfig(b, database)
			procs := make([]*proc, c.n)
			for i := range procs {
				data := b.TempDir()
				if !c.postgres && preload > 0 {
					tmpl.copyTo(b, preload, filepath.Join(data, "aiskao.db"))
				}
				// The API listens on the process's AISKAO_DOSSIER_API_ADDR; the integrator's
				// token is in the process's own store.
				apiAddr := freeAddrFor(b)
				procs[i] = d.launch(fmt.Sprintf("hub-%d", i+1), freeAddrFor(b), freeAddrFor(b), data, []string{"AISKAO_DOSSIER_API_ADDR=" + apiAddr})
				procs[i].httpAddr = apiAddr // post goes to the API from here on
			}
			if !c.postgres {
				count = func() int {
					st, err := dsqlite.Open(filepath.Join(procs[0].data, "aiskao.db"))
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					return countDossiers(b, st) - preload
				}
			}
			prefix := fmt.Sprintf("%s-%d-%d-", d.name, run.Add(1), b.N)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: apiBenchClients}, Timeout: time.Minute}
			latencies := make([][]time.Duration, apiBenchClients)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for k := range apiBenchClients {
				wg.Go(func() {
					for {
						i := int(next.Add(1))
						if i > b.N {
							return
						}
						p := procs[i%c.n]
						start := time.Now()
						status, body, err := postAPIApplication(client, p, app, prefix+strconv.Itoa(i))
						latencies[k] = append(latencies[k], time.Since(start))
						if err != nil || status != http.StatusCreated {
							b.Errorf("POST /api/v1/applications to %s: status %d, err %v: %s", p.name, status, err, body)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applications/s")
			all := slices.Concat(latencies...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
			b.ReportMetric(0, "ns/op")
			if b.Failed() {
				return
			}
			if got := count(); got != b.N {
				b.Errorf("%d dossiers registered, want %d", got, b.N)
			}
		})
	}
}

// postAPIApplication posts app to p's dossier API with p's integrator token and key as the
// Idempotency-Key, and returns the status and the body.
func postAPIApplication(client *http.Client, p *proc, app []byte, key string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+p.httpAddr+"/api/v1/applications", bytes.NewReader(app))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// apiBenchConfig is dossierConfigOn for a benchmark, with the dossier API on and the dossiers in
// database (the connector's option; the embedded file when empty). The events route stays: the
// relay publishes every dossier's events to files while the clients post, as in a deployment.
func apiBenchConfig(b *testing.B, database string) string {
	b.Helper()
	return dossierConfigOn(b, true, `    api: { listen: "${AISKAO_DOSSIER_API_ADDR}", auth: { type: api_key } }`+"\n"+database)
}

// apiBenchPreload returns DOSSIER_API_BENCH_PRELOAD, 0 when unset.
func apiBenchPreload(b *testing.B) int {
	v := os.Getenv("DOSSIER_API_BENCH_PRELOAD")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("DOSSIER_API_BENCH_PRELOAD=%q: want a number of dossiers", v)
	}
	return n
}

// preloadTemplate is an SQLite file holding the preloaded dossiers, made once per run of the
// benchmark and copied into each hub's data folder.
type preloadTemplate struct {
	once sync.Once
	dir  string
	err  error
}

// copyTo writes the template, made with n dossiers at the first call, to the file to.
func (t *preloadTemplate) copyTo(b *testing.B, n int, to string) {
	b.Helper()
	t.once.Do(func() {
		if t.dir, t.err = os.MkdirTemp("", "aiskao-apibench-"); t.err != nil {
			return
		}
		st, err := dsqlite.Open(filepath.Join(t.dir, "aiskao.db"))
		if err != nil {
			t.err = err
			return
		}
		took := storetest.Load(b, st, 0, n, apiBenchClients)
		b.Logf("%d dossiers preloaded in %v", n, took.Round(time.Millisecond))
		t.err = st.Close()
	})
	if t.err != nil {
		b.Fatalf("preload %d dossiers: %v", n, t.err)
	}
	raw, err := os.ReadFile(filepath.Join(t.dir, "aiskao.db"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		b.Fatal(err)
	}
}

func (t *preloadTemplate) remove() {
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// countDossiers counts the dossiers in s, a page of the largest size at a time.
func countDossiers(b *testing.B, s dstore.Store) int {
	b.Helper()
	n, after := 0, ""
	for {
		p, err := s.Dashboard(context.Background(), dstore.Query{Kind: dstore.KindDossier, Limit: dstore.MaxLimit, After: after})
		if err != nil {
			b.Fatalf("count dossiers: %v", err)
		}
		n += len(p.Items)
		if p.Next == "" {
			return n
		}
		after = p.Next
	}
}

// apiBenchPostgres returns the PostgreSQL server's URL, skipping the benchmark when it is not
// reachable (failing when CI is set).
func apiBenchPostgres(b *testing.B) string {
	b.Helper()
	url := envOr("AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (set AISKAO_POSTGRES_URL): %v", redactURL(url), err)
		if os.Getenv("CI") != "" {
			b.Fatal(msg)
		}
		b.Skip(msg)
	}
	return url
}
