package dossierconn

import (
	"errors"
	"strings"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of a dossier connector.
type Config struct {
	Services       string            `yaml:"services" doc:"Folder of the service descriptions (YAML, one file per service version); a relative folder is inside the configuration's folder." required:"true" example:"services"`
	Administration Administration    `yaml:"administration" doc:"The administration whose dossiers these are." required:"true"`
	Numbering      string            `yaml:"numbering" doc:"Pattern of registration numbers: {index} the service's register index, {seq} or {seq:WIDTH} the number in the register for the year, {date:LAYOUT} the registration date in a Go layout, {year}." default:"{index}-{seq}/{date:02.01.2006}" example:"{index}-{seq:5}/{year}"`
	Database       Database          `yaml:"database" doc:"Where the dossiers are kept: by default the hub's embedded SQLite file; postgres for several hub processes."`
	Calendar       []string          `yaml:"calendar" doc:"Files of working days moved by government decision, one per year, beside the years the program ships; a relative path is inside the configuration's folder." example:"[calendar/2027.yaml]"`
	DeadlineWatch  spec.Duration     `yaml:"deadline_watch" doc:"Source: how often active dossiers are checked for deadlines near or missed (each alert is raised once, whatever the processes)." default:"1m" example:"10m"`
	Near           int               `yaml:"near" doc:"How many working days before a deadline it counts as near." default:"2" min:"1" max:"30"`
	RelayInterval  spec.Duration     `yaml:"relay_interval" doc:"Source: how often the outbox is read for messages to hand to the hub." default:"200ms" example:"1s"`
	ESOEDServices  map[string]string `yaml:"esoed_services" doc:"ЕСОЕД document kind (DocKind) to the service a registration request of that kind opens a dossier for." example:"{Заявление: \"2128\"}"`
	API            *API              `yaml:"api" doc:"Serve the dossier core's JSON API (/api/v1/) on its own listener; absent, no API is served."`
	ApplicantKey   string            `yaml:"applicant_key" doc:"Secret (16 characters or more) keying the hash that finds an applicant's dossiers without keeping the ЕГН; processes sharing dossiers need the same. Empty: one is made and kept in the hub's store. Write it as ${NAME}." example:"${AISKAO_DOSSIER_KEY}"`
}

// Administration names the administration.
type Administration struct {
	EIK  string `yaml:"eik" doc:"ЕИК/БУЛСТАТ of the administration." required:"true" example:"000695089"`
	Name string `yaml:"name" doc:"Name of the administration." required:"true" example:"Община Примерно"`
}

// Database says where the dossiers are kept.
type Database struct {
	File     string    `yaml:"file" doc:"The SQLite file; empty means aiskao.db in the data folder, the file of the hub's embedded store; a relative path is inside the data folder." example:"dossiers.db"`
	Postgres *Postgres `yaml:"postgres" doc:"PostgreSQL instead of SQLite, for several hub processes on the same dossiers."`
}

// Postgres is a PostgreSQL database.
type Postgres struct {
	URL    string `yaml:"url" doc:"postgres:// URL of the database; write it as ${NAME} to keep the password out of the file." required:"true" example:"${AISKAO_DOSSIER_DB}"`
	Schema string `yaml:"schema" doc:"Schema of the dossier tables, created when missing; processes sharing dossiers use the same." default:"aiskao" example:"dossiers"`
}

// Validate checks the options after defaults.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	if c.Services != "" && strings.TrimSpace(c.Services) == "" {
		add("services", "is blank: name the folder of the service descriptions")
	}
	if c.Administration.EIK != "" {
		if err := ident.ValidateEIK(c.Administration.EIK); err != nil {
			add("administration.eik", "%v", err)
		}
	}
	if c.Numbering != "" {
		if _, err := dossier.ParseNumbering(c.Numbering); err != nil {
			add("numbering", "%v", err)
		}
	}
	if c.DeadlineWatch <= 0 {
		add("deadline_watch", "must be more than 0, such as 1m")
	}
	if c.RelayInterval <= 0 {
		add("relay_interval", "must be more than 0, such as 200ms")
	}
	if c.ApplicantKey != "" && len(c.ApplicantKey) < 16 {
		add("applicant_key", "has %d characters; give 16 or more", len(c.ApplicantKey))
	}
	if c.API != nil {
		errs = append(errs, c.API.validate()...)
	}
	for kind, svc := range c.ESOEDServices {
		if strings.TrimSpace(kind) == "" || strings.TrimSpace(svc) == "" {
			add("esoed_services", "maps %q to %q: name both the document kind and the service", kind, svc)
		}
	}
	return errors.Join(errs...)
}
