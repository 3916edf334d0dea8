package fileconn

import (
	"log/slog"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "file",
		Doc: "Takes files dropped into a folder, one message each, moving them to done/ once stored " +
			"or to failed/ with the reason; writes messages to files in a folder, atomically.",
		Config:    &Config{},
		NewSource: func(cfg any, env connectors.Env) (connectors.Source, error) { return newSource(cfg, env) },
		NewSink:   func(cfg any, env connectors.Env) (connectors.Sink, error) { return newSink(cfg, env) },
	})
}

// options returns the options given to a factory, with the defaults of their tags applied and
// validated. Fsync is applied by the loader only: a zero bool cannot tell "not set" from "off",
// so options built in Go set it themselves.
func options(cfg any) (Config, error) { return spec.Options[Config](cfg) }

func logger(env connectors.Env) *slog.Logger {
	if env.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return env.Logger.With("connector", env.Name)
}
