package connectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

type testSource struct{}

func (*testSource) Run(context.Context, Emit) error { return nil }

type testSink struct{}

func (*testSink) Send(context.Context, *message.Message) error { return nil }
func (*testSink) Close() error                                 { return nil }

func TestAdaptersReturnNilInterfaceOnError(t *testing.T) {
	boom := errors.New("boom")
	newSource := SourceOf(func(any, Env) (*testSource, error) { return nil, boom })
	if s, err := newSource(nil, Env{}); s != nil || !errors.Is(err, boom) {
		t.Errorf("SourceOf on error = %#v, %v; want a nil Source and the error", s, err)
	}
	newSink := SinkOf(func(any, Env) (*testSink, error) { return nil, boom })
	if s, err := newSink(nil, Env{}); s != nil || !errors.Is(err, boom) {
		t.Errorf("SinkOf on error = %#v, %v; want a nil Sink and the error", s, err)
	}
	if s, err := SourceOf(func(any, Env) (*testSource, error) { return &testSource{}, nil })(nil, Env{}); s == nil || err != nil {
		t.Errorf("SourceOf = %v, %v; want the source", s, err)
	}
	if s, err := SinkOf(func(any, Env) (*testSink, error) { return &testSink{}, nil })(nil, Env{}); s == nil || err != nil {
		t.Errorf("SinkOf = %v, %v; want the sink", s, err)
	}
}

func TestEnvLog(t *testing.T) {
	Env{Name: "none"}.Log().Error("not written anywhere") // no logger: discarded, no panic
	var buf bytes.Buffer
	Env{Name: "inbox", Logger: slog.New(slog.NewTextHandler(&buf, nil))}.Log().Info("hello")
	if !strings.Contains(buf.String(), "connector=inbox") {
		t.Errorf("record %q does not name the connector", buf.String())
	}
}
