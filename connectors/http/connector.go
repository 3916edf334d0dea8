package httpconn

import (
	"fmt"
	"log/slog"

	"github.com/aiskao/aiskao/connectors"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "http",
		Doc: "Receives messages POSTed to an endpoint of the hub (listen, path) and answers 202 once " +
			"they are stored; delivers messages with an HTTP request (url), CloudEvents headers in " +
			"binary mode, retrying 5xx answers and network errors.",
		Config:    &Config{},
		NewSource: func(cfg any, env connectors.Env) (connectors.Source, error) { return newSource(cfg, env) },
		NewSink:   func(cfg any, env connectors.Env) (connectors.Sink, error) { return newSink(cfg, env) },
	})
}

// options returns the options given to a factory, with defaults applied and validated.
func options(cfg any) (Config, error) {
	var c Config
	switch v := cfg.(type) {
	case *Config:
		if v != nil {
			c = *v
		}
	case Config:
		c = v
	default:
		return Config{}, fmt.Errorf("options are %T; want *httpconn.Config", cfg)
	}
	c = withDefaults(c)
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func logger(env connectors.Env) *slog.Logger {
	if env.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return env.Logger.With("connector", env.Name)
}
