package hub

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// TestRouterLogger: the router's lines reach the log at the levels they are mapped to, and
// nothing below the log's level; a message handed back for a later retry is no error.
func TestRouterLogger(t *testing.T) {
	handed := &handedBack{err: errors.New("down")}
	log := func(l watermill.LoggerAdapter) {
		l = l.With(watermill.LogFields{"handler_name": "r"})
		l.Trace("received", watermill.LogFields{"message_uuid": "m1"})
		l.Debug("subscribing", nil)
		l.Info("starting", nil)
		l.Error("handler returned error", handed, nil)
		l.Error("cannot publish", errors.New("broken"), nil)
	}
	tests := []struct {
		level slog.Level
		want  []string // the lines, in order, as "LEVEL msg"
	}{
		{slog.LevelWarn, []string{"ERROR cannot publish"}},
		{slog.LevelInfo, []string{"ERROR cannot publish"}},
		{slog.LevelDebug, []string{"DEBUG subscribing", "DEBUG starting", "DEBUG handler returned error: retry after 0s: down", "ERROR cannot publish"}},
		{watermill.LevelTrace, []string{"DEBUG-4 received", "DEBUG subscribing", "DEBUG starting", "DEBUG handler returned error: retry after 0s: down", "ERROR cannot publish"}},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			var b bytes.Buffer
			h := slog.NewTextHandler(&b, &slog.HandlerOptions{Level: tt.level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})
			log(newRouterLogger(slog.New(h)))
			var got []string
			for line := range strings.Lines(b.String()) {
				level, _, _ := strings.Cut(strings.TrimPrefix(line, "level="), " ")
				_, msg, _ := strings.Cut(line, "msg=")
				msg = strings.Trim(strings.Split(msg, " handler_name")[0], `"`)
				got = append(got, level+" "+msg)
				if !strings.Contains(line, "handler_name=r") {
					t.Errorf("line without the logger's fields: %s", line)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestRouterLoggerTraceOff: the router's two trace lines a message cost nothing while trace is off.
func TestRouterLoggerTraceOff(t *testing.T) {
	l := newRouterLogger(slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	fields := watermill.LogFields{"message_uuid": "m1", "handler_name": "r"}
	if n := testing.AllocsPerRun(100, func() { l.Trace("Received message", fields) }); n != 0 {
		t.Errorf("%v allocations a trace line not logged, want 0", n)
	}
}
