package httpconn

import (
	"fmt"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "http",
		Doc: "Receives messages POSTed to an endpoint of the hub (listen, path) and answers 202 once " +
			"they are stored (or delivered, by an inline route), or GETs them page by page from a REST API (poll); delivers messages with " +
			"an HTTP request (url), CloudEvents headers in binary mode, retrying 5xx answers and network " +
			"errors; authenticates its own requests with a bearer, basic or OAuth2 token and mutual TLS (client_auth, client_tls).",
		Config: &Config{},
		NewSource: func(cfg any, env connectors.Env) (connectors.Source, error) {
			c, err := options(cfg)
			if err == nil && c.Poll.URL != "" {
				p, err := newPoller(c, env)
				if err != nil {
					return nil, fmt.Errorf("http source %s: %w", env.Name, err)
				}
				return p, nil
			}
			return newSource(cfg, env)
		},
		NewSink: connectors.SinkOf(newSink),
	})
}

// options returns the options given to a factory, with the defaults of their tags applied and
// validated.
func options(cfg any) (Config, error) { return spec.Options[Config](cfg) }
