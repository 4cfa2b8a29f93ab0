package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// Construction says how an OOD set is made from its raw source images: the resize filter (for the
// resized sets; the cropped sets always take a seeded random 32×32 crop) and the file format.
type Construction struct {
	// Name is "seed", "clean", or for any other combination its label, e.g. "bicubic-aa-png".
	Name      string
	Filter    Filter
	Antialias bool
	// JPEGQuality is the image/jpeg quality (1..100) the images are saved at; 0 saves PNG.
	JPEGQuality int
	// About says what the construction is for.
	About string
}

// Constructions returns the named constructions: seed and clean.
func Constructions() []Construction {
	return []Construction{
		{
			Name: "seed", Filter: Nearest, JPEGQuality: 75,
			About: "non-antialiased nearest-neighbour resize (PIL's pixel choice), saved as JPEG at quality " +
				"75; reproduces the seed's archives: densenet10's FPR95 about 44% (baseline) / 9% (ODIN) on " +
				"Imagenet_resize, against the paper's 40.8% / 7.5%",
		},
		{
			Name: "clean", Filter: Bilinear, Antialias: true, JPEGQuality: 0,
			About: "antialiased bilinear resize, saved as lossless PNG; FPR95 about 59% / 49%: most of " +
				"ODIN's published gain on the resized sets comes from the aliasing of the seed construction",
		},
	}
}

// Label returns the construction's name if it matches a named construction, else its
// parameters as "<filter>[-aa]-png" or "<filter>[-aa]-q<quality>".
func (c Construction) Label() string {
	for _, n := range Constructions() {
		if c.same(n) {
			return n.Name
		}
	}
	s := c.Filter.String()
	if c.Antialias && c.Filter != Nearest {
		s += "-aa"
	}
	if c.JPEGQuality == 0 {
		return s + "-png"
	}
	return s + "-q" + strconv.Itoa(c.JPEGQuality)
}

func (c Construction) same(o Construction) bool {
	aa := func(c Construction) bool { return c.Antialias && c.Filter != Nearest }
	return c.Filter == o.Filter && aa(c) == aa(o) && c.JPEGQuality == o.JPEGQuality
}

// NewConstruction returns the construction with the given parameters, named as Label says.
func NewConstruction(f Filter, antialias bool, jpegQuality int) (Construction, error) {
	if f < Nearest || f > Lanczos {
		return Construction{}, fmt.Errorf("construction: unknown filter %v", f)
	}
	if jpegQuality < 0 || jpegQuality > 100 {
		return Construction{}, fmt.Errorf("construction: JPEG quality %d outside 1..100 (0 for PNG)", jpegQuality)
	}
	c := Construction{Filter: f, Antialias: antialias && f != Nearest, JPEGQuality: jpegQuality}
	c.Name = c.Label()
	for _, n := range Constructions() {
		if n.Name == c.Name {
			return n, nil
		}
	}
	return c, nil
}

// ParseConstruction parses a construction name ("seed", "clean") or label (see Label). The empty
// string means "seed".
func ParseConstruction(s string) (Construction, error) {
	if s == "" {
		s = "seed"
	}
	for _, c := range Constructions() {
		if c.Name == s {
			return c, nil
		}
	}
	bad := fmt.Errorf("unknown construction %q (valid: seed, clean, or <filter>[-aa]-png or <filter>[-aa]-q<quality>)", s)
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 3 {
		return Construction{}, bad
	}
	f, err := ParseFilter(parts[0])
	if err != nil {
		return Construction{}, bad
	}
	aa := len(parts) == 3
	if aa && (parts[1] != "aa" || f == Nearest) {
		return Construction{}, bad
	}
	q := 0
	switch last := parts[len(parts)-1]; {
	case last == "png":
	case strings.HasPrefix(last, "q"):
		q, err = strconv.Atoi(last[1:])
		if err != nil || q < 1 || q > 100 {
			return Construction{}, bad
		}
	default:
		return Construction{}, bad
	}
	c, err := NewConstruction(f, aa, q)
	if err != nil {
		return Construction{}, bad
	}
	return c, nil
}
