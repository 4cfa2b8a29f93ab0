// Package progress draws a one-line progress bar with rate and ETA on a terminal.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar is a progress bar. A nil *Bar does nothing, so callers need not check whether one is shown.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int
	start time.Time
	last  time.Time
	done  int
}

// New returns a bar on w for total steps, or nil when w is not a terminal or quiet is set.
func New(w io.Writer, label string, total int, quiet bool) *Bar {
	if quiet || !IsTerminal(w) {
		return nil
	}
	return &Bar{w: w, label: label, total: total, start: time.Now()}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Set records that done steps are finished, redrawing at most ten times a second.
func (b *Bar) Set(done int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && done < b.total {
		return
	}
	b.last = now
	b.draw(now)
}

func (b *Bar) draw(now time.Time) {
	el := now.Sub(b.start).Seconds()
	rate := float64(b.done) / max(el, 1e-9)
	eta := "--:--"
	if b.done > 0 && rate > 0 {
		eta = clock(time.Duration(float64(b.total-b.done) / rate * float64(time.Second)))
	}
	const width = 24
	fill := 0
	if b.total > 0 {
		fill = width * b.done / b.total
	}
	fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d  %.1f img/s  ETA %s ", b.label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), b.done, b.total, rate, eta)
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now())
	fmt.Fprintln(b.w)
}

func clock(d time.Duration) string {
	s := int(d.Seconds() + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
