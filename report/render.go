package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of the PNG figures.
const DPI = 120

// SVG renders the figure as a standalone SVG document. Text is set in Liberation Sans, with
// Arial, Helvetica and the browser's sans-serif as fallbacks where that font is not installed.
func (f Figure) SVG() (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // gonum's plotters panic on some degenerate input
			err = fmt.Errorf("report: drawing %s: %v", f.Name, r)
		}
	}()
	c := vgsvg.New(f.Width, f.Height)
	f.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return fontFallback(buf.Bytes()), nil
}

// PNG renders the figure at DPI dots per inch. Fonts are gonum's embedded Liberation fonts, so
// the pixels do not depend on the machine's fonts.
func (f Figure) PNG() (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("report: drawing %s: %v", f.Name, r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI))
	f.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var fontFamily = regexp.MustCompile(`font-family:Liberation (Sans|Serif|Mono);`)

func fontFallback(svg []byte) []byte {
	return fontFamily.ReplaceAllFunc(svg, func(m []byte) []byte {
		switch {
		case bytes.Contains(m, []byte("Sans")):
			return []byte(`font-family:'Liberation Sans',Arial,Helvetica,sans-serif;`)
		case bytes.Contains(m, []byte("Serif")):
			return []byte(`font-family:'Liberation Serif','Times New Roman',serif;`)
		}
		return []byte(`font-family:'Liberation Mono','Courier New',monospace;`)
	})
}

var (
	xmlProlog  = regexp.MustCompile(`^<\?xml[^>]*\?>\s*(<!--[^>]*-->\s*)?`)
	namespaces = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)
)

// inlineSVG turns a standalone SVG document into an element for an HTML page: the XML prolog
// goes, and so do the namespace declarations, which HTML's parser implies for an inline <svg> and
// which would be the page's only "http" text. The fixed width and height give way to the view
// box so that the figure scales with the page.
func inlineSVG(svg []byte, title string) string {
	s := xmlProlog.ReplaceAllString(string(svg), "")
	s = namespaces.ReplaceAllString(s, "")
	s = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`).ReplaceAllString(s,
		`<svg role="img" aria-label="`+strings.NewReplacer(`"`, "&quot;", "<", "&lt;", "&", "&amp;").Replace(title)+`"`)
	return s
}
