package fetch

import (
	"fmt"
	"io"
	"time"
)

// meter draws a one-line progress report, redrawn in place with a carriage return at most a few
// times a second. A nil meter (no writer) does nothing.
type meter struct {
	w     io.Writer
	name  string
	start int64 // bytes on disk when this request began: the rate counts only new bytes
	total int64 // -1 when unknown
	began time.Time
	drawn time.Time
}

const redraw = 250 * time.Millisecond

func newMeter(w io.Writer, name string, start, total int64) *meter {
	if w == nil {
		return nil
	}
	now := time.Now()
	return &meter{w: w, name: name, start: start, total: total, began: now}
}

func (m *meter) update(n int64) {
	if m == nil {
		return
	}
	now := time.Now()
	if now.Sub(m.drawn) < redraw {
		return
	}
	m.drawn = now
	m.draw(n, now)
}

// finish draws the final state and ends the line.
func (m *meter) finish(n int64) {
	if m == nil {
		return
	}
	m.draw(n, time.Now())
	fmt.Fprintln(m.w)
}

func (m *meter) draw(n int64, now time.Time) {
	// \x1b[K clears what a longer earlier line left; Progress is meant for a terminal.
	fmt.Fprintf(m.w, "\r%s\x1b[K", progressLine(m.name, n, m.total, n-m.start, now.Sub(m.began)))
}

// progressLine formats done of total bytes, with the rate of the new bytes over elapsed and the
// time left at that rate.
func progressLine(name string, done, total, fresh int64, elapsed time.Duration) string {
	// The first second's rate is mostly connection set-up and buffering: not shown.
	speed, eta := "--", "--:--"
	if elapsed >= time.Second {
		rate := float64(fresh) / elapsed.Seconds()
		speed = formatBytes(int64(rate))
		if rate > 0 && total > 0 && done <= total {
			eta = clock(time.Duration(float64(total-done) / rate * float64(time.Second)))
		}
	}
	if total <= 0 {
		return fmt.Sprintf("%s: %s  %s/s", name, formatBytes(done), speed)
	}
	return fmt.Sprintf("%s: %s / %s (%.1f%%)  %s/s  ETA %s", name, formatBytes(done), formatBytes(total),
		100*float64(done)/float64(total), speed, eta)
}

// formatBytes formats n in binary units with one decimal.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := [...]string{"KiB", "MiB", "GiB", "TiB"}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
