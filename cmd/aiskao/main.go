// Command aiskao runs the АИСКАО integration hub and the tools integrators use with it.
//
//	aiskao serve [-config FILE|DIR] [-data DIR]     run the hub (default: the embedded demo)
//	aiskao validate [-config F|DIR] FILE|DIR...      check configurations and route tests as serve builds them
//	aiskao try -config F -route NAME INPUT           push one message through one route, step by step
//	aiskao test [DIR]                                run route tests (default configs/tests)
//	aiskao dead-letters list|show|replay|delete      inspect and replay failed messages
//	aiskao journal [verify]                          list register calls and exchanged documents, or verify the journal's chain
//	aiskao tokens create NAME -role ROLE|revoke|list  manage API tokens
//	aiskao users create NAME -role ROLE|reset|totp|list  manage staff accounts
//	aiskao schema                                    print the JSON Schema of the configuration
//	aiskao workdays DATE N [-calendar F|DIR]         the day a deadline of N working days after DATE ends
//	aiskao bench [-clients N] [-duration D]          measure the demo end to end under load
//	aiskao web gallery [-listen ADDR]                the web shell's page patterns, in Bulgarian and English
//	aiskao version                                   print the version
//	aiskao help [COMMAND [SUBCOMMAND]]               the commands, or a command's options (as -h)
//
// Options may come before or after a command's words (dead-letters list -json); -h, -help and
// --help print the usage and exit 0 at every level.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	_ "github.com/aiskao/aiskao/connectors/all"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	_ "github.com/aiskao/aiskao/hub/transport/rabbitmq"
	_ "github.com/aiskao/aiskao/store/postgres"
	_ "github.com/aiskao/aiskao/store/sqlite"
	_ "github.com/aiskao/aiskao/transforms/all"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage reports a command line that cannot be understood; the usage text was already shown.
var errUsage = errors.New("usage")

// exitError carries an exit status without more to say (the command has printed its output).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// command is one entry of the command table. A new command is one line in commands(); its run
// function parses its flags with newFlags (which accepts flags before and after its words and
// answers -h, -help and --help) and returns errUsage for a command line it cannot understand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the hub", runServe},
		{"validate", "check configuration files or folders without running them", runValidate},
		{"try", "push one message through one route and show every step", runTry},
		{"test", "run route tests", runTest},
		{"dead-letters", "list, show, replay or delete dead letters (through the operations API)", runDeadLetters},
		{"tokens", "create, revoke or list API tokens (tokens create NAME -role ROLE)", runTokens},
		{"users", "create, reset, disable, enable or list staff accounts, give roles, positions and a second factor (users create NAME -role ROLE)", runUsers},
		{"journal", "list the journal of register calls and exchanged documents (through the operations API); journal verify checks its hash chain in the store", runJournal},
		{"schema", "print the JSON Schema of the configuration", runSchema},
		{"regix", "check a RegiX document, or run a register simulator (regix check, regix sim)", runRegix},
		{"eauth", "run an eAuth 2.0 identity provider simulator that signs in fictitious test persons (eauth sim)", runEAuth},
		{"esoed", "check an ЕСОЕД message, or run a second administration to exchange with (esoed check, esoed peer)", runESOED},
		{"workdays", "print the day a deadline of N working (or calendar) days after DATE ends, by Bulgaria's holidays", runWorkdays},
		{"web", "serve the web shell's gallery of page patterns (web gallery)", runWeb},
		{"bench", "measure the demo end to end under load, beside the bare loop of the same work", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// isHelp reports whether arg asks for help, as the flag package understands it.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h" }

// asksHelp reports whether a command line asks for help: -h, -help or --help before any "--".
func asksHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelp(a) {
			return true
		}
	}
	return false
}

// run runs the command line args and returns the exit status: 0 done (and for help asked for),
// 1 failed, 2 a command line that cannot be understood.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if isHelp(args[0]) || args[0] == "help" {
		if args[0] == "help" && len(args) > 1 {
			// aiskao help CMD [SUB]: the command's own help.
			return run(append(args[1:len(args):len(args)], "-h"), stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			var code exitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &code):
				return int(code)
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				// A command that printed its usage for -h asked for it, not for a mistake.
				if asksHelp(args[1:]) {
					return 0
				}
				return 2
			default:
				fmt.Fprintf(stderr, "aiskao %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "aiskao: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "АИСКАО hub — integration hub for complex administrative service")
	fmt.Fprintln(w, "\nUsage: aiskao COMMAND [options]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'aiskao COMMAND -h' or 'aiskao help COMMAND' for the options of a command.")
}

// runSub runs the subcommand of command (esoed, regix) that args name, or prints usage: to stdout
// with no error for -h, -help, --help or help, to stderr with errUsage otherwise.
func runSub(command, usage string, subs map[string]func(args []string, stdout, stderr io.Writer) error,
	args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	if isHelp(args[0]) || args[0] == "help" {
		if args[0] == "help" && len(args) > 1 {
			if run, ok := subs[args[1]]; ok {
				return run([]string{"-h"}, stdout, stderr)
			}
		}
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if run, ok := subs[args[0]]; ok {
		return run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "aiskao %s: unknown subcommand %q\n%s\n", command, args[0], usage)
	return errUsage
}

// flagSet is a flag.FlagSet whose Parse accepts flags before and after the command's words, so
// that `dead-letters list -json` means `dead-letters -json list`. A "--" ends the flags.
type flagSet struct{ *flag.FlagSet }

// Parse parses the flags among args; Args then returns the other arguments in order. It returns
// flag.ErrHelp for -h, -help and --help, and an error wrapping errUsage for a flag it cannot
// read, after printing the usage; a command returns either as it is.
func (fs flagSet) Parse(args []string) error {
	var words []string
	for {
		if err := fs.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.FlagSet.Args()
		if len(rest) == 0 {
			break
		}
		// The flag package stops at the first word, or after "--": a "--" it consumed leaves
		// len(args) - len(rest) pointing just past it.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			words = append(words, rest...)
			break
		}
		words, args = append(words, rest[0]), rest[1:]
	}
	// Leave the words as Args: parse them again behind a "--" so none is read as a flag.
	return fs.FlagSet.Parse(append([]string{"--"}, words...))
}

// newFlags returns a flag set that prints its usage to stderr, returns errors, and accepts flags
// before and after the command's words.
func newFlags(name, args string, stderr io.Writer) flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: aiskao %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return flagSet{fs}
}

// logFlags adds -log-format and -log-level and returns a function making the logger.
func logFlags(fs flagSet, stderr io.Writer) func() (*slog.Logger, error) {
	format := fs.String("log-format", "text", "log format: text or json")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	return func() (*slog.Logger, error) {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(*level)); err != nil {
			return nil, fmt.Errorf("-log-level: %q is not one of debug, info, warn, error", *level)
		}
		opts := &slog.HandlerOptions{Level: lv}
		switch strings.ToLower(*format) {
		case "text":
			return slog.New(slog.NewTextHandler(stderr, opts)), nil
		case "json":
			return slog.New(slog.NewJSONHandler(stderr, opts)), nil
		}
		return nil, fmt.Errorf("-log-format: %q is not text or json", *format)
	}
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "aiskao", version)
	return nil
}
