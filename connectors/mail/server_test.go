package mailconn

import (
	"net"
	"testing"

	"github.com/aiskao/aiskao/connectors/mail/mailtest"
)

// imapConfig returns source options for the server's mailbox.
func imapConfig(s *mailtest.Server) *Config {
	return &Config{Protocol: ProtoIMAP, Host: "localhost", Port: s.IMAPPort, CA: s.CAFile, Username: s.User, Password: s.Pass,
		PollInterval: 0, Batch: 5}
}

// smtpConfig returns sink options for the server's submission port.
func smtpConfig(s *mailtest.Server) *Config {
	return &Config{Protocol: ProtoSMTP, Host: "localhost", Port: s.SMTPPort, CA: s.CAFile, Username: s.User, Password: s.Pass,
		From: "Община Примерно <deloviodstvo@example.bg>"}
}

// listen listens on a free port of 127.0.0.1 until the test ends, for a fake server.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}
