package hub

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus/testutil"

	_ "github.com/aiskao/aiskao/connectors/all"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/internal/bareloop"
	"github.com/aiskao/aiskao/routes"
	_ "github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/transforms"
	_ "github.com/aiskao/aiskao/transforms/all"
)

// The demo route in memory, beside the bare loop of internal/bareloop doing the same work with the
// same libraries. Run with
//
//	go test -run '^$' -bench 'DemoRoute|BareLoop' -benchmem ./hub/

var benchSample = filepath.Join("..", "testdata", "esoed", "registration-request.xml")

func loadDemo(b *testing.B) *routes.Config {
	b.Helper()
	cfg, err := routes.Load(routes.DefaultCatalog(), filepath.Join("..", "configs", "demo.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkDemoRoute runs the sample as it is (3 KB) and grown to 30 KB and 300 KB by its
// attachment, the latter the size at which the schema's base64 pattern over AttBody was most of the cost.
func BenchmarkDemoRoute(b *testing.B) { benchDemoRoute(b, false) }

// BenchmarkDemoRouteParallel is BenchmarkDemoRoute on GOMAXPROCS goroutines at once (-cpu 2 for
// two), as a peer running its pipeline on as many threads is measured:
//
//	go test -run '^$' -bench 'DemoRouteParallel' -cpu 2 -benchmem ./hub/
func BenchmarkDemoRouteParallel(b *testing.B) { benchDemoRoute(b, true) }

func benchDemoRoute(b *testing.B, parallel bool) {
	cfg := loadDemo(b)
	sample, err := os.ReadFile(benchSample)
	if err != nil {
		b.Fatal(err)
	}
	p, err := newPipeline(cfg.Routes[0], Options{Catalog: routes.DefaultCatalog(), Logger: quietLogger()}, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []struct {
		name  string
		bytes int
	}{{"3KB", 0}, {"30KB", 30 << 10}, {"300KB", 300 << 10}} {
		b.Run("size="+size.name, func(b *testing.B) {
			input := sample
			if size.bytes > 0 {
				input = grownSample(b, sample, size.bytes)
			}
			ctx := context.Background()
			one := func() error {
				m := transforms.NewMessage("bench", map[string]string{"datacontenttype": "application/xml"}, input)
				ds, err := p.run(ctx, m, nil)
				if err != nil {
					return err
				}
				_, err = ds[0].msg.Payload()
				return err
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(input)))
			b.ResetTimer()
			if parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := one(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for i := 0; i < b.N; i++ {
					if err := one(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// grownSample is sample with its attachment's body replaced by base64 of made-up bytes, so that
// the message is about size bytes long.
func grownSample(b *testing.B, sample []byte, size int) []byte {
	b.Helper()
	const open, end = "<AttBody>", "</AttBody>"
	i := bytes.Index(sample, []byte(open))
	j := bytes.Index(sample, []byte(end))
	if i < 0 || j < i {
		b.Fatal("the sample has no AttBody")
	}
	i += len(open)
	raw := make([]byte, (size-len(sample)+(j-i))*3/4)
	for k := range raw {
		raw[k] = byte(k*131 + k>>8)
	}
	out := append([]byte{}, sample[:i]...)
	out = base64.StdEncoding.AppendEncode(out, raw)
	return append(out, sample[j:]...)
}

func BenchmarkBareLoop(b *testing.B) {
	input, err := os.ReadFile(benchSample)
	if err != nil {
		b.Fatal(err)
	}
	l, err := bareloop.New(filepath.Join("..", "configs", "schemas", "esoed-message.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Process(input); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkEngineDrain measures the route alone through the durable transport: the transport is
// filled with b.N demo messages first, then the engine starts and the clock runs until every one
// is written by the file sink. Sub-benchmarks with and without fsync of the written files.
//
//	go test -run '^$' -bench EngineDrain -benchtime 3000x ./hub/
func BenchmarkEngineDrain(b *testing.B) {
	input, err := os.ReadFile(benchSample)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct{ name, opts string }{
		{"fsync=true", "fsync: true"},
		{"fsync=false", "fsync: false"},
		{"sync=filesystem", "sync: filesystem"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			raw, err := os.ReadFile(filepath.Join("..", "configs", "demo.yaml"))
			if err != nil {
				b.Fatal(err)
			}
			text := strings.Replace(string(raw), "    dir: out/esoed-inbox", "    dir: out/esoed-inbox\n    "+mode.opts, 1)
			b.Setenv("AISKAO_HTTP_ADDR", "127.0.0.1:0")
			b.Setenv("AISKAO_OPS_ADDR", "")
			cfg, err := routes.Parse(routes.DefaultCatalog(), filepath.Join("..", "configs", "demo.yaml"), []byte(text))
			if err != nil {
				b.Fatal(err)
			}
			m := NewMetrics("bench")
			e, err := Build(cfg, Options{DataDir: b.TempDir(), Logger: quietLogger(), Metrics: m})
			if err != nil {
				b.Fatal(err)
			}
			pub := e.tr.Publisher()
			const batch = 256
			for i := 0; i < b.N; i += batch {
				var msgs []*message.Message
				for j := i; j < min(i+batch, b.N); j++ {
					msgs = append(msgs, message.NewMessage(fmt.Sprintf("m-%d", j), input))
				}
				if err := pub.Publish(Topic("esoed-inbox"), msgs...); err != nil {
					b.Fatal(err)
				}
			}
			delivered := m.messages.WithLabelValues("esoed-inbox", OutcomeDelivered)
			b.ResetTimer()
			if err := e.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			for testutil.ToFloat64(delivered) < float64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			_ = e.Stop(context.Background())
		})
	}
}
