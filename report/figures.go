package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one drawing of a report: a name (the file name without extension), the caption
// shown under it, its size, and a function that draws it on a canvas of that size.
type Figure struct {
	Name    string
	Caption string
	Width   vg.Length
	Height  vg.Length
	Draw    func(draw.Canvas)
}

// palette10 is a qualitative palette of ten colours that stay apart for common colour vision
// deficiencies (Okabe–Ito's eight plus two).
var palette10 = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{240, 228, 66, 255},  // yellow
	{128, 128, 128, 255}, // grey
	{140, 86, 75, 255},   // brown
}

func methodColor(i int) color.RGBA { return palette10[i%len(palette10)] }

func withAlpha(c color.RGBA, a uint8) color.NRGBA { return color.NRGBA{c.R, c.G, c.B, a} }

// newPlot returns a plot whose texts use the embedded Liberation Sans.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	// Per plot, not through plot.DefaultFont: a package variable would change other users' plots.
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.TextStyle.Font.Size = vg.Points(10)
	p.Y.Label.TextStyle.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Title.Padding = vg.Points(6)
	return p
}

// drawTolerance is the step Thin keeps in the full-range curves drawn: 1.4 pixels of a 700-pixel
// axis.
const drawTolerance = 0.002

// steps returns ticks every step from lo to hi, labelled every label-th one.
func steps(lo, hi, step float64, label int, format string) plot.ConstantTicks {
	var ts plot.ConstantTicks
	n := int(math.Round((hi - lo) / step))
	for k := 0; k <= n; k++ {
		t := plot.Tick{Value: lo + float64(k)*step}
		if k%label == 0 {
			t.Label = fmt.Sprintf(format, t.Value)
		}
		ts = append(ts, t)
	}
	return ts
}

// lightGrid is a grid of thin grey lines at the major ticks.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = color.Gray{225}, color.Gray{225}
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	return g
}

func line(c Curve, col color.Color, width vg.Length, dashes ...vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{}}
	l.XYs = make(plotter.XYs, c.Len())
	for i := range c.X {
		l.XYs[i] = plotter.XY{X: c.X[i], Y: c.Y[i]}
	}
	l.LineStyle = draw.LineStyle{Color: col, Width: width, Dashes: dashes}
	return l
}

func plotFigure(p *plot.Plot) func(draw.Canvas) { return p.Draw }

// headlineFigure is the ODIN paper's headline figure: the ROC curves of a baseline and a
// detector zoomed to TPR 0.80–1.00, FPR on the x axis, the area between the curves shaded and a
// dashed line at TPR 0.95.
func headlineFigure(base, det *MethodReport, inName, outName string) Figure {
	p := newPlot(headlineCaption(base, det), "FPR on out-of-distribution images ("+outName+")", "TPR on in-distribution images ("+inName+")")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0.8, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = steps(0, 1, 0.1, 1, "%.1f"), steps(0.8, 1, 0.025, 2, "%.2f")
	p.Add(lightGrid())
	bc, dc := base.full.ROC.clipY(0.8).Thin(0.0005), det.full.ROC.clipY(0.8).Thin(0.0005)
	if bc.Len() > 0 && dc.Len() > 0 {
		// The region between the curves: the detector's curve upwards, the baseline's back down.
		poly := make(plotter.XYs, 0, bc.Len()+dc.Len())
		for i := range dc.X {
			poly = append(poly, plotter.XY{X: dc.X[i], Y: dc.Y[i]})
		}
		for i := bc.Len() - 1; i >= 0; i-- {
			poly = append(poly, plotter.XY{X: bc.X[i], Y: bc.Y[i]})
		}
		shade, _ := plotter.NewPolygon(poly)
		shade.Color = color.NRGBA{0, 158, 115, 60}
		shade.LineStyle.Width = 0
		p.Add(shade)
	}
	guide := line(Curve{X: []float64{0, 1}, Y: []float64{0.95, 0.95}}, color.Gray{100}, vg.Points(1), vg.Points(5), vg.Points(4))
	p.Add(guide)
	bl, dl := line(bc, methodColor(0), vg.Points(2)), line(dc, methodColor(1), vg.Points(2))
	p.Add(bl, dl)
	for k, m := range []*MethodReport{base, det} {
		pt, _ := plotter.NewScatter(plotter.XYs{{X: m.Point.FPR95, Y: 0.95}})
		pt.GlyphStyle = draw.GlyphStyle{Color: methodColor(k), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		p.Add(pt)
	}
	p.Legend.Add(base.Label, bl)
	p.Legend.Add(det.Label, dl)
	p.Legend.Add("TPR = 95%", guide)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	return Figure{Name: "headline", Caption: headlineCaption(base, det) + fmt.Sprintf(
		" (%s against %s; shaded: the area between the ROC curves at TPR 0.80–1.00)", det.Label, base.Label),
		Width: 6 * vg.Inch, Height: 4.5 * vg.Inch, Draw: plotFigure(p)}
}

// headlineCaption is the ODIN paper's caption, with our numbers.
func headlineCaption(base, det *MethodReport) string {
	verb := "reduced"
	if det.Point.FPR95 > base.Point.FPR95 {
		verb = "increased"
	}
	return fmt.Sprintf("FPR at 95%% TPR %s from %.1f%% to %.1f%%", verb, 100*base.Point.FPR95, 100*det.Point.FPR95)
}

// rocFigure draws every method's full ROC curve.
func rocFigure(ms []*MethodReport, inName, outName string) Figure {
	p := newPlot("ROC curves", "FPR on out-of-distribution images ("+outName+")", "TPR on in-distribution images ("+inName+")")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = steps(0, 1, 0.1, 1, "%.1f"), steps(0, 1, 0.1, 1, "%.1f")
	p.Add(lightGrid())
	p.Add(line(Curve{X: []float64{0, 1}, Y: []float64{0, 1}}, color.Gray{160}, vg.Points(0.8), vg.Points(3), vg.Points(3)))
	for i, m := range ms {
		l := line(m.full.ROC.Thin(drawTolerance), methodColor(i), vg.Points(1.5))
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUROC %.1f%%)", m.Label, 100*m.Point.AUROC), l)
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	return Figure{Name: "roc", Caption: "ROC curves of every method: every distinct score is a threshold.",
		Width: 6 * vg.Inch, Height: 5 * vg.Inch, Draw: plotFigure(p)}
}

// prFigure draws the precision–recall curves with in-distribution (out false) or OOD (out true)
// positive, as steps: the area under the steps is the average precision.
func prFigure(ms []*MethodReport, outPositive bool) Figure {
	name, title, recall := "pr-in", "Precision–recall, in-distribution positive", "in-distribution images accepted"
	if outPositive {
		name, title, recall = "pr-out", "Precision–recall, out-of-distribution positive", "out-of-distribution images flagged"
	}
	p := newPlot(title, "Recall ("+recall+")", "Precision")
	p.X.Min, p.X.Max = 0, 1
	p.Y.Max = 1
	p.Add(lightGrid())
	lo := 1.0
	for i, m := range ms {
		c, ap := m.full.PRIn.Thin(drawTolerance), m.Point.AUPRIn
		if outPositive {
			c, ap = m.full.PROut.Thin(drawTolerance), m.Point.AUPROut
		}
		if c.Len() == 0 {
			continue
		}
		c = Curve{X: append([]float64{0}, c.X...), Y: append([]float64{c.Y[0]}, c.Y...)}
		lo = min(lo, slices.Min(c.Y))
		l := line(c, methodColor(i), vg.Points(1.5))
		l.StepStyle = plotter.PreStep
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUPR %.1f%%)", m.Label, 100*ap), l)
	}
	p.Y.Min = math.Floor(lo*20) / 20
	p.X.Tick.Marker = steps(0, 1, 0.1, 1, "%.1f")
	p.Y.Tick.Marker = steps(p.Y.Min, 1, 0.05, 1, "%.2f")
	if p.Y.Min < 0.5 {
		p.Y.Tick.Marker = steps(p.Y.Min, 1, 0.05, 2, "%.2f")
	}
	p.Legend.Top, p.Legend.Left = false, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(8)
	return Figure{Name: name, Caption: title + ": precision against recall at every threshold; the area under the steps is the average precision (AUPR).",
		Width: 6 * vg.Inch, Height: 5 * vg.Inch, Draw: plotFigure(p)}
}

// histogramBins is the number of bins of the score histograms.
const histogramBins = 60

// histogramFigure draws the in-distribution and OOD score distributions of one method, as the
// fraction of each set's images per bin, over the 0.5–99.5% range of all its scores (scores
// outside fall in the end bins), with the threshold at 95% TPR.
func histogramFigure(m *MethodReport, inName, outName string) Figure {
	var all []float64 // the finite scores; infinite ones fall in the end bins
	for _, x := range append(slices.Clone(m.in), m.out...) {
		if !math.IsInf(x, 0) {
			all = append(all, x)
		}
	}
	slices.Sort(all)
	lo, hi := -0.5, 0.5
	if len(all) > 0 {
		lo, hi = all[int(0.005*float64(len(all)-1))], all[int(math.Ceil(0.995*float64(len(all)-1)))]
		if !(hi > lo) {
			lo, hi = all[0]-0.5, all[0]+0.5
		}
	}
	p := newPlot(fmt.Sprintf("%s: scores", m.Label), "score (higher = more in-distribution)", "fraction of images per bin")
	w := (hi - lo) / histogramBins
	hist := func(v []float64) Curve {
		counts := make([]float64, histogramBins)
		for _, x := range v {
			// Clamp before converting: an infinite quotient has no int value.
			counts[int(min(max((x-lo)/w, 0), histogramBins-1))]++
		}
		var c Curve
		c.add(lo, 0)
		for b, n := range counts {
			c.add(lo+float64(b)*w, n/float64(len(v)))
			c.add(lo+float64(b+1)*w, n/float64(len(v)))
		}
		c.add(hi, 0)
		return c
	}
	ymax := 0.0
	for k, set := range [][]float64{m.in, m.out} {
		c := hist(set)
		ymax = max(ymax, slices.Max(c.Y))
		col := []color.RGBA{{0, 114, 178, 255}, {213, 94, 0, 255}}[k]
		l := line(c, col, vg.Points(1.2))
		l.FillColor = withAlpha(col, 70)
		p.Add(l)
		p.Legend.Add([]string{"in-distribution (" + inName + ")", "out-of-distribution (" + outName + ")"}[k], l)
	}
	if th := m.Curves.Threshold95; th >= lo && th <= hi {
		t := line(Curve{X: []float64{th, th}, Y: []float64{0, 1.05 * ymax}}, color.Black, vg.Points(1.2), vg.Points(5), vg.Points(3))
		p.Add(t)
		p.Legend.Add(fmt.Sprintf("threshold at 95%% TPR (FPR %.1f%%)", 100*m.Point.FPR95), t)
	}
	p.Y.Min, p.Y.Max = 0, 1.35*ymax
	p.X.Min, p.X.Max = lo, hi
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), -vg.Points(4)
	return Figure{Name: "hist-" + fileName(m.Name),
		Caption: fmt.Sprintf("%s: score histograms, in-distribution against OOD, as the fraction of each set per bin (%d bins over the 0.5–99.5%% range of all scores; scores outside it are counted in the end bins); dashed: the threshold at 95%% TPR.", m.Label, histogramBins),
		Width:   6 * vg.Inch, Height: 3.6 * vg.Inch, Draw: plotFigure(p)}
}

// compareFigure draws AUROC and FPR95 per method with their confidence intervals, side by side.
func compareFigure(ms []*MethodReport, level float64) Figure {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[len(ms)-1-i] = m.Label // the first method on top
	}
	panel := func(title string, get func(*MethodReport) [3]float64) *plot.Plot {
		p := newPlot(title, "percent", "")
		pts := make(errorPoints, len(ms))
		for i, m := range ms {
			v := get(m)
			pts[len(ms)-1-i] = errorPoint{x: 100 * v[0], y: float64(len(ms) - 1 - i), lo: 100 * (v[0] - v[1]), hi: 100 * (v[2] - v[0])}
		}
		bars, _ := plotter.NewXErrorBars(pts)
		bars.LineStyle.Width = vg.Points(1.5)
		bars.CapWidth = vg.Points(5)
		sc, _ := plotter.NewScatter(pts)
		sc.GlyphStyle = draw.GlyphStyle{Color: methodColor(0), Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(plotter.NewGrid(), bars, sc)
		p.NominalY(names...)
		return p
	}
	auroc := panel(fmt.Sprintf("AUROC with %g%% interval (higher is better)", 100*level),
		func(m *MethodReport) [3]float64 { return [3]float64{m.CI.AUROC.Value, m.CI.AUROC.Low, m.CI.AUROC.High} })
	fpr := panel(fmt.Sprintf("FPR at 95%% TPR with %g%% interval (lower is better)", 100*level),
		func(m *MethodReport) [3]float64 { return [3]float64{m.CI.FPR95.Value, m.CI.FPR95.Low, m.CI.FPR95.High} })
	fpr.Y.Tick.Label.Color = color.Transparent
	plots := [][]*plot.Plot{{auroc, fpr}}
	h := vg.Length(len(ms))*0.32*vg.Inch + 1.1*vg.Inch
	return Figure{Name: "compare",
		Caption: fmt.Sprintf("AUROC and FPR at 95%% TPR per method, with %g%% stratified-bootstrap percentile intervals.", 100*level),
		Width:   9 * vg.Inch, Height: h,
		Draw: func(c draw.Canvas) {
			t := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
			c.SetColor(color.White)
			c.Fill(c.Rectangle.Path())
			canvases := plot.Align(plots, t, c)
			auroc.Draw(canvases[0][0])
			fpr.Draw(canvases[0][1])
		}}
}

type errorPoint struct{ x, y, lo, hi float64 }

type errorPoints []errorPoint

func (e errorPoints) Len() int                        { return len(e) }
func (e errorPoints) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errorPoints) XError(i int) (float64, float64) { return e[i].lo, e[i].hi }
