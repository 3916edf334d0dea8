package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/dossier/store/sqlite"
)

// BenchmarkSubmit registers applications through the API on the SQLite store, one request at a
// time and from 8 callers per CPU at once (SetParallelism):
//
//	go test -run '^$' -bench Submit -benchtime 2000x ./dossier/api/
func BenchmarkSubmit(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprint("callers_per_cpu=", par), func(b *testing.B) {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cat, err := service.LoadDir("../../configs/services")
			if err != nil {
				b.Fatal(err)
			}
			c, err := core.New(core.Options{Store: s, Services: cat, ApplicantKey: []byte("0123456789abcdef0123456789abcdef")})
			if err != nil {
				b.Fatal(err)
			}
			a, err := newAPI(Options{Core: c, Services: cat, Store: s, Auth: roleAuth{}})
			if err != nil {
				b.Fatal(err)
			}
			mux := a.mux()
			var n atomic.Int64
			b.SetParallelism(par)
			b.ResetTimer()
			startAt := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					app := application()
					app["documents"] = []any{doc(fmt.Sprint("d", n.Add(1)), "application")}
					body, _ := json.Marshal(app)
					r := httptest.NewRequest("POST", "/api/v1/applications", bytes.NewReader(body))
					r.Header.Set("Authorization", "Bearer integrator")
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, r)
					if rec.Code != 201 {
						b.Errorf("%d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(startAt).Seconds(), "applications/s")
		})
	}
}
