package nn

import (
	"math"

	"github.com/odin-ood/odin/internal/gemm"
)

// A convolution's epilogue: its bias, and the clamp of a fused ReLU or Clip (see fuse.go), in
// one pass over the output rather than two. A 1×1 convolution runs it after each block of
// columns (epilogueCols), while the block is still in cache: the matrix product computes each
// column alone, so splitting the columns leaves every value as it was.

// epilogueBudget is how many floats of output a 1×1 convolution's column block may take:
// 512 KiB, half of Zen 4's L2.
const epilogueBudget = 1 << 17

// epilogueCols is the column block of a 1×1 convolution of cout output channels: the matrix
// product's own column block (gemm's ncMax, 1024), or fewer, a multiple of the panel width,
// when cout rows of it would exceed epilogueBudget (ResNet-50's 256 to 2048 channels).
func epilogueCols(cout int) int {
	pw := gemm.PanelWidth
	return min(1024, max(256, epilogueBudget/max(cout, 1)/pw*pw))
}

// biasClipGo is biasClip's loop: the add rounded, then clipGo's comparisons.
func biasClipGo(row []float32, b, lo, hi float32) {
	for i, v := range row {
		v += b
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		row[i] = v
	}
}

// clamp returns the fused clamp's bounds, or the whole line (which changes nothing, NaN and −0
// included) without one.
func (c *conv) clamp() (lo, hi float32) {
	if c.act {
		return c.lo, c.hi
	}
	return float32(math.Inf(-1)), float32(math.Inf(1))
}

// epilogue adds the bias to columns [j0, j1) of each output row and clamps them when an
// activation is fused.
func (c *conv) epilogue(out []float32, ldo, j0, j1 int) {
	if c.rowEpilogue() == nil {
		return
	}
	for co := range c.cout {
		c.epilogueRow(out[co*ldo+j0:co*ldo+j1], co)
	}
}

// rowEpilogue is an epilogue that the Winograd paths run on each piece of output row as its
// inverse transform writes it, while the piece is in L1, rather than in a pass over the whole
// output afterwards. Being elementwise, it gives the same bits either way.
type rowEpilogue interface {
	epilogueRow(row []float32, co int)
}

// rowEpilogue returns c's epilogue, or nil when it has none.
func (c *conv) rowEpilogue() rowEpilogue {
	if c.bias == nil && !c.act {
		return nil
	}
	return c
}

// epilogueRow adds output channel co's bias to row and clamps it. Without a bias only the clamp
// runs: adding +0 would turn −0 into +0.
func (c *conv) epilogueRow(row []float32, co int) {
	lo, hi := c.clamp()
	if c.bias == nil {
		clip(row, row, lo, hi)
	} else {
		biasClip(row, c.bias[co], lo, hi)
	}
}
