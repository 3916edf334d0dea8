package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands returns the commands of the README's sh blocks, continuation lines joined and
// comments cut.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in, cont := false, ""
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		case !in:
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 && !strings.Contains(line[:i], "'") {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		if line = strings.TrimSpace(cont + line); line != "" {
			cmds = append(cmds, line)
		}
		cont = ""
	}
	if len(cmds) < 10 {
		t.Fatalf("found %d commands in the README's sh blocks, want the examples", len(cmds))
	}
	return cmds
}

var (
	addrDefault = regexp.MustCompile(`\$\{(AISKAO_\w+_ADDR):-([^}]+)\}`)
	addrSet     = regexp.MustCompile(`^(AISKAO_\w+_ADDR)=(\S+)$`)
	localURL    = regexp.MustCompile(`https?://(127\.0\.0\.1:\d+)`)
)

// listenVars returns the address variables a configuration listens on, with their defaults.
func listenVars(t *testing.T, config string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, config))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range addrDefault.FindAllStringSubmatch(string(raw), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestReadmeExamplesFit checks the README's shell examples against each other and against a
// machine where the demo and the peer already run: every aiskao command line is understood
// (its flags parse), every process started besides the demo and the peer gets every address its
// configuration listens on, none of them taken by the demo, the peer or another process of the
// examples, and every local URL the examples call is one that some process serves.
func TestReadmeExamplesFit(t *testing.T) {
	taken := map[string]string{} // address -> who listens there
	for who, config := range map[string]string{"the demo": "configs/demo.yaml", "the peer": "configs/esoed-peer.yaml"} {
		for _, addr := range listenVars(t, config) {
			taken[addr] = who
		}
	}
	served := map[string]bool{}
	for addr := range taken {
		served[addr] = true
	}
	for _, cmd := range readmeCommands(t) {
		env, words := commandEnv(cmd)
		for i, w := range words {
			if w == "-listen" && i+1 < len(words) {
				served[words[i+1]] = true
			}
		}
		i := indexOf(words, "./cmd/aiskao")
		if i < 0 {
			for _, m := range localURL.FindAllStringSubmatch(cmd, -1) {
				if !served[m[1]] {
					t.Errorf("%q calls %s, where no process of the examples or of the demo and the peer listens", cmd, m[1])
				}
			}
			continue
		}
		args := words[i+1:]
		if n := len(args); n > 0 && args[n-1] == "&" {
			args = args[:n-1]
		}
		// The command line is understood: with -h after it, it only prints its help.
		var out, errOut bytes.Buffer
		if code := run(append(append([]string{}, args...), "-h"), &out, &errOut); code != 0 {
			t.Errorf("aiskao %s: not understood (exit %d with -h):\n%s", strings.Join(args, " "), code, &errOut)
		}
		if len(args) == 0 || args[0] != "serve" {
			continue
		}
		config := configOf(args)
		if config == defaultConfig && len(env) == 0 {
			continue // the demo itself
		}
		for v := range listenVars(t, config) {
			addr, ok := env[v]
			if !ok {
				t.Errorf("%q: %s listens on %s, which the example does not set (its default is the demo's)", cmd, config, v)
				continue
			}
			if who, dup := taken[addr]; dup {
				t.Errorf("%q: %s=%s is taken by %s", cmd, v, addr, who)
			}
			taken[addr], served[addr] = cmd, true
		}
	}
}

// commandEnv splits a command into the address variables set before it and its words.
func commandEnv(cmd string) (env map[string]string, words []string) {
	words, env = strings.Fields(cmd), map[string]string{}
	for len(words) > 0 && addrSet.MatchString(words[0]) {
		m := addrSet.FindStringSubmatch(words[0])
		env[m[1]] = m[2]
		words = words[1:]
	}
	return env, words
}

// configOf returns the configuration a command's words name with -config, or the demo's.
func configOf(words []string) string {
	if j := indexOf(words, "-config"); j >= 0 && j+1 < len(words) {
		return words[j+1]
	}
	return defaultConfig
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

var (
	tokenMade   = regexp.MustCompile(`^(?:export\s+)?(\w+)=\$\((.*)\)$`)
	bearerGiven = regexp.MustCompile(`-H\s+"Authorization: Bearer \$(\w+)"`)
)

// TestReadmeIngressCallsCarryToken checks that every curl of the README's examples to a hub's
// ingress (an address a configuration listens on for HTTP) sends an API token, and that the token
// was made before, with role integrator, in the store of the configuration that serves that
// address. The demo's ingress refuses anonymous callers: an example without a token would only
// show a 401.
func TestReadmeIngressCallsCarryToken(t *testing.T) {
	ingress := map[string]string{} // address -> configuration serving it
	for _, config := range []string{defaultConfig, "configs/esoed-peer.yaml"} {
		for v, addr := range listenVars(t, config) {
			if strings.HasSuffix(v, "HTTP_ADDR") {
				ingress[addr] = config
			}
		}
	}
	tokens := map[string]string{} // shell variable -> configuration whose store made it
	calls := 0
	for _, cmd := range readmeCommands(t) {
		env, words := commandEnv(cmd)
		if i := indexOf(words, "./cmd/aiskao"); i >= 0 && i+1 < len(words) && words[i+1] == "serve" {
			config := configOf(words)
			for v, addr := range env {
				if strings.HasSuffix(v, "HTTP_ADDR") {
					ingress[addr] = config
				}
			}
			continue
		}
		if m := tokenMade.FindStringSubmatch(cmd); m != nil {
			inner := strings.Fields(m[2])
			if i := indexOf(inner, "tokens"); i >= 0 && i+1 < len(inner) && inner[i+1] == "create" {
				if j := indexOf(inner, "-role"); j >= 0 && j+1 < len(inner) && inner[j+1] == "integrator" {
					config := configOf(inner)
					tokens[m[1]] = config
				}
			}
			continue
		}
		if len(words) == 0 || words[0] != "curl" {
			continue
		}
		for _, u := range localURL.FindAllStringSubmatch(cmd, -1) {
			config, ok := ingress[u[1]]
			if !ok {
				continue // the operations API: its own tokens, through AISKAO_TOKEN or -token
			}
			calls++
			b := bearerGiven.FindStringSubmatch(cmd)
			if b == nil {
				t.Errorf("%q posts to the ingress at %s without -H \"Authorization: Bearer $TOKEN\"", cmd, u[1])
				continue
			}
			made, ok := tokens[b[1]]
			switch {
			case !ok:
				t.Errorf("%q sends $%s, which no earlier example sets with aiskao tokens create NAME -role integrator", cmd, b[1])
			case made != config:
				t.Errorf("%q sends $%s, made in the store of %s, to %s, which %s serves", cmd, b[1], made, u[1], config)
			}
		}
	}
	// The demo's /esoed/documents, /esoed/outgoing and /applications, and the several processes'.
	if calls < 4 {
		t.Errorf("found %d curl calls to a hub's ingress in the README, want at least 4: is the check still reading the examples?", calls)
	}
}
