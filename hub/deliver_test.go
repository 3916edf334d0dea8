package hub

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/transforms"
)

// plainSink keeps what Send gives it.
type plainSink struct{ got [][]byte }

func (s *plainSink) Send(_ context.Context, m *message.Message) error {
	s.got = append(s.got, m.Payload)
	return nil
}
func (s *plainSink) Close() error { return nil }

// streamSink keeps what SendStream's stream writes, and what Send gives it.
type streamSink struct {
	plainSink
	streamed [][]byte
}

func (s *streamSink) SendStream(_ context.Context, m *message.Message, write func(io.Writer) error) error {
	if len(m.Payload) != 0 {
		return errors.New("a streamed message came with a payload")
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	s.streamed = append(s.streamed, buf.Bytes())
	return nil
}

// A message whose steps left a JSON value goes to a sink that takes a stream as a stream, with
// the bytes Payload would give; one given as bytes, or going to more than one sink, is sent
// whole; a value with no JSON form fails the delivery for good, at "payload".
func TestDeliverStreamsAJSONValue(t *testing.T) {
	value := map[string]any{"document": strings.Repeat("QUJD", 50_000), "kind": "Заявление"}
	jsonMsg := func() *transforms.Message {
		m := transforms.NewMessage("m", nil, nil)
		m.SetJSON(value)
		return m
	}
	want, err := jsonMsg().Payload()
	if err != nil {
		t.Fatal(err)
	}

	ss, ps := &streamSink{}, &plainSink{}
	p := &pipeline{route: "r"}
	err = p.deliver(context.Background(), []delivery{
		{msg: jsonMsg(), to: []sinkRef{{path: "to[0].s", sink: ss}}},
		{msg: transforms.NewMessage("b", nil, []byte("bytes")), to: []sinkRef{{path: "to[0].s", sink: ss}}},
		{msg: jsonMsg(), to: []sinkRef{{path: "to[0].s", sink: ss}, {path: "to[1].p", sink: ps}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss.streamed) != 1 || !bytes.Equal(ss.streamed[0], want) {
		t.Errorf("streamed %d payloads; want one, the value's encoding", len(ss.streamed))
	}
	if len(ss.got) != 2 || string(ss.got[0]) != "bytes" || !bytes.Equal(ss.got[1], want) {
		t.Errorf("the stream sink was sent %d payloads whole; want the bytes and the value going to two sinks", len(ss.got))
	}
	if len(ps.got) != 1 || !bytes.Equal(ps.got[0], want) {
		t.Errorf("the plain sink got %d payloads; want the value's encoding", len(ps.got))
	}

	bad := transforms.NewMessage("x", nil, nil)
	bad.SetJSON(map[string]any{"n": math.Inf(1)})
	err = p.deliver(context.Background(), []delivery{{msg: bad, to: []sinkRef{{path: "to[0].s", sink: ss}}}})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "payload" || !fault.IsPermanent(err) || !strings.Contains(err.Error(), "encode JSON payload") {
		t.Errorf("a value with no JSON form: %v; want a permanent error at payload", err)
	}
}
