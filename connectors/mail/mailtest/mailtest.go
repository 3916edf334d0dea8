// Package mailtest starts a real local mail system for tests: Dovecot serving IMAP with STARTTLS
// and delivering over LMTP, and Postfix taking submissions with STARTTLS and authentication by
// Dovecot. Both are Debian's packages (dovecot-imapd, dovecot-lmtpd, postfix), run as child
// processes of the test with configurations of their own in a temporary folder, on free ports;
// no system service is used. Tests skip when they are missing, or fail when CI is set.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"github.com/aiskao/aiskao/internal/freeport"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/internal/tlsconf"
)

// Server is a real local mail system started by a test: Dovecot serving IMAP with STARTTLS
// and delivering over LMTP, and Postfix taking submissions on an SMTP port with STARTTLS and
// authentication by Dovecot, handing mail to Dovecot's LMTP. Both are Debian's packages, run as
// child processes with configurations of their own in a temporary folder, on free ports.
type Server struct {
	Dir       string // the servers' folder, their logs included
	IMAPPort  int    // IMAP with STARTTLS on 127.0.0.1
	IMAPSPort int    // IMAP over implicit TLS
	SMTPPort  int    // SMTP submission with STARTTLS and AUTH on 127.0.0.1
	SMTPSPort int    // SMTP submission over implicit TLS
	CAFile    string // the PEM certificate both servers present, for localhost and 127.0.0.1
	User      string // the account: its mailbox gets the mail sent to User@localhost
	Pass      string
}

// Need skips the test when Dovecot or Postfix is not installed or the test cannot
// start them (they need root), except when CI is set: then it fails.
func Need(t testing.TB) {
	t.Helper()
	var missing []string
	for _, bin := range []string{"/usr/sbin/dovecot", "/usr/lib/dovecot/lmtp", "/usr/lib/dovecot/imap", "/usr/sbin/postfix"} {
		if _, err := os.Stat(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (the servers switch users)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "mail server test needs Debian's dovecot-imapd, dovecot-lmtpd and postfix, run as root; missing: " + strings.Join(missing, ", ")
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// FreePort returns a free port of 127.0.0.1 for a server started as another process (see package
// freeport: one that no outgoing connection can take before the server binds it).
func FreePort(t testing.TB) int {
	t.Helper()
	addr, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// WriteCert writes a server certificate for localhost and 127.0.0.1 with its key (cert.pem,
// cert.key) and the certificate of the CA that issued it (ca.pem), and returns the files.
func WriteCert(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	ca := testpki.New(t, "mailtest CA")
	cert := ca.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "localhost"}, Usage: x509.ExtKeyUsageServerAuth,
		NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	certFile, keyFile = testpki.WritePair(t, cert, dir, "cert")
	return ca.WriteCA(t, dir, "ca.pem"), certFile, keyFile
}

func write(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// Start starts Dovecot and Postfix for the test and stops them at its end.
func Start(t testing.TB) *Server {
	t.Helper()
	Need(t)
	// Not t.TempDir: the servers' own users must reach the folder.
	dir, err := os.MkdirTemp("", "aiskao-mail-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody to own the mailboxes: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	s := &Server{Dir: dir, IMAPPort: FreePort(t), IMAPSPort: FreePort(t), SMTPPort: FreePort(t), SMTPSPort: FreePort(t), User: "hub", Pass: "s3cret-пароля"}
	ca, cert, key := WriteCert(t, dir)
	s.CAFile = ca
	for _, d := range []string{"run", "state", "mail", "pfq", "pfdata", "pf"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		t.Fatal(err)
	}
	if pf, err := user.Lookup("postfix"); err == nil {
		puid, _ := strconv.Atoi(pf.Uid)
		_ = os.Chown(filepath.Join(dir, "pfdata"), puid, -1)
	}
	write(t, filepath.Join(dir, "passwd"), fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s\n", s.User, s.Pass, uid, gid, filepath.Join(dir, "mail", s.User)), 0o644)
	write(t, filepath.Join(dir, "dovecot.conf"), fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = required
ssl_cert = <%[2]s
ssl_key = <%[3]s
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_username_format = %%n
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox Taken {
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[4]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[5]d
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
`, dir, cert, key, s.IMAPPort, s.IMAPSPort), 0o644)
	pfdir := filepath.Join(dir, "pf")
	write(t, filepath.Join(pfdir, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/pfq
data_directory = %[1]s/pfdata
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydestination =
relayhost =
virtual_mailbox_domains = localhost
virtual_transport = lmtp:unix:%[1]s/run/lmtp
smtpd_tls_cert_file = %[2]s
smtpd_tls_key_file = %[3]s
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %[1]s/run/auth-client
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access inline:{ {busy@localhost=450 4.2.1 Mailbox busy, try later}, {gone@localhost=550 5.1.1 No such user} }, permit_sasl_authenticated, reject
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/postfix.log
alias_maps =
alias_database =
`, dir, cert, key), 0o644)
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		t.Fatalf("postfix's master.cf: %v", err)
	}
	write(t, filepath.Join(pfdir, "master.cf"), postfixMaster(string(master), s.SMTPPort, s.SMTPSPort), 0o644)

	start := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		out, err := os.Create(filepath.Join(dir, filepath.Base(name)+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			out.Close()
		})
	}
	start("/usr/sbin/dovecot", "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	waitPort(t, s.IMAPPort, dir)
	waitPort(t, s.IMAPSPort, dir)
	start("/usr/sbin/postfix", "-c", pfdir, "start-fg")
	// Postfix's master starts a session of its own, out of the reach of the group signal above:
	// stop it and its children by the pid it writes.
	t.Cleanup(func() { stopPostfix(t, filepath.Join(dir, "pfq", "pid", "master.pid")) })
	waitPort(t, s.SMTPPort, dir)
	waitPort(t, s.SMTPSPort, dir)
	return s
}

// stopPostfix ends the process group of the Postfix master whose pid is in pidFile and waits
// for the master to be gone.
func stopPostfix(t testing.TB, pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Logf("postfix not stopped: %v", err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Logf("postfix not stopped: pid file holds %q", b)
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// postfixMaster is Debian's master.cf with the smtp service on port and nothing chrooted: the
// queue is the test's own folder.
func postfixMaster(master string, port, tlsPort int) string {
	var out []string
	for _, line := range strings.Split(master, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 8 && f[0] == "smtp" && f[1] == "inet":
			line = fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd\n127.0.0.1:%d inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes", port, tlsPort)
		case len(f) >= 8 && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t"):
			f[4] = "n"
			line = strings.Join(f, " ")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func waitPort(t testing.TB, port int, dir string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs := ""
	for _, f := range []string{"dovecot.log", "dovecot.out", "postfix.log", "postfix.out"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		logs += "\n--- " + f + "\n" + string(b)
	}
	t.Fatalf("port %d not listening after 20s%s", port, logs)
}

// Client logs in to the server's IMAP with STARTTLS; it logs out when the test ends.
func (s *Server) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.Dial(fmt.Sprintf("127.0.0.1:%d", s.IMAPPort))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tlsconf.Roots(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(&tls.Config{ServerName: "localhost", RootCAs: pool, MinVersion: tls.VersionTLS12}); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(s.User, s.Pass); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Logout() })
	return c
}

// Append puts raw into mailbox as an outside sender's mail would arrive.
func (s *Server) Append(t testing.TB, c *client.Client, mailbox string, raw []byte) {
	t.Helper()
	if err := c.Append(mailbox, nil, time.Now(), literal(raw)); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// FetchAll returns the raw mails of mailbox with their flags, in sequence order, without
// marking them \Seen.
func (s *Server) FetchAll(t testing.TB, c *client.Client, mailbox string) (raws [][]byte, flags [][]string) {
	t.Helper()
	mb, err := c.Select(mailbox, true)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Messages == 0 {
		return nil, nil
	}
	set := new(imap.SeqSet)
	set.AddRange(1, mb.Messages)
	section := &imap.BodySectionName{Peek: true}
	ch := make(chan *imap.Message, mb.Messages)
	if err := c.Fetch(set, []imap.FetchItem{imap.FetchFlags, section.FetchItem()}, ch); err != nil {
		t.Fatal(err)
	}
	for m := range ch {
		var b []byte
		if r := m.GetBody(section); r != nil {
			b, _ = io.ReadAll(r)
		}
		raws = append(raws, b)
		flags = append(flags, m.Flags)
	}
	return raws, flags
}

func literal(raw []byte) imap.Literal { return bytes.NewBuffer(raw) }
