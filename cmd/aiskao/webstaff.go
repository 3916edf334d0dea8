package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aiskao/aiskao/admin/console"
	"github.com/aiskao/aiskao/clerk"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/oidc"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/web"
	"github.com/aiskao/aiskao/web/staff"
)

func init() { webHandlers["staff"] = buildStaff }

// sweepEvery is how often the staff site forgets timed-out sessions and stale failure counts.
const sweepEvery = 10 * time.Minute

// staffApps is the staff site: the sign-in and start pages, the clerks' application and the
// administration's, on one shell.
type staffApps struct {
	site    *staff.Site
	clerk   *clerk.App
	console *console.App
}

// Endpoints are every route of the staff site, each with the permission it needs.
func (a staffApps) Endpoints() []httpauth.Endpoint {
	eps := a.site.Endpoints()
	eps = append(eps, a.clerk.Endpoints()...)
	return append(eps, a.console.Endpoints()...)
}

// newStaffApps builds the staff site's applications over ps. sso, when not nil, is the single
// sign-on's configuration; dir is the configuration's folder.
func newStaffApps(ctx context.Context, ps peopleStore, tls bool, sso *oidc.Config, dir string) (staffApps, *account.Service, *session.Manager, error) {
	accounts, err := account.New(ps, ps, ps, ps, account.Config{})
	if err != nil {
		return staffApps{}, nil, nil, err
	}
	sessions := session.New(ps, accounts.Principal, session.Config{TLS: tls})
	shell, err := web.New("app.staff", "/", staff.Files, clerk.Files, console.Files)
	if err != nil {
		return staffApps{}, nil, nil, err
	}
	sections := append(append([]staff.Section(nil), clerk.Sections...), console.Sections...)
	o := staff.Options{Accounts: accounts, Sessions: sessions, Journal: ps, Sections: sections}
	var site *staff.Site
	if sso != nil {
		var states oidc.StateStore // a store that keeps them lets the callback reach any process
		if st, ok := ps.(oidc.Store); ok {
			states = oidc.StoreStates(st, nil)
		}
		h, err := oidc.New(ctx, *sso, oidc.Options{Accounts: accounts, Sessions: sessions, Journal: ps, Dir: dir, States: states,
			Pages: oidc.Pages{Done: "/", SignedOut: staff.SignInPath + "?done=signedout"},
			Fail:  func(w http.ResponseWriter, r *http.Request, code oidc.Code) { site.SSOFailed(w, r, code) }})
		if err != nil {
			return staffApps{}, nil, nil, fmt.Errorf("oidc: %w", err)
		}
		o.SSO = h
	}
	if site, err = staff.New(shell, o); err != nil {
		return staffApps{}, nil, nil, err
	}
	c, err := clerk.New(site, ps)
	if err != nil {
		return staffApps{}, nil, nil, err
	}
	con, err := console.New(site, console.Options{Accounts: accounts, Sessions: sessions, Journal: ps, Org: ps})
	if err != nil {
		return staffApps{}, nil, nil, err
	}
	return staffApps{site: site, clerk: c, console: con}, accounts, sessions, nil
}

// buildStaff builds the staff site's handler: its pages behind their permissions, the session
// of each request, the security headers and the refusal of cross-origin posts.
func buildStaff(ctx context.Context, cfg *routes.Config, s webSite, d webDeps) (http.Handler, func(), error) {
	ps, closeStore, err := openPeopleStoreOf(routes.DefaultCatalog(), cfg, d.data)
	if err != nil {
		return nil, nil, err
	}
	apps, accounts, sessions, err := newStaffApps(ctx, ps, strings.HasPrefix(s.publicURL, "https://"), cfg.Web.Staff.OIDC, d.baseDir)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	mux := apps.site.Shell().Mux(apps.Endpoints(), staff.SignInPath)
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-sweepCtx.Done():
				return
			case <-t.C:
				if _, err := sessions.Sweep(sweepCtx); err != nil {
					d.log.Warn("staff site: sweeping sessions", "error", err)
				}
				if _, err := accounts.Sweep(sweepCtx); err != nil {
					d.log.Warn("staff site: sweeping failed sign-ins", "error", err)
				}
				if st, ok := ps.(oidc.Store); ok {
					if _, err := st.DeleteStaleOIDC(sweepCtx, time.Now()); err != nil {
						d.log.Warn("staff site: sweeping single sign-ons in flight", "error", err)
					}
				}
			}
		}
	}()
	sso := "off"
	if cfg.Web.Staff.OIDC != nil {
		sso = cfg.Web.Staff.OIDC.Issuer
	}
	d.log.Info("staff site ready", "site", "staff", "apps", "signin,clerk,admin", "sso", sso)
	return web.Secure(sessions.Middleware(mux)), func() { stopSweep(); closeStore() }, nil
}
