package models

import (
	"fmt"
	"slices"
	"sort"
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

// count returns how many consecutive indices i = 0, 1, … have some tensor under
// fmt.Sprintf(format, i), so that a missing tensor inside a layer is reported as missing rather
// than shortening the network.
func (p *params) count(format string) int {
	n := 0
	for p.hasPrefix(fmt.Sprintf(format, n)) {
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

// get returns the tensor's data, recording an error if it is missing or its shape differs.
func (p *params) get(name string, shape ...int) []float32 {
	t, ok := p.m[name]
	if !ok {
		p.setErr("missing tensor %s", name)
		return make([]float32, prod(shape))
	}
	p.used[name] = true
	if !slices.Equal(t.Shape, shape) {
		p.setErr("tensor %s has shape %v, want %v", name, t.Shape, shape)
		return make([]float32, prod(shape))
	}
	if len(t.Data) != prod(shape) {
		p.setErr("tensor %s has %d values for shape %v", name, len(t.Data), shape)
		return make([]float32, prod(shape))
	}
	return t.Data
}

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

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}
