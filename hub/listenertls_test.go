package hub

import (
	"strings"
	"testing"
)

// Connectors sharing an address must agree on HTTPS: one that asks for plain HTTP where another
// serves HTTPS (or another certificate) is refused rather than served what the other asked for.
func TestListenerTLSAgrees(t *testing.T) {
	e := &Engine{serverTLS: map[string][2]string{}}
	if err := e.listenerTLS("127.0.0.1:8443", "hub.pem", "hub.key"); err != nil {
		t.Fatal(err)
	}
	if err := e.listenerTLS("127.0.0.1:8443", "hub.pem", "hub.key"); err != nil {
		t.Errorf("the same certificate again: %v", err)
	}
	if err := e.listenerTLS("127.0.0.1:8443", "", ""); err == nil || !strings.Contains(err.Error(), "serves HTTPS with hub.pem for another connector, not plain HTTP") {
		t.Errorf("plain HTTP on an HTTPS address: %v", err)
	}
	if err := e.listenerTLS("127.0.0.1:8443", "other.pem", "other.key"); err == nil {
		t.Error("another certificate on the same address was accepted")
	}
	if err := e.listenerTLS("127.0.0.1:8080", "", ""); err != nil {
		t.Errorf("plain HTTP on another address: %v", err)
	}
}
