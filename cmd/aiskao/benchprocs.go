package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// processCounts is the -processes flag: one count of hub processes, or several to compare
// ("1,2,3"), each at least 1 and none twice.
type processCounts []int

func (c *processCounts) String() string {
	s := make([]string, len(*c))
	for i, n := range *c {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Set reads a count or a comma-separated list of counts.
func (c *processCounts) Set(v string) error {
	var out processCounts
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("want a count of processes of at least 1, or a list such as 1,2; got %q", f)
		}
		if slices.Contains(out, n) {
			return fmt.Errorf("%d processes given twice", n)
		}
		out = append(out, n)
	}
	*c = out
	return nil
}

// processWord is "1 process" or "N processes".
func processWord(n int) string {
	if n == 1 {
		return "1 process"
	}
	return strconv.Itoa(n) + " processes"
}

// runProcessRounds measures the hub with each count of processes in turn, rounds times, each
// run in fresh folders, the order rotated from round to round so that no count always follows
// the same one, and prints each run, the medians of each count and their ratios to the first:
// whether more processes make more than one on this machine, from one invocation.
func runProcessRounds(o benchOptions, counts []int, stdout io.Writer) (err error) {
	runs := make(map[int][]figures, len(counts))
	var cleanups []func() error
	defer func() {
		for _, c := range cleanups {
			err = errors.Join(err, c())
		}
	}()
	where := ""
	if o.cpus != "" {
		where = ", on cores " + o.cpus + " (taskset -c " + o.cpus + ")"
	}
	words := make([]string, len(counts))
	for i, n := range counts {
		words[i] = processWord(n)
	}
	fmt.Fprintf(stdout, "\n%d clients, as fast as answered, %v per run; the hub as %s in turn (the order turning each round), sharing the queues and the schema%s:\n",
		o.clients, o.duration, strings.Join(words, ", then "), where)
	for r := 1; r <= o.rounds; r++ {
		for i := range counts {
			n := counts[(i+r-1)%len(counts)]
			run := o
			run.processes = n
			f, cleanup, err := hubRound(run)
			cleanups = append(cleanups, cleanup)
			if err != nil {
				return fmt.Errorf("bench: round %d, %s: %w", r, processWord(n), err)
			}
			runs[n] = append(runs[n], f)
			fmt.Fprintf(stdout, "round %d, %-11s %s\n", r, processWord(n)+":", f.line())
		}
	}
	medians := make([]figures, len(counts))
	for i, n := range counts {
		medians[i] = medianFigures(runs[n])
		fmt.Fprintf(stdout, "median, %-10s %s\n", processWord(n)+":", medians[i].line())
	}
	for i, n := range counts[1:] {
		fmt.Fprintf(stdout, "%s ÷ %d (medians): %s\n", processWord(n), counts[0], ratios(medians[i+1], medians[0]))
	}
	return nil
}
