package rabbitmq

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

func TestRegistered(t *testing.T) {
	f, ok := transport.Default.Lookup("rabbitmq")
	if !ok {
		t.Fatal(`transport type "rabbitmq" is not registered`)
	}
	if f.Doc == "" {
		t.Error("factory has no Doc")
	}
	if missing := spec.MissingDocs(reflect.TypeOf(f.Config)); len(missing) > 0 {
		t.Errorf("fields without doc tag: %v", missing)
	}
	cfg := testConfig(t)
	tr, err := f.New(&Config{URL: cfg.URL, QueuePrefix: cfg.QueuePrefix, ExchangePrefix: cfg.ExchangePrefix}, transport.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := tr.(*Transport).cfg; got.Prefetch != 64 || got.QueueType != "quorum" || got.DeliveryLimit != 10 {
		t.Errorf("config %+v, want the defaults prefetch 64, quorum, delivery_limit 10", got)
	}
}

func TestConfigDecode(t *testing.T) {
	defaults := Config{URL: "amqp://h/", QueueType: "quorum", Prefetch: 64, Pack: 1, DeliveryLimit: 10,
		ExchangePrefix: "aiskao", QueuePrefix: "aiskao", ReconnectInitial: spec.Duration(250 * time.Millisecond),
		ReconnectMax: spec.Duration(time.Second), CloseTimeout: spec.Duration(10 * time.Second),
		Heartbeat: spec.Duration(2 * time.Second), ConnectTimeout: spec.Duration(5 * time.Second), PublishTimeout: spec.Duration(3 * time.Second)}
	set := defaults
	set.URL, set.QueueType, set.Prefetch, set.Pack, set.DeliveryLimit = "amqps://u:p@h:5671/vh", "classic", 1, 32, 3
	set.ExchangePrefix, set.QueuePrefix, set.ConnectionName = "x", "q", "hub-1"
	set.ReconnectInitial, set.ReconnectMax, set.CloseTimeout = spec.Duration(time.Second), spec.Duration(time.Minute), spec.Duration(time.Second)
	set.Heartbeat, set.ConnectTimeout, set.PublishTimeout = spec.Duration(5*time.Second), spec.Duration(time.Second), spec.Duration(4*time.Second)
	cases := []struct {
		name, yaml string
		want       Config
		err        string // substring of the error; empty for none
	}{
		{name: "defaults", yaml: `{url: "amqp://h/"}`, want: defaults},
		{name: "set", yaml: `{url: "amqps://u:p@h:5671/vh", queue_type: classic, prefetch: 1, pack: 32, delivery_limit: 3, exchange_prefix: x,
			queue_prefix: q, connection_name: hub-1, reconnect_initial: 1s, reconnect_max: 1m, close_timeout: 1s,
			heartbeat: 5s, connect_timeout: 1s, publish_timeout: 4s}`, want: set},
		{name: "heartbeat in whole seconds", yaml: `{url: "amqp://h/", heartbeat: 1500ms}`, err: "heartbeat: must be whole seconds between 1s and 10m, got 1.5s"},
		{name: "heartbeat too short", yaml: `{url: "amqp://h/", heartbeat: 500ms}`, err: "heartbeat: must be whole seconds"},
		{name: "publish timeout", yaml: `{url: "amqp://h/", publish_timeout: 1ms}`, err: "publish_timeout: must be between 10ms and 10m, got 1ms"},
		{name: "url missing", yaml: `{}`, err: `missing required key "url"`},
		{name: "url scheme", yaml: `{url: "http://u:secret@h/"}`, err: `url: must be an amqp:// or amqps:// address with a host, got "http://u:xxxxx@h/"`},
		{name: "queue type", yaml: `{url: "amqp://h/", queue_type: stream}`, err: "queue_type"},
		{name: "prefetch", yaml: `{url: "amqp://h/", prefetch: 0}`, err: "prefetch"},
		{name: "pack", yaml: `{url: "amqp://h/", pack: 0}`, err: "pack"},
		{name: "pack too large", yaml: `{url: "amqp://h/", pack: 5000}`, err: "pack"},
		{name: "reconnect order", yaml: `{url: "amqp://h/", reconnect_initial: 5s, reconnect_max: 1s}`, err: "reconnect_max: must be between reconnect_initial (5s) and 10m, got 1s"},
		{name: "empty prefix", yaml: `{url: "amqp://h/", queue_prefix: ""}`, err: "queue_prefix: must not be empty"},
		{name: "unknown key", yaml: `{url: "amqp://h/", prefech: 3}`, err: `unknown key "prefech"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(c.yaml), &n); err != nil {
				t.Fatal(err)
			}
			var got Config
			errs := spec.Decode("t.yaml", n.Content[0], "transport", &got)
			if c.err == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				if got != c.want {
					t.Fatalf("decoded %+v, want %+v", got, c.want)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs.Error(), c.err) {
				t.Fatalf("errors %q, want one containing %q", errs, c.err)
			}
		})
	}
}

func TestValidateNamesFields(t *testing.T) {
	c := Config{URL: "amqp:///", QueueType: "x", Prefetch: -1, DeliveryLimit: 0, ReconnectInitial: 0,
		ReconnectMax: spec.Duration(time.Hour), CloseTimeout: 0, Heartbeat: spec.Duration(time.Second), ConnectTimeout: spec.Duration(time.Second), PublishTimeout: spec.Duration(time.Second)}
	var fields []string
	errs := append(spec.Unjoin(c.Validate()), spec.Unjoin(spec.Check(&c))...)
	for _, err := range errs {
		var fe *spec.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a spec.FieldError", err)
		}
		fields = append(fields, fe.Field)
	}
	want := "url exchange_prefix queue_prefix reconnect_initial reconnect_max close_timeout queue_type prefetch"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields %s, want %s", got, want)
	}
}
