package esoedconn

import (
	"strings"
	"testing"

	"github.com/aiskao/aiskao/spec"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{Participants: []Participant{{Identifier: "000471504", GUID: "{805fd26b-4b64-4823-a7b5-d40315c4b783}"}},
			Cert: "a.crt", Key: "a.key", CA: "ca.pem", RegistryFile: "registry.yaml"}
	}
	if _, err := spec.Options[Config](good()); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no participants", func(c *Config) { c.Participants = nil }, "participants:"},
		{"GUID without braces", func(c *Config) { c.Participants[0].GUID = "805fd26b-4b64-4823-a7b5-d40315c4b783" }, "participants[0].guid:"},
		{"no identifier", func(c *Config) { c.Participants[0].Identifier = "" }, "participants[0].identifier:"},
		{"twice", func(c *Config) { c.Participants = append(c.Participants, c.Participants[0]) }, "participants[1].guid: {805fd26b-4b64-4823-a7b5-d40315c4b783} appears twice"},
		{"bad listen", func(c *Config) { c.Listen = "8443" }, "listen:"},
		{"no cert", func(c *Config) { c.Cert = "" }, "cert:"},
		{"no key", func(c *Config) { c.Key = "" }, "key:"},
		{"no ca", func(c *Config) { c.CA = "" }, "ca: is required"},
		{"revocation mode", func(c *Config) { c.Revocation.Mode = "sometimes" }, "revocation.mode"},
		{"signing cert alone", func(c *Config) { c.SigningCert = "s.crt" }, "signing_cert:"},
		{"no registry", func(c *Config) { c.RegistryFile = "" }, "registry_file:"},
		{"two registries", func(c *Config) { c.RegistryURL = "https://registry.egov.bg/" }, "registry_url: set registry_file or registry_url, not both"},
		{"registry not a URL", func(c *Config) { c.RegistryFile, c.RegistryURL = "", "ftp://registry" }, "registry_url:"},
		{"too many retries", func(c *Config) { c.Retries = 11 }, "retries:"},
		{"negative retry interval", func(c *Config) { c.RetryFirst = -1 }, "retry_first:"},
	} {
		cfg := good()
		c.change(&cfg)
		_, err := spec.Options[Config](cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
