package httpconn

import (
	"errors"
	"mime"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/routes/spec"
)

// Config is the options of an http connector. Listen and path make it a source, url a sink.
type Config struct {
	Listen       string        `yaml:"listen" doc:"Address of the hub's HTTP server that receives messages (required for a source)." example:"127.0.0.1:8080"`
	Path         string        `yaml:"path" doc:"Path of the POST endpoint that receives messages; starts with / (required for a source)." example:"/in/esoed"`
	MaxBody      spec.ByteSize `yaml:"max_body" doc:"Largest request body accepted; larger ones get 413." default:"10MiB" min:"1" example:"512KiB"`
	ContentTypes []string      `yaml:"content_types" doc:"Media types accepted in Content-Type; parameters such as charset are ignored; others get 415." default:"[application/xml, text/xml, application/json]" min:"1" example:"[application/xml]"`
	MessageType  string        `yaml:"message_type" doc:"Value of the envelope's type for received messages; empty leaves it unset." example:"esoed.DocumentRegistrationRequest"`

	URL     string            `yaml:"url" doc:"Address that messages are delivered to, http or https (required for a sink)." example:"https://registry.example.bg/api/documents"`
	Method  string            `yaml:"method" doc:"HTTP method of deliveries." enum:"POST,PUT,PATCH" default:"POST"`
	Timeout spec.Duration     `yaml:"timeout" doc:"How long one delivery may take, answer included, before it is retried." default:"10s" example:"30s"`
	Headers map[string]string `yaml:"headers" doc:"Headers added to every delivery, such as Authorization." example:"{Authorization: Bearer abc123}"`
}

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }

	if c.Listen == "" && c.URL == "" {
		add("listen", "set listen and path to receive messages, or url to deliver them")
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			add("listen", "%q is not an address such as 127.0.0.1:8080 or :8080", c.Listen)
		}
		if c.Path == "" {
			add("path", "required with listen: the path of the POST endpoint, such as /in")
		}
	} else if c.Path != "" {
		add("path", "only used with listen; set listen too")
	}
	if c.Path != "" && (!strings.HasPrefix(c.Path, "/") || strings.ContainsAny(c.Path, " \t{}?#")) {
		add("path", "%q must start with / and hold no spaces, braces, ? or #", c.Path)
	}
	if c.MaxBody < 1 {
		add("max_body", "must be at least 1 byte")
	}
	if len(c.ContentTypes) == 0 {
		add("content_types", "list at least one media type, such as application/xml")
	}
	for i, ct := range c.ContentTypes {
		if mt, params, err := mime.ParseMediaType(ct); err != nil || len(params) > 0 || !strings.Contains(mt, "/") {
			add("content_types["+strconv.Itoa(i)+"]", "%q is not a media type such as application/xml (without parameters)", ct)
		}
	}

	if c.URL != "" {
		u, err := url.Parse(c.URL)
		switch {
		case err != nil:
			add("url", "%q is not a URL: %v", c.URL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			add("url", "%q must start with http:// or https://", c.URL)
		case u.Host == "":
			add("url", "%q names no host", c.URL)
		}
	}
	switch c.Method {
	case "POST", "PUT", "PATCH":
	default:
		add("method", "%q is not one of POST, PUT, PATCH", c.Method)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 10s")
	}
	for name := range c.Headers {
		if !isToken(name) {
			add("headers", "%q is not a header name", name)
		}
	}
	return errors.Join(errs...)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
