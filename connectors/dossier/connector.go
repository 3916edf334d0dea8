package dossierconn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/postgres"
	"github.com/aiskao/aiskao/dossier/store/sqlite"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "dossier",
		Doc: "The dossier core: as a sink, opens dossiers for ЕСОЕД registration requests (or files them into the " +
			"dossier of the document their DocParentID names) and for application.Submitted, completes checklist items " +
			"with the answers to its system task requests, marks fees paid (payment.Confirmed) and runs any command " +
			"(dossier.Command), each message applied once; bad input becomes a dead letter naming the wrong fields. As a " +
			"source, publishes every event of every dossier (type the event's, such as dossier.opened; subject the " +
			"registration number) from the dossiers' outbox, with the unsigned ЕСОЕД status responses " +
			"(esoed.DocumentStatusResponse: registered, closed, stopped) owed to the senders of the documents that " +
			"opened dossiers, for an esoed sink; and raises deadline alerts.",
		Config:    &Config{},
		NewSource: connectors.SourceOf(newSource),
		NewSink:   connectors.SinkOf(newSink),
	})
}

// Store keys the connector writes besides the core's.
const (
	// KeyESOEDDoc indexes a dossier by the DocumentGUID of an ЕСОЕД document filed in it.
	KeyESOEDDoc = "esoed-doc"
)

// stateKey is the key of the applicant key in the hub's store, under "connector:<name>".
const stateKey = "applicant-key"

// node is what the source and the sink each build: the dossier store and the core on it.
type node struct {
	cfg   Config
	store dstore.Store
	core  *core.Core
	cat   *service.Catalog
}

func newNode(kind string, cfg any, env connectors.Env) (*node, error) {
	c, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, fmt.Errorf("dossier %s %s: %w", kind, env.Name, err)
	}
	n, err := build(c, env)
	if err != nil {
		return nil, fmt.Errorf("dossier %s %s: %w", kind, env.Name, err)
	}
	return n, nil
}

func build(c Config, env connectors.Env) (*node, error) {
	cat, err := service.LoadDir(inside(env.BaseDir, c.Services))
	if err != nil {
		return nil, spec.FieldErrorf("services", "%v", err)
	}
	for kind, id := range c.ESOEDServices {
		if _, ok := cat.Latest(id); !ok {
			return nil, spec.FieldErrorf("esoed_services", "maps %q to service %q, which is not in %s", kind, id, c.Services)
		}
	}
	var files []string
	for _, f := range c.Calendar {
		files = append(files, inside(env.BaseDir, f))
	}
	cal, err := calendar.Default()
	if len(files) > 0 {
		var moves []*calendar.Moves
		for _, f := range files {
			m, lerr := calendar.LoadMoves(f)
			if lerr != nil {
				return nil, spec.FieldErrorf("calendar", "%v", lerr)
			}
			moves = append(moves, m)
		}
		cal, err = calendar.Default(moves...)
	}
	if err != nil {
		return nil, spec.FieldErrorf("calendar", "%v", err)
	}
	numbering, err := dossier.ParseNumbering(c.Numbering)
	if err != nil {
		return nil, spec.FieldErrorf("numbering", "%v", err)
	}
	if env.Check {
		return &node{cfg: c, cat: cat}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var st dstore.Store
	if pg := c.Database.Postgres; pg != nil {
		st, err = postgres.New(ctx, postgres.Config{URL: pg.URL, Schema: pg.Schema})
	} else {
		file := c.Database.File
		if file == "" {
			file = "aiskao.db"
		}
		st, err = sqlite.Open(inside(env.DataDir, file))
	}
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	key, err := applicantKey(ctx, c, env)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	cr, err := core.New(core.Options{Store: st, Services: cat, Calendar: cal, Numbering: numbering, ApplicantKey: key, Near: c.Near, Messages: esoedStatuses, Log: env.Log()})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &node{cfg: c, store: st, core: cr, cat: cat}, nil
}

// applicantKey is the configured key, or the one kept in the hub's store, made on first use.
func applicantKey(ctx context.Context, c Config, env connectors.Env) ([]byte, error) {
	if c.ApplicantKey != "" {
		return []byte(c.ApplicantKey), nil
	}
	if env.State == nil {
		return nil, errors.New("no applicant_key is set and the hub offers no store to keep one")
	}
	route := "connector:" + env.Name
	v, err := env.State.GetState(ctx, route, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("applicant key: %w", err)
		}
		if err := env.State.PutState(ctx, route, stateKey, []byte(hex.EncodeToString(b))); err != nil {
			return nil, fmt.Errorf("applicant key: %w", err)
		}
		// Two processes making it at the same moment could each keep their own: several
		// processes set applicant_key.
		v, err = env.State.GetState(ctx, route, stateKey)
	}
	if err != nil {
		return nil, fmt.Errorf("applicant key: %w", err)
	}
	return v, nil
}

// inside resolves a relative path against dir.
func inside(dir, path string) string {
	if filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}

func (n *node) close() error {
	if n.store == nil {
		return nil
	}
	return n.store.Close()
}
