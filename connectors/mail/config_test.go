package mailconn

import (
	"strings"
	"testing"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/spec"
)

func TestConfigDescribed(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(cfg any) { _ = spec.FillDefaults(cfg) },
		Valid:    withDefaults(Config{Protocol: ProtoIMAP, Host: "mail.example.bg", Username: "u", Password: "p"}),
	})
}

func withDefaults(c Config) *Config {
	_ = spec.FillDefaults(&c)
	return &c
}

func TestConfigRefusals(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"imap without account", Config{Protocol: ProtoIMAP, Host: "h"}, "username"},
		{"password without username", Config{Protocol: ProtoSMTP, Host: "h", Password: "p"}, "password"},
		{"host with a port", Config{Protocol: ProtoSMTP, Host: "h:25"}, "host"},
		{"host with a path", Config{Protocol: ProtoSMTP, Host: "h/x"}, "host"},
		{"move without folder", Config{Protocol: ProtoIMAP, Host: "h", Username: "u", Password: "p", After: AfterMove}, "move_to"},
		{"move to the mailbox read", Config{Protocol: ProtoIMAP, Host: "h", Username: "u", Password: "p", After: AfterMove, MoveTo: "INBOX"}, "move_to"},
		{"bad from", Config{Protocol: ProtoSMTP, Host: "h", From: "not an address"}, "from"},
		{"bad to", Config{Protocol: ProtoSMTP, Host: "h", To: []string{"a@b", "x"}}, "item 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := withDefaults(tc.cfg).Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestFactoryRefusesWrongProtocolAndMissingCA(t *testing.T) {
	if _, err := newSink(&Config{Protocol: ProtoIMAP, Host: "h", Username: "u", Password: "p"}, connectors.Env{Name: "x"}); err == nil || !strings.Contains(err.Error(), "protocol: smtp") {
		t.Errorf("an imap connector used as a sink: %v", err)
	}
	if _, err := newSource(&Config{Protocol: ProtoSMTP, Host: "h"}, connectors.Env{Name: "x"}); err == nil || !strings.Contains(err.Error(), "protocol: imap") {
		t.Errorf("an smtp connector used as a source: %v", err)
	}
	if _, err := newSink(&Config{Protocol: ProtoSMTP, Host: "h", CA: "missing.pem"}, connectors.Env{Name: "x", BaseDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "ca") {
		t.Errorf("a missing CA file: %v", err)
	}
}

func TestAddrDefaults(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Protocol: ProtoIMAP, Host: "h", Security: SecStartTLS}, "h:143"},
		{Config{Protocol: ProtoIMAP, Host: "h", Security: SecTLS}, "h:993"},
		{Config{Protocol: ProtoSMTP, Host: "h", Security: SecStartTLS}, "h:587"},
		{Config{Protocol: ProtoSMTP, Host: "h", Security: SecTLS}, "h:465"},
		{Config{Protocol: ProtoSMTP, Host: "::1", Security: SecTLS, Port: 2465}, "[::1]:2465"},
	} {
		if got := tc.c.addr(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.c, got, tc.want)
		}
	}
}
