package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/core"
)

// BenchmarkRegister registers applications, each with its events, summary, keys and four outbox
// messages in one commit, from as many goroutines as GOMAXPROCS (go test -cpu to vary).
func BenchmarkRegister(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			c, err := core.New(core.Options{Store: s, Services: catalog(b), Clock: newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)).now, ApplicantKey: []byte("0123456789abcdef")})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "dossiers/s")
		})
	}
}

// BenchmarkDo runs a command on one of many dossiers: load, replay, command, commit.
func BenchmarkDo(b *testing.B) {
	s := backends(b)[0].open(b)
	c, err := core.New(core.Options{Store: s, Services: catalog(b), Clock: time.Now, ApplicantKey: []byte("0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var numbers []string
	for range 64 {
		r, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
		if err != nil {
			b.Fatal(err)
		}
		numbers = append(numbers, r.Number)
	}
	b.ResetTimer()
	for i := range b.N {
		err := c.Do(ctx, numbers[i%len(numbers)], core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
			return d.FileDocument(c.Meta(clerk), doc("letter-"+time.Now().Format("150405.000000000"), dossier.KindCorrespond), dossier.Internal)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
