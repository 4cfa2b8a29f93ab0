package experiment

import (
	"errors"
	"fmt"
)

// ErrOtherRun marks scores kept by a run of another identity (run.json differs, or the score
// file's rows are not this run's images): they are refused, never mixed. The caller decides
// what the user should do (another folder, removing it, scoring afresh).
var ErrOtherRun = errors.New("scores of another run")

// runError is an error of ErrOtherRun's kind with its own message.
type runError struct{ msg string }

func (e *runError) Error() string        { return e.msg }
func (e *runError) Is(target error) bool { return target == ErrOtherRun }

func otherRun(format string, a ...any) error { return &runError{fmt.Sprintf(format, a...)} }
