package models

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/checkpoint"
)

// params hands out a checkpoint's tensors by name, checking shapes and remembering which were
// used, so that a missing, mis-shaped or left-over tensor is reported by name.
type params struct {
	m    map[string]*checkpoint.Tensor
	used map[string]bool
	err  error
}

func newParams(m map[string]*checkpoint.Tensor) *params {
	return &params{m: m, used: map[string]bool{}}
}

func (p *params) has(name string) bool { _, ok := p.m[name]; return ok }

// hasPrefix reports whether any tensor name starts with prefix.
func (p *params) hasPrefix(prefix string) bool {
	for name := range p.m {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// count returns how many consecutive indices i = 0, 1, … have some tensor named prefix+"i."+…,
// so that a missing tensor inside a layer is reported as missing rather than shortening the
// network. It reads every name once: the count can be no more than the tensors there are.
func (p *params) count(prefix string) int {
	seen := map[int]bool{}
	for name := range p.m {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); ok && err == nil && i >= 0 && strconv.Itoa(i) == num {
			seen[i] = true
		}
	}
	n := 0
	for seen[n] {
		n++
	}
	return n
}

func (p *params) shape(name string) []int {
	if t, ok := p.m[name]; ok {
		return t.Shape
	}
	return nil
}

// get returns the tensor's data. If it is missing or its shape differs it records the error
// and returns nil: building stops at the first bad tensor (see failed), so nothing is ever
// allocated for a tensor the checkpoint does not hold.
func (p *params) get(name string, shape ...int) []float32 {
	if p.err != nil {
		return nil
	}
	t, ok := p.m[name]
	if !ok {
		p.setErr("missing tensor %s", name)
		return nil
	}
	p.used[name] = true
	if !slices.Equal(t.Shape, shape) {
		p.setErr("tensor %s has shape %v, want %v", name, t.Shape, shape)
		return nil
	}
	if n, ok := prod(shape); !ok || len(t.Data) != n {
		p.setErr("tensor %s has %d values for shape %v", name, len(t.Data), shape)
		return nil
	}
	return t.Data
}

// failed reports whether a tensor was missing or mis-shaped, after which building stops.
func (p *params) failed() bool { return p.err != nil }

func (p *params) setErr(format string, a ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, a...)
	}
}

// leftover reports tensors that the architecture does not use. BatchNorm's step counter is
// bookkeeping, not a weight, and is ignored.
func (p *params) leftover() error {
	var extra []string
	for name := range p.m {
		if !p.used[name] && !strings.HasSuffix(name, "num_batches_tracked") {
			extra = append(extra, name)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	more := ""
	if len(extra) > 3 {
		more = fmt.Sprintf(" and %d more", len(extra)-3)
		extra = extra[:3]
	}
	return fmt.Errorf("unexpected tensor %s%s", strings.Join(extra, ", "), more)
}

// prod is the product of s; ok is false if a factor is negative or the product overflows.
func prod(s []int) (n int, ok bool) {
	n = 1
	for _, v := range s {
		if v < 0 || (v > 0 && n > math.MaxInt/v) {
			return 0, false
		}
		n *= v
	}
	return n, true
}
