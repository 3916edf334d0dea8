package regixconn

import (
	"errors"
	"net/url"
	"sort"
	"strings"

	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of a regix connector.
type Config struct {
	URL                 string               `yaml:"url" doc:"Address of the RegiX entry point (RegiXEntryPointV2.svc, or RegiXEntryPoint.svc with entry_point v1), http or https; for trials, the simulator's (aiskao regix sim), which serves both." required:"true" example:"https://service-regix.egov.bg/RegiX/RegiXEntryPointV2.svc"`
	EntryPoint          string               `yaml:"entry_point" doc:"Which entry point url is: v2 (RegiXEntryPointV2.svc, SOAP 1.1) or v1 (RegiXEntryPoint.svc as its public WSDL describes it: SOAP 1.2 with WS-Addressing, namespace http://tempuri.org/). Administrations use both." enum:"v1,v2" default:"v2" example:"v1"`
	TLS                 TLS                  `yaml:"tls" doc:"Mutual TLS: the client certificate RegiX issued to the administration, its key, and the CA of the entry point."`
	Timeout             spec.Duration        `yaml:"timeout" doc:"How long one call to the entry point may take, answer included." default:"30s" example:"10s"`
	Attempts            int                  `yaml:"attempts" doc:"How many times a call is tried at once when it failed for a reason a retry may cure and the register did not answer (no answer in time, a broken connection, an HTTP 5xx answer, a server's SOAP fault). The register's own errors and refused requests are not tried again here; the route's retry policy decides." default:"2" min:"1" max:"10"`
	RetryBackoff        spec.Duration        `yaml:"retry_backoff" doc:"Pause between those attempts." default:"500ms" example:"1s"`
	BreakerFailures     int                  `yaml:"breaker_failures" doc:"Circuit breaker per register: after this many consecutive failures of a register (of the kinds a retry may cure, the register's HasError included) its calls fail fast for breaker_pause." default:"5" min:"1" example:"3"`
	BreakerPause        spec.Duration        `yaml:"breaker_pause" doc:"How long calls to a register whose circuit opened fail fast before one trial call is let through." default:"30s" example:"1m"`
	PollInterval        spec.Duration        `yaml:"poll_interval" doc:"Pause between CheckResult calls while an asynchronous operation is being prepared." default:"1s" example:"2s"`
	PollTimeout         spec.Duration        `yaml:"poll_timeout" doc:"How long to wait for an asynchronous operation's result before the call fails (and is retried by the route); the route's timeout bounds it too." default:"2m" example:"5m"`
	Operations          map[string]Operation `yaml:"operations" doc:"Options per operation, by its code (PersonDataSearch) or full name." example:"{PersonDataSearch: {cache: 10m}}"`
	CacheSize           int                  `yaml:"cache_size" doc:"Most answers kept in the cache at once, of all operations." default:"1000" min:"1" example:"5000"`
	CallContext         CallContext          `yaml:"call_context" doc:"Defaults of the call context, which each call's context overrides: who asks, for which administration. The legal basis is not among them: each route states its own."`
	SignResult          bool                 `yaml:"sign_result" doc:"Ask RegiX to sign the answers (SignResult)."`
	JournalPersonalData string               `yaml:"journal_personal_data" doc:"What personal data the journal keeps of a call's parameters and errors: none (parameter names only, ЕГН hidden), masked (ЕГН as ******8485) or full." enum:"none,masked,full" default:"masked"`
}

// Operation is the options of one operation.
type Operation struct {
	Cache               spec.Duration `yaml:"cache" doc:"How long an answer is kept and given again for the same parameters of the same dossier; 0 keeps none. Calls without a dossier are not cached unless share_across_dossiers is set." example:"10m"`
	ShareAcrossDossiers bool          `yaml:"share_across_dossiers" doc:"Give a kept answer to any dossier that asks with the same parameters (for data about companies, not people)."`
	Asynchronous        bool          `yaml:"asynchronous" doc:"Call through Execute and poll CheckResult, for registers that answer slowly, instead of ExecuteSynchronous."`
}

// CallContext is the defaults of the call context.
type CallContext struct {
	ServiceType                 string `yaml:"service_type" doc:"Kind of service or check the calls are made for." example:"За административна услуга"`
	EmployeeIdentifier          string `yaml:"employee_identifier" doc:"The employee (e-mail or user name), for calls made by the system on no one's request." example:"hub@municipality.example.bg"`
	EmployeeNames               string `yaml:"employee_names" doc:"The employee's names." example:"Информационна система АИСКАО"`
	EmployeePosition            string `yaml:"employee_position" doc:"The employee's position." example:"деловодител"`
	AdministrationOID           string `yaml:"administration_oid" doc:"The administration's OID (from eAuth)." example:"2.16.100.1.1.1.1.1"`
	AdministrationName          string `yaml:"administration_name" doc:"The administration's name." example:"Община Примерно"`
	ResponsiblePersonIdentifier string `yaml:"responsible_person_identifier" doc:"The person responsible for calls that a system makes on its own." example:"head.front-office@municipality.example.bg"`
	Remark                      string `yaml:"remark" doc:"Free text passed with every call." example:"АИСКАО"`
}

// Validate checks the options after defaults.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		add("url", "required: the address of the RegiX entry point")
	case err != nil:
		add("url", "%q is not a URL: %v", c.URL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		add("url", "%q must start with http:// or https://", c.URL)
	case u.Host == "":
		add("url", "%q names no host", c.URL)
	}
	if c.TLS.CertFile != "" && u != nil && u.Scheme == "http" {
		add("tls.cert_file", "a client certificate needs an https url")
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 30s")
	}
	if c.Attempts < 1 {
		add("attempts", "must be at least 1")
	}
	if c.RetryBackoff < 0 {
		add("retry_backoff", "must not be negative")
	}
	if c.BreakerFailures < 1 {
		add("breaker_failures", "must be at least 1")
	}
	if c.BreakerPause <= 0 {
		add("breaker_pause", "must be more than 0, such as 30s")
	}
	if c.PollInterval <= 0 {
		add("poll_interval", "must be more than 0, such as 1s")
	}
	if c.PollTimeout < c.PollInterval {
		add("poll_timeout", "must be at least poll_interval (%s)", c.PollInterval.D())
	}
	if c.CacheSize < 1 {
		add("cache_size", "must be at least 1")
	}
	ep, err := regix.ParseEntryPoint(c.EntryPoint)
	if err != nil {
		add("entry_point", "%q is not one of v1, v2", c.EntryPoint)
	}
	// The two entry points speak different SOAP: a url that names the other one fails every
	// call, so say so now.
	if u != nil && err == nil {
		switch p := strings.ToLower(u.Path); {
		case ep == regix.V2 && strings.HasSuffix(p, "/regixentrypoint.svc"):
			add("entry_point", "url %q is the V1 entry point (RegiXEntryPoint.svc): set entry_point: v1", c.URL)
		case ep == regix.V1 && strings.HasSuffix(p, "/regixentrypointv2.svc"):
			add("entry_point", "url %q is the V2 entry point (RegiXEntryPointV2.svc), but entry_point is v1", c.URL)
		}
	}
	switch c.JournalPersonalData {
	case "none", "masked", "full":
	default:
		add("journal_personal_data", "%q is not one of none, masked, full", c.JournalPersonalData)
	}
	if len(c.Operations) > 0 {
		ops, err := regix.Catalog()
		if err != nil {
			return err
		}
		names := make([]string, 0, len(c.Operations))
		for n := range c.Operations {
			names = append(names, n)
		}
		sort.Strings(names)
		seen := map[*regix.Operation]string{}
		for _, n := range names {
			op, ok := ops.Lookup(n)
			if !ok {
				add("operations."+n, "unknown operation %q; known: %s", n, codes(ops))
				continue
			}
			if prev, dup := seen[op]; dup {
				add("operations."+n, "the same operation as operations.%s", prev)
			}
			seen[op] = n
			if c.Operations[n].Cache < 0 {
				add("operations."+n+".cache", "must not be negative")
			}
		}
	}
	return errors.Join(errs...)
}

func codes(ops *regix.Operations) string {
	var s string
	for i, op := range ops.All() {
		if i > 0 {
			s += ", "
		}
		s += op.Code
	}
	return s
}
