package postgres

import (
	"errors"
	"net/url"
	"regexp"
	"time"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// Config configures the PostgreSQL store.
type Config struct {
	URL string `yaml:"url" doc:"Address of the PostgreSQL database, as a postgres:// or postgresql:// URL. Query parameters such as sslmode and application_name are passed to the driver; the password is never written to logs. Use ${AISKAO_POSTGRES_URL} to keep it out of the file." required:"true" example:"postgres://postgres@127.0.0.1:5432/test"`
	// Schema keeps several hubs (or tests) in one database apart.
	Schema        string        `yaml:"schema" doc:"PostgreSQL schema that holds the store's tables, created when missing. Hubs that share dead letters, idempotency keys and route state use the same schema; separate deployments in one database use different ones. Lower-case letters, digits and underscores." default:"aiskao" example:"hub_prod"`
	MaxConns      int           `yaml:"max_conns" doc:"Most connections to the database that this process opens at once." default:"10" min:"1" max:"1000" example:"20"`
	MarkBatch     int           `yaml:"mark_batch" doc:"Most idempotency marks written in one statement. Marks made at the same time share one round trip and one commit, up to this many." default:"512" min:"1" example:"1024"`
	BatchWait     spec.Duration `yaml:"batch_wait" doc:"Under load, how long idempotency lookups and marks wait for more of them before they go to the database together. Each batch costs the database a round trip, a statement and, for marks, a commit, so larger batches cost it and the hub less per message; the wait is taken only when the batch before held several (messages are arriving together), never by a lone message, and it delays a message's processing and acknowledgement, not the sender's answer, except on inline routes. 0 sends what is waiting at once." default:"2ms" min:"0s" max:"100ms" example:"5ms"`
	SweepInterval spec.Duration `yaml:"sweep_interval" doc:"How often idempotency keys whose time to live has passed are deleted. Expired keys are ignored at once; sweeping gives their space back. Several processes may sweep at once without waiting for each other." default:"1m" example:"10m"`
	// ConnectTimeout bounds each attempt, so an unreachable server fails calls instead of hanging them.
	ConnectTimeout spec.Duration   `yaml:"connect_timeout" doc:"How long one attempt to open a connection may take before the call that needed it fails; it replaces a connect_timeout given in the URL. While the server is down, calls fail after at most this long and the engine retries them." default:"10s" example:"3s"`
	QueryTimeout   spec.Duration   `yaml:"query_timeout" doc:"Longest wait for one statement on the messages' path (idempotency lookups and marks, journal commits). A database or network that stops answering fails the statement after this long; the engine holds the message and tries again, and readiness reports the store down within a second and a half from its own health check." default:"3s" example:"5s"`
	Retention      store.Retention `yaml:"retention" doc:"How long journal entries and dead letters are kept, and how often the hub prunes them. Every process sharing the schema prunes; they take turns on the journal chain's lock."`
}

// Limits that the tags cannot express.
const (
	minSweepInterval  = time.Second
	minConnectTimeout = 100 * time.Millisecond
	minQueryTimeout   = 100 * time.Millisecond
	maxSchemaLen      = 63 // PostgreSQL's NAMEDATALEN - 1
)

// schemaName is a plain identifier: no quoting surprises, no case folding.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Validate checks what the tags cannot say.
func (c *Config) Validate() error {
	var errs []error
	if err := checkURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	switch {
	case !schemaName.MatchString(c.Schema):
		errs = append(errs, spec.FieldErrorf("schema", "%q is not a plain schema name: use lower-case letters, digits and underscores, starting with a letter or an underscore, such as aiskao", c.Schema))
	case len(c.Schema) > maxSchemaLen:
		errs = append(errs, spec.FieldErrorf("schema", "%q is %d bytes long; PostgreSQL names are at most %d", c.Schema, len(c.Schema), maxSchemaLen))
	case len(c.Schema) >= 3 && c.Schema[:3] == "pg_":
		errs = append(errs, spec.FieldErrorf("schema", "%q: names starting with pg_ are reserved by PostgreSQL", c.Schema))
	}
	if c.SweepInterval.D() < minSweepInterval {
		errs = append(errs, spec.FieldErrorf("sweep_interval", "must be at least %v, got %v", minSweepInterval, c.SweepInterval.D()))
	}
	if c.ConnectTimeout.D() < minConnectTimeout {
		errs = append(errs, spec.FieldErrorf("connect_timeout", "must be at least %v, got %v", minConnectTimeout, c.ConnectTimeout.D()))
	}
	if c.QueryTimeout.D() < minQueryTimeout {
		errs = append(errs, spec.FieldErrorf("query_timeout", "must be at least %v, got %v", minQueryTimeout, c.QueryTimeout.D()))
	}
	return errors.Join(errs...)
}

// checkURL accepts postgres:// and postgresql:// URLs with a host. Its messages never repeat the
// URL itself, which may hold a password.
func checkURL(raw string) error {
	const want = "want a URL such as postgres://user@host:5432/database"
	if raw == "" {
		return spec.FieldErrorf("url", "is empty; %s", want)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return spec.FieldErrorf("url", "cannot be parsed (%v); %s", err, want)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return spec.FieldErrorf("url", "scheme %q is not postgres or postgresql; %s", u.Scheme, want)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return spec.FieldErrorf("url", "names no host; %s", want)
	}
	return nil
}

// RetentionOptions returns the retention option (see store.Retaining).
func (c Config) RetentionOptions() store.Retention { return c.Retention }
