package nn

import (
	"errors"
	"fmt"
)

// Limits on the work a Pool or an Exec is asked to size itself for. Memory grows with both (each
// worker holds the activations and gradients of a whole micro-batch), so values beyond these,
// which no machine odin runs on would profit from, are refused rather than attempted.
const (
	// MaxBatch is the largest micro-batch, in images.
	MaxBatch = 1024
	// MaxWorkers is the largest number of workers of a Pool.
	MaxWorkers = 256
)

// ErrLimit is wrapped by the errors of CheckBatch and CheckWorkers, and so of Pool.Run.
var ErrLimit = errors.New("out of range")

// CheckBatch reports whether batch is a micro-batch size a Pool takes: 1 to MaxBatch.
func CheckBatch(batch int) error {
	if batch < 1 || batch > MaxBatch {
		return fmt.Errorf("nn: batch of %d images is %w (1 to %d)", batch, ErrLimit, MaxBatch)
	}
	return nil
}

// CheckWorkers reports whether workers is a worker count a Pool takes: 1 to MaxWorkers.
func CheckWorkers(workers int) error {
	if workers < 1 || workers > MaxWorkers {
		return fmt.Errorf("nn: %d workers is %w (1 to %d)", workers, ErrLimit, MaxWorkers)
	}
	return nil
}
