package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aiskao/aiskao/routes"
)

// webSite is one of the people's web sites as serve runs it: its name in logs, its listener
// settings and the handler the site's package builds.
type webSite struct {
	name      string // "portal" or "staff"
	listen    string
	publicURL string // scheme://host as browsers reach it, without a trailing slash
	tls       routes.WebTLS
	at        routes.Pos
}

// webDeps is what serve gives the web sites to build their handlers: the configuration's
// folder, the data folder and the configuration file (to open the store of people), and the log.
type webDeps struct {
	config  string
	data    string
	baseDir string
	log     *slog.Logger
}

// webSites lists the sites the configuration declares, with their public addresses filled in.
func webSites(w routes.Web) []webSite {
	var sites []webSite
	if p := w.Portal; p != nil {
		sites = append(sites, webSite{name: "portal", listen: p.Listen, publicURL: p.PublicURL, tls: p.TLS, at: p.Pos})
	}
	if s := w.Staff; s != nil {
		sites = append(sites, webSite{name: "staff", listen: s.Listen, publicURL: s.PublicURL, tls: s.TLS, at: s.Pos})
	}
	for i := range sites {
		s := &sites[i]
		if s.publicURL == "" {
			scheme := "http"
			if s.tls.Cert != "" {
				scheme = "https"
			}
			s.publicURL = scheme + "://" + s.listen
		}
		s.publicURL = strings.TrimRight(s.publicURL, "/")
	}
	return sites
}

// checkListen refuses a site without TLS of its own on an address that is not a loopback one
// unless its public address says a proxy in front terminates TLS: people's passwords and
// session cookies would cross the network in clear.
func (s webSite) checkListen() error {
	if s.tls.Cert != "" || strings.HasPrefix(s.publicURL, "https://") {
		return nil
	}
	host, _, err := net.SplitHostPort(s.listen)
	if err != nil {
		return fmt.Errorf("%s:%d:%d: web.%s.listen: %q: %v", s.at.File, s.at.Line, s.at.Col, s.name, s.listen, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%s:%d:%d: web.%s.listen: %q is not a loopback address and the site has no tls and no https public_url; passwords and session cookies would cross the network in clear",
		s.at.File, s.at.Line, s.at.Col, s.name, s.listen)
}

// webHandlers builds each site's handler; a site whose package is not built yet is absent.
var webHandlers = map[string]func(ctx context.Context, cfg *routes.Config, s webSite, d webDeps) (http.Handler, func(), error){}

// startWeb opens the listeners of the web sites cfg declares and serves them; stop shuts them
// down. A site that cannot start stops serve: a configuration asking for a portal that is not
// there is an error, not a warning.
func startWeb(ctx context.Context, cfg *routes.Config, d webDeps) (stop func(context.Context), err error) {
	var servers []*http.Server
	var closers []func()
	stop = func(ctx context.Context) {
		for _, srv := range servers {
			_ = srv.Shutdown(ctx)
		}
		for _, c := range closers {
			c()
		}
	}
	defer func() {
		if err != nil {
			stop(ctx)
		}
	}()
	for _, s := range webSites(cfg.Web) {
		if err := s.checkListen(); err != nil {
			return stop, err
		}
		build, ok := webHandlers[s.name]
		if !ok {
			return stop, fmt.Errorf("web.%s: this build has no %s site", s.name, s.name)
		}
		h, closeSite, err := build(ctx, cfg, s, d)
		if err != nil {
			return stop, fmt.Errorf("web.%s: %w", s.name, err)
		}
		if closeSite != nil {
			closers = append(closers, closeSite)
		}
		ln, err := net.Listen("tcp", s.listen)
		if err != nil {
			return stop, fmt.Errorf("web.%s: %w", s.name, err)
		}
		if s.tls.Cert != "" {
			pair, err := tls.LoadX509KeyPair(resolvePath(cfg.Web.BaseDir, s.tls.Cert), resolvePath(cfg.Web.BaseDir, s.tls.Key))
			if err != nil {
				_ = ln.Close()
				return stop, fmt.Errorf("web.%s.tls: %w", s.name, err)
			}
			ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}})
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
		servers = append(servers, srv)
		go func(name string) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("web site stopped", "site", name, "error", err)
			}
		}(s.name)
		d.log.Info("web site listening", "site", s.name, "addr", ln.Addr().String(), "public_url", s.publicURL)
	}
	return stop, nil
}
