package mapping

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "log",
		Doc: "Writes one line about the message to the hub's log: the message text, the message id and " +
			"the chosen metadata names. The payload is written only when payload is true, since it may " +
			"hold personal data.",
		Config: &LogOptions{},
		New:    newLog,
	})
}

// LogOptions configures log.
type LogOptions struct {
	Level   string   `yaml:"level" doc:"Log level." enum:"debug,info,warn,error" default:"info"`
	Message string   `yaml:"message" doc:"Text of the log line." default:"message" example:"document received"`
	Keys    []string `yaml:"keys" doc:"Metadata names whose values are logged." example:"[type, subject, correlation_id]"`
	Payload bool     `yaml:"payload" doc:"Also log the payload." default:"false"`
}

var levels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

type logStep struct {
	logger  *slog.Logger
	level   slog.Level
	message string
	keys    []string
	payload bool
}

func newLog(cfg any, env transforms.Env) (transforms.Step, error) {
	o := cfg.(*LogOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	s := &logStep{logger: env.Logger, level: levels[o.Level], message: o.Message, keys: o.Keys, payload: o.Payload}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.message == "" {
		s.message = "message"
	}
	return s, nil
}

// Apply logs the line; it never changes the message.
func (s *logStep) Apply(ctx context.Context, m *transforms.Message) error {
	if !s.logger.Enabled(ctx, s.level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(s.keys)+2)
	attrs = append(attrs, slog.String("message_id", m.ID))
	for _, k := range s.keys {
		if v, ok := m.Metadata[k]; ok {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	if s.payload {
		p, err := m.Payload()
		if err != nil {
			return fmt.Errorf("log: %w", err)
		}
		attrs = append(attrs, slog.String("payload", string(p)))
	}
	s.logger.LogAttrs(ctx, s.level, s.message, attrs...)
	return nil
}
