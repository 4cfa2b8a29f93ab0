package dataset

import (
	"fmt"
	"math"
	"strings"
)

// Filter is a resampling filter for resizing images to 32×32.
type Filter int

// The filters. Their kernels and supports are PIL's: box (support ½), triangle (1), Keys cubic with
// a = −½ (2), and Lanczos-3 (3). Nearest is not a kernel: it picks source pixel
// ⌊(x+½)·in/out⌋, as PIL's NEAREST and torch's "nearest-exact" do (torch's legacy "nearest"
// picks ⌊x·in/out⌋ instead).
const (
	Nearest Filter = iota + 1
	Box
	Bilinear
	Bicubic
	Lanczos
)

var filterNames = [...]string{Nearest: "nearest", Box: "box", Bilinear: "bilinear", Bicubic: "bicubic", Lanczos: "lanczos"}

// String returns the filter's name as ParseFilter accepts it.
func (f Filter) String() string {
	if f >= Nearest && f <= Lanczos {
		return filterNames[f]
	}
	return fmt.Sprintf("Filter(%d)", int(f))
}

// ParseFilter parses a filter name: nearest, box, bilinear, bicubic or lanczos.
func ParseFilter(s string) (Filter, error) {
	for f := Nearest; f <= Lanczos; f++ {
		if strings.EqualFold(s, filterNames[f]) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown filter %q (valid: %s)", s, strings.Join(filterNames[1:], ", "))
}

// ResizeMode says how images that are not 32×32 are brought to 32×32. The zero value refuses them.
//
// With Antialias the kernel is stretched by the reduction factor when shrinking (as PIL's resize and
// torch's interpolate(antialias=True) do), so every source pixel contributes; without it the
// kernel is sampled at the source scale (as torch's interpolate without antialias does for
// bilinear), so a reduction wider than the kernel skips pixels: bilinear shrinking 4× uses 2 of
// every 4 source pixels along each axis (at exactly 2× it averages each 2×2 block). Nearest
// ignores Antialias. Weights near the borders are renormalised over the pixels inside the image
// (PIL's rule; for bilinear this equals torch's clamping).
type ResizeMode struct {
	Filter    Filter
	Antialias bool
}

func (m ResizeMode) String() string {
	switch {
	case m.Filter == 0:
		return "refuse"
	case m.Antialias && m.Filter != Nearest:
		return m.Filter.String() + " (antialiased)"
	}
	return m.Filter.String()
}

func (m ResizeMode) valid() error {
	if m.Filter < 0 || m.Filter > Lanczos {
		return fmt.Errorf("unknown filter %v", m.Filter)
	}
	return nil
}

// kernel returns the filter's function and support radius in source pixels at scale 1.
func (f Filter) kernel() (func(float64) float64, float64) {
	switch f {
	case Box:
		return func(x float64) float64 {
			if x > -0.5 && x <= 0.5 {
				return 1
			}
			return 0
		}, 0.5
	case Bilinear:
		return func(x float64) float64 {
			x = math.Abs(x)
			if x < 1 {
				return 1 - x
			}
			return 0
		}, 1
	case Bicubic:
		const a = -0.5
		return func(x float64) float64 {
			x = math.Abs(x)
			switch {
			case x < 1:
				return ((a+2)*x-(a+3))*x*x + 1
			case x < 2:
				return (((x-5)*x+8)*x - 4) * a
			}
			return 0
		}, 2
	default: // Lanczos
		sinc := func(x float64) float64 {
			if x == 0 {
				return 1
			}
			x *= math.Pi
			return math.Sin(x) / x
		}
		return func(x float64) float64 {
			if x >= -3 && x < 3 {
				return sinc(x) * sinc(x/3)
			}
			return 0
		}, 3
	}
}

// taps holds, for each output coordinate, the first source coordinate and the weights of the
// consecutive source pixels that make it.
type taps struct {
	first []int
	w     [][]float64
}

// weights computes the taps that map in source pixels to out output pixels along one axis. Output
// pixel x is centred at source coordinate (x+½)·in/out; a kernel of support s·f (f = the reduction
// factor when antialiasing, else 1) around it covers the source pixels whose centres j+½ fall
// within, weighted by kernel((j+½−centre)/f) and normalised to sum 1.
func weights(in, out int, m ResizeMode) taps {
	t := taps{first: make([]int, out), w: make([][]float64, out)}
	scale := float64(in) / float64(out)
	if m.Filter == Nearest {
		for x := range out {
			t.first[x] = min(int((float64(x)+0.5)*scale), in-1)
			t.w[x] = []float64{1}
		}
		return t
	}
	k, support := m.Filter.kernel()
	fs := 1.0
	if m.Antialias && scale > 1 {
		fs = scale
	}
	support *= fs
	for x := range out {
		centre := (float64(x) + 0.5) * scale
		lo := max(int(centre-support+0.5), 0)
		hi := min(int(centre+support+0.5), in)
		w := make([]float64, max(hi-lo, 0))
		sum := 0.0
		for j := range w {
			w[j] = k((float64(lo+j) - centre + 0.5) / fs)
			sum += w[j]
		}
		if sum != 0 {
			for j := range w {
				w[j] /= sum
			}
		}
		t.first[x], t.w[x] = lo, w
	}
	return t
}

// resample resizes one sw×sh plane to dw×dh, horizontally then vertically, in float64.
func resample(src []float64, sw, sh, dw, dh int, m ResizeMode) []float64 {
	dst := make([]float64, dw*dh)
	resamplePlane(dst, src, make([]float64, dw*sh), sw, sh, dw, dh, weights(sw, dw, m), weights(sh, dh, m))
	return dst
}

// resamplePlane is resample with the taps computed and the buffers given: tmp holds dw×sh.
func resamplePlane(dst, src, tmp []float64, sw, sh, dw, dh int, xt, yt taps) {
	for y := range sh {
		row := src[y*sw : (y+1)*sw]
		for x := range dw {
			s := 0.0
			for j, w := range xt.w[x] {
				s += w * row[xt.first[x]+j]
			}
			tmp[y*dw+x] = s
		}
	}
	for y := range dh {
		out := dst[y*dw : (y+1)*dw]
		for j, w := range yt.w[y] {
			in := tmp[(yt.first[y]+j)*dw : (yt.first[y]+j+1)*dw]
			if j == 0 {
				for x := range out {
					out[x] = w * in[x]
				}
				continue
			}
			for x := range out {
				out[x] += w * in[x]
			}
		}
	}
}

// resize returns r resized to dw×dh, each value rounded half up and clamped to 0..255 as PIL
// stores its 8-bit results.
func (r raster) resize(dw, dh int, m ResizeMode) raster {
	if r.w == dw && r.h == dh {
		return r
	}
	out := newRaster(dw, dh)
	xt, yt := weights(r.w, dw, m), weights(r.h, dh, m)
	if m.Filter == Nearest {
		for c := range 3 {
			src, dst := r.pix[c*r.w*r.h:], out.pix[c*dw*dh:]
			for y := range dh {
				row := src[yt.first[y]*r.w:]
				for x := range dw {
					dst[y*dw+x] = row[xt.first[x]]
				}
			}
		}
		return out
	}
	plane := make([]float64, r.w*r.h)
	tmp := make([]float64, dw*r.h)
	res := make([]float64, dw*dh)
	for c := range 3 {
		for k, v := range r.pix[c*r.w*r.h : (c+1)*r.w*r.h] {
			plane[k] = float64(v)
		}
		resamplePlane(res, plane, tmp, r.w, r.h, dw, dh, xt, yt)
		for k, v := range res {
			out.pix[c*dw*dh+k] = byte(min(max(math.Floor(v+0.5), 0), 255))
		}
	}
	return out
}

// crop returns the 32×32 window of r at (x0, y0), which must lie inside r.
func (r raster) crop(x0, y0 int) raster {
	out := newRaster(Side, Side)
	for c := range 3 {
		for y := range Side {
			src := r.pix[c*r.w*r.h+(y0+y)*r.w+x0:]
			copy(out.pix[c*Side*Side+y*Side:(c*Side+y+1)*Side], src[:Side])
		}
	}
	return out
}
