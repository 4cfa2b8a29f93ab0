package dataset

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestResizeByHand(t *testing.T) {
	row := []float64{0, 10, 20, 30}
	cases := []struct {
		m    ResizeMode
		in   []float64
		out  int
		want []float64
	}{
		// Nearest takes ⌊(x+½)·2⌋ = 1, 3.
		{ResizeMode{Nearest, false}, row, 2, []float64{10, 30}},
		{ResizeMode{Nearest, true}, row, 2, []float64{10, 30}},
		// Box at the source scale covers (centre−½, centre+½]: the right pixel of each pair.
		{ResizeMode{Box, false}, row, 2, []float64{10, 30}},
		{ResizeMode{Box, true}, row, 2, []float64{5, 25}},
		// Triangle at the source scale: centres 1 and 3, taps ½ on pixels 0,1 and 2,3.
		{ResizeMode{Bilinear, false}, row, 2, []float64{5, 25}},
		// Antialiased: triangle of radius 2 around 1: weights ¾,¾,¼ on 0,1,2 (pixel −1 is outside
		// and the weights are renormalised), so (0·¾+10·¾+20·¼)/1.75; and ¼,¾,¾ on 1,2,3.
		{ResizeMode{Bilinear, true}, row, 2, []float64{12.5 / 1.75, 40 / 1.75}},
		// Upscaling 2→4: centres ¼, ¾, 1¼, 1¾; at the ends only the inside pixel has weight.
		{ResizeMode{Bilinear, true}, []float64{0, 10}, 4, []float64{0, 2.5, 7.5, 10}},
		{ResizeMode{Nearest, false}, []float64{0, 10}, 4, []float64{0, 0, 10, 10}},
		// Bicubic (a=−½) 4→2 without antialias: taps at distances 1.5, .5, .5, 1.5 from centre 1
		// weigh −0.0625, 0.5625, 0.5625, −0.0625; pixels −1 and 4 are outside, so renormalise by
		// 1.0625.
		{ResizeMode{Bicubic, false}, row, 2, []float64{(0.5625*0 + 0.5625*10 - 0.0625*20) / 1.0625,
			(-0.0625*10 + 0.5625*20 + 0.5625*30) / 1.0625}},
	}
	for _, c := range cases {
		got := resample(c.in, len(c.in), 1, c.out, 1, c.m)
		for k := range got {
			if math.Abs(got[k]-c.want[k]) > 1e-12 {
				t.Errorf("%v %v→%d: %v, want %v", c.m, c.in, c.out, got, c.want)
				break
			}
		}
		// The same along the other axis.
		got = resample(c.in, 1, len(c.in), 1, c.out, c.m)
		for k := range got {
			if math.Abs(got[k]-c.want[k]) > 1e-12 {
				t.Errorf("%v vertical %v→%d: %v, want %v", c.m, c.in, c.out, got, c.want)
				break
			}
		}
	}
}

// TestResizeReference compares with torch's interpolate in float64 (to 1e-6) and PIL's 8-bit
// resize (to 1 level: PIL rounds to 8 bits between its two passes), from testdata/gen_fixtures.py.
// PIL also clips to 0..255 between the passes, so where the kernels with negative lobes (bicubic,
// lanczos) overshoot in the first pass, as they do when enlarging these random planes, PIL's
// result differs by more; those cases are left out.
func TestResizeReference(t *testing.T) {
	b, err := os.ReadFile("testdata/resize_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		SW, SH, DW, DH int
		Src            []float64
		Out            []struct {
			Ref       string
			Filter    string
			Antialias bool
			Want      []float64
		}
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range cases {
		for _, o := range c.Out {
			f, err := ParseFilter(o.Filter)
			if err != nil {
				t.Fatal(err)
			}
			m := ResizeMode{f, o.Antialias}
			if o.Ref == "pil" && (f == Bicubic || f == Lanczos) && (c.DW > c.SW || c.DH > c.SH) {
				continue
			}
			got := resample(c.Src, c.SW, c.SH, c.DW, c.DH, m)
			tol, worst := 1e-6, 0.0
			if o.Ref == "pil" {
				tol = 1
				for k, v := range got {
					got[k] = min(max(math.Floor(v+0.5), 0), 255)
				}
			}
			for k, v := range got {
				worst = max(worst, math.Abs(v-o.Want[k]))
			}
			if worst > tol {
				t.Errorf("%s %v %dx%d→%dx%d: off by %g", o.Ref, m, c.SW, c.SH, c.DW, c.DH, worst)
			}
			checked++
		}
	}
	if checked != 43 {
		t.Errorf("checked %d cases, want 43", checked)
	}
}

func TestRasterResizeAndCrop(t *testing.T) {
	r := newRaster(64, 48)
	for k := range r.pix {
		r.pix[k] = byte(k * 7 % 256)
	}
	// Nearest 64×48 → 32×32 takes column 2x+1 and row ⌊(y+½)·1.5⌋.
	s := r.resize(Side, Side, ResizeMode{Filter: Nearest})
	for c := range 3 {
		for y := range Side {
			for x := range Side {
				sy := int((float64(y) + 0.5) * 1.5)
				if got, want := s.pix[c*1024+y*32+x], r.pix[c*64*48+sy*64+2*x+1]; got != want {
					t.Fatalf("nearest channel %d (%d,%d): %d, want %d", c, x, y, got, want)
				}
			}
		}
	}
	// Rounding half up and clamping: Lanczos rings on a step edge.
	e := newRaster(4, 1)
	copy(e.pix, []byte{0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255})
	m := ResizeMode{Filter: Lanczos}
	up := e.resize(8, 1, m)
	f := resample([]float64{0, 0, 255, 255}, 4, 1, 8, 1, m)
	clamped := 0
	for k, v := range f {
		want := byte(min(max(math.Floor(v+0.5), 0), 255))
		if v < 0 || v > 255 {
			clamped++
		}
		if up.pix[k] != want || up.pix[8+k] != want || up.pix[16+k] != want {
			t.Errorf("lanczos value %d: %d, want %d (from %g)", k, up.pix[k], want, v)
		}
	}
	if clamped == 0 {
		t.Errorf("no overshoot to clamp in %v", f)
	}
	c := r.crop(5, 9)
	for ch := range 3 {
		for y := range Side {
			for x := range Side {
				if c.pix[ch*1024+y*32+x] != r.pix[ch*64*48+(y+9)*64+x+5] {
					t.Fatalf("crop channel %d (%d,%d)", ch, x, y)
				}
			}
		}
	}
}

func TestParseFilter(t *testing.T) {
	for f := Nearest; f <= Lanczos; f++ {
		if g, err := ParseFilter(f.String()); err != nil || g != f {
			t.Errorf("%v: %v %v", f, g, err)
		}
	}
	if _, err := ParseFilter("hamming"); err == nil || err.Error() != `unknown filter "hamming" (valid: nearest, box, bilinear, bicubic, lanczos)` {
		t.Errorf("hamming: %v", err)
	}
}
