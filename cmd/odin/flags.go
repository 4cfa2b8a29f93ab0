package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

var (
	errHelp  = errors.New("help shown")
	errUsage = errors.New("usage")
)

// usageError marks an error as the user's: bad flags or values. The command exits with status 2.
func usageError(format string, a ...any) error {
	return fmt.Errorf("%w", &wrapped{msg: fmt.Sprintf(format, a...), kind: errUsage})
}

type wrapped struct {
	msg  string
	kind error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.kind }

// newFlags makes a flag set that reports errors as one line instead of printing usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("odin "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args; --help prints the flags to stdout and returns errHelp. Positional
// arguments are allowed before, between and after flags.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "usage of %s:\n", fs.Name())
			fs.PrintDefaults()
			return nil, errHelp
		}
		if err != nil {
			return nil, usageError("%s (see %s --help)", strings.TrimSpace(err.Error()), fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs is parseFlags for a command that takes no positional arguments: a stray one
// (odin eval … Imagenet) is a one-line usage error rather than silently ignored.
func parseNoArgs(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unexpected argument %q: %s takes only flags (see %s --help)", pos[0], fs.Name(), fs.Name())
	}
	return nil
}

// checkPool checks --workers and --batch against the engine's limits (nn.CheckWorkers,
// nn.CheckBatch): beyond them memory, not speed, grows.
func checkPool(workers, batch int) error {
	if nn.CheckWorkers(workers) != nil {
		return usageError("--workers %d: must be from 1 to %d", workers, nn.MaxWorkers)
	}
	if nn.CheckBatch(batch) != nil {
		return usageError("--batch %d: must be from 1 to %d", batch, nn.MaxBatch)
	}
	return nil
}

// checkODINFlags checks --temperature and --magnitude with the library's one rule (ood.CheckODIN).
func checkODINFlags(temperature, magnitude float64) error {
	if err := ood.CheckTemperature(temperature); err != nil {
		return usageError("--%v", err)
	}
	if err := ood.CheckMagnitude(magnitude); err != nil {
		return usageError("--%v", err)
	}
	return nil
}
