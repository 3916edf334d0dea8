package main

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/bareloop"
)

func TestBenchParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"3000", 3000, false},
		{"300B", 300, false},
		{"3KB", 3000, false},
		{"30kb", 30000, false},
		{"300 KB", 300000, false},
		{"1.5MB", 1500000, false},
		{"4KiB", 4096, false},
		{"2MiB", 2 << 20, false},
		{"KB", 0, true},
		{"-3KB", 0, true},
		{"3GB", 0, true},
	} {
		got, err := parseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestBenchSizedSample grows the demo's sample and checks the result against the demo's schema
// by the bare loop, which does the route's work.
func TestBenchSizedSample(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	loop, err := bareloop.New("../../configs/schemas/esoed-message.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{len(sample), 5000, 5001, 5002, 5003, 30000, 300000, 3 << 20} {
		got, err := sizedSample(sample, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if d := math.Abs(float64(len(got)-size)) / float64(size); d > 0.01 {
			t.Errorf("size %d: got %d bytes, more than 1%% off", size, len(got))
		}
		if _, err := loop.Process(got); err != nil {
			t.Errorf("size %d: the demo's route refuses the message: %v", size, err)
		}
		if !bytes.Contains(got, []byte("{f330b925-8cca-447e-907e-8e42a11bb6d6}")) {
			t.Errorf("size %d: the GUID the bench replaces per request is gone", size)
		}
	}
	if got, err := sizedSample(sample, 0); err != nil || !bytes.Equal(got, sample) {
		t.Errorf("size 0 changed the sample (err %v)", err)
	}
	if _, err := sizedSample(sample, 3000); err == nil || !strings.Contains(err.Error(), "smallest") {
		t.Errorf("size 3000 (below the sample without its attachment) = %v, want an error naming the smallest", err)
	}
	if _, err := sizedSample([]byte("<a/>"), 5000); err == nil {
		t.Error("a sample without an attachment grew")
	}
}

func TestBenchFlags(t *testing.T) {
	sample := "../../testdata/esoed/registration-request.xml"
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error; errUsage when empty
	}{
		{"peer without config", []string{"-peer", "/bin/true"}, ""},
		{"config without peer", []string{"-peer-config", "x.yaml"}, ""},
		{"no rounds", []string{"-rounds", "0", "-peer", "/bin/true", "-peer-config", "x"}, ""},
		{"peer-env without =", []string{"-peer-env", "THREADS"}, ""},
		{"unknown flag", []string{"-sizes", "3KB"}, ""},
		{"unknown transport", []string{"-transport", "kafka"}, ""},
		{"no processes", []string{"-transport", "rabbitmq", "-processes", "0"}, ""},
		{"processes without the broker", []string{"-processes", "2"}, ""},
		{"a list of processes without the broker", []string{"-processes", "1,2"}, ""},
		{"a list of processes with a zero", []string{"-processes", "1,0"}, ""},
		{"a list of processes with a count twice", []string{"-processes", "1,2,1"}, ""},
		{"a list of processes not of numbers", []string{"-processes", "1,two"}, ""},
		{"a list of processes with a peer", []string{"-transport", "rabbitmq", "-processes", "1,2", "-peer", "/bin/true", "-peer-config", "x.yaml"}, ""},
		{"cpus not a list", []string{"-cpus", "one"}, ""},
		{"cpus half a range", []string{"-cpus", "0-"}, ""},
		{"sync unknown", []string{"-sync", "sometimes", "-config", "../../configs/demo.yaml"}, ""},
		{"sync the configuration does not take", []string{"-sync", "filesystem", "-config", "../../configs/esoed-peer.yaml"}, ""},
		{"bad size", []string{"-size", "big"}, "want bytes"},
		{"size too small", []string{"-size", "1KB", "-sample", sample, "-data", t.TempDir()}, "smallest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runBench(tc.args, io.Discard, io.Discard)
			if tc.want == "" && !errors.Is(err, errUsage) {
				t.Errorf("runBench(%q) = %v, want errUsage", tc.args, err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("runBench(%q) = %v, want an error with %q", tc.args, err, tc.want)
			}
		})
	}
}

// checkOutSync names what is wrong with a -sync, and lets one through only where the
// configuration takes it.
func TestBenchCheckOutSync(t *testing.T) {
	for _, tc := range []struct {
		sync, config, want string // want: in the error; none when empty
	}{
		{"", "../../configs/esoed-peer.yaml", ""},
		{"file", "../../configs/demo.yaml", ""},
		{"filesystem", "../../configs/bench-esoed-inbox-rabbitmq.yaml", ""},
		{"sometimes", "../../configs/demo.yaml", `-sync "sometimes": want file or filesystem`},
		{"filesystem", "../../configs/esoed-peer.yaml", "does not take AISKAO_OUT_SYNC"},
		{"file", "../../configs/nothing-here.yaml", "no such file"},
	} {
		err := checkOutSync(tc.sync, tc.config)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkOutSync(%q, %q) = %v, want %q", tc.sync, tc.config, err, tc.want)
		}
	}
}

func TestValidCPUList(t *testing.T) {
	for l, want := range map[string]bool{
		"1": true, "0-1": true, "0,2": true, "0-3,6,8-9": true,
		"": false, "one": false, "0-": false, "-1": false, "1,": false, "0 1": false,
	} {
		if got := validCPUList(l); got != want {
			t.Errorf("validCPUList(%q) = %v, want %v", l, got, want)
		}
	}
}

func TestBenchMedianAndRatios(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{nan, 7, 1}, 4},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := median([]float64{nan}); !math.IsNaN(got) {
		t.Errorf("median of NaN alone = %v, want NaN", got)
	}

	run := func(rate, cpuSec float64, delivered int, p50, p99 time.Duration, peakKB float64) figures {
		return figures{rate: rate, delivered: delivered, p50: p50, p99: p99, peakKB: peakKB, idleKB: 40000,
			cpu: cpuUse{hub: cpuSec, ok: true}, mallocs: nan, allocBytes: nan}
	}
	hub := medianFigures([]figures{
		run(3000, 3, 10000, 2*time.Millisecond, 20*time.Millisecond, 400000), // 300 µs/msg
		run(4000, 2, 10000, 4*time.Millisecond, 10*time.Millisecond, 100000), // 200 µs/msg
		run(1000, 4, 10000, 3*time.Millisecond, 30*time.Millisecond, 200000), // 400 µs/msg
	})
	peer := medianFigures([]figures{
		run(2000, 1, 5000, 1*time.Millisecond, 10*time.Millisecond, 100000), // 200 µs/msg
		run(2000, 1, 10000, 1*time.Millisecond, 10*time.Millisecond, 50000), // 100 µs/msg
	})
	if hub.rate != 3000 || hub.p50 != 3*time.Millisecond || hub.p99 != 20*time.Millisecond || hub.peakKB != 200000 {
		t.Errorf("hub medians = %+v", hub)
	}
	if got := hub.cpuPerMsg(); math.Abs(got-300) > 1e-9 {
		t.Errorf("hub CPU per message median = %v µs, want 300", got)
	}
	if got := peer.cpuPerMsg(); math.Abs(got-150) > 1e-9 {
		t.Errorf("peer CPU per message median = %v µs, want 150 (the mean of the two middle runs)", got)
	}
	want := "throughput 1.50, CPU per message 2.00, accept p50 3.00, p99 2.00, peak RSS 2.67, peak RSS above idle 4.57"
	if got := ratios(hub, peer); got != want {
		t.Errorf("ratios = %q\nwant     %q", got, want)
	}
	if got := ratios(hub, figures{mallocs: nan}); !strings.HasPrefix(got, "throughput ?") {
		t.Errorf("ratios against a peer with nothing measured = %q, want ? for each", got)
	}

	// Over RabbitMQ the broker's CPU (and the hub's database's) per message is set beside the
	// peer's, and so is all the CPU a message took.
	withServices := func(f figures, broker, db float64) figures {
		f.services = servicesUse{broker: broker, db: db}
		return f
	}
	hub = medianFigures([]figures{withServices(run(3000, 3, 10000, 0, 0, 1), 1, 0.5)})  // 300, broker 100, db 50 µs/msg
	peer = medianFigures([]figures{withServices(run(2000, 4, 10000, 0, 0, 1), 2, nan)}) // 400, broker 200 µs/msg
	if got := ratios(hub, peer); !strings.HasSuffix(got, ", broker CPU per message 0.50, all CPU per message (engine, broker and database) 0.75") {
		t.Errorf("ratios with the services = %q", got)
	}
	if got := hub.line(); !strings.HasSuffix(got, ", broker CPU 100 µs/msg, PostgreSQL CPU 50 µs/msg") {
		t.Errorf("line with the services = %q", got)
	}
	if got := peer.line(); !strings.HasSuffix(got, ", broker CPU 200 µs/msg") {
		t.Errorf("peer's line with the broker = %q", got)
	}

	// Messages a broker message: the median of the runs' (6, 12 and 4: 6), where the hub packs;
	// nothing said where it sent none.
	packed := func(msgs, brokerMsgs float64) figures {
		f := run(3000, 3, 10000, 0, 0, 1)
		f.packed, f.brokerMsgs = msgs, brokerMsgs
		return f
	}
	hub = medianFigures([]figures{packed(600, 100), packed(1200, 100), packed(400, 100)})
	if got := hub.line(); !strings.HasSuffix(got, ", 6.0 messages a broker message") {
		t.Errorf("line with packs = %q", got)
	}
	if got := medianFigures([]figures{packed(0, 0)}).line(); strings.Contains(got, "broker message") {
		t.Errorf("line without packs = %q", got)
	}
}
