package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a tuning grid drawn as a heat map: Values[r][c] is the criterion at row value Rows[r]
// (drawn top to bottom) and column value Cols[c] (left to right).
type Grid struct {
	Name             string // file name of the figure; "" means "heatmap"
	Title            string
	RowName, ColName string // axis labels, e.g. "temperature T" and "magnitude ε"
	Rows, Cols       []float64
	Values           [][]float64
	HigherIsBetter   bool   // colours run from dark (worst) to bright (best)
	Best             [2]int // row and column of the chosen cell, framed in red
	Format           string // fmt verb of the cell labels; "" means "%.1f"
}

func (g *Grid) check() error {
	if len(g.Rows) == 0 || len(g.Cols) == 0 {
		return errors.New("report: heat map of an empty grid")
	}
	if len(g.Values) != len(g.Rows) {
		return fmt.Errorf("report: heat map has %d rows of values for %d row values", len(g.Values), len(g.Rows))
	}
	for r, v := range g.Values {
		if len(v) != len(g.Cols) {
			return fmt.Errorf("report: heat map row %d has %d values for %d columns", r, len(v), len(g.Cols))
		}
	}
	if g.Best[0] < 0 || g.Best[0] >= len(g.Rows) || g.Best[1] < 0 || g.Best[1] >= len(g.Cols) {
		return fmt.Errorf("report: best cell %v outside the %d × %d grid", g.Best, len(g.Rows), len(g.Cols))
	}
	return nil
}

// grid adapts Grid to plotter.GridXYZ on cell indices, row 0 at the top, and to the colour
// scale, where higher is always better.
type gridXYZ struct{ g *Grid }

func (x gridXYZ) Dims() (int, int) { return len(x.g.Cols), len(x.g.Rows) }
func (x gridXYZ) X(c int) float64  { return float64(c) }
func (x gridXYZ) Y(r int) float64  { return float64(r) }
func (x gridXYZ) Z(c, r int) float64 {
	v := x.g.Values[len(x.g.Rows)-1-r][c]
	if !x.g.HigherIsBetter {
		v = -v
	}
	return v
}

// viridis is a perceptually ordered scale from dark blue through teal and green to yellow that
// reads in grey too (the stops of matplotlib's viridis).
type viridis struct{}

func (viridis) Colors() []color.Color {
	stops := [][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}
	const n = 64
	cs := make([]color.Color, n)
	for k := range n {
		x := float64(k) / (n - 1) * float64(len(stops)-1)
		i := min(int(x), len(stops)-2)
		f := x - float64(i)
		var c [3]uint8
		for j := range 3 {
			c[j] = uint8(math.Round(stops[i][j] + f*(stops[i+1][j]-stops[i][j])))
		}
		cs[k] = color.RGBA{c[0], c[1], c[2], 255}
	}
	return cs
}

// HeatMap draws a tuning grid: every cell coloured from dark (worst) to bright (best) and
// labelled with its value, the chosen cell framed.
func HeatMap(g Grid) (Figure, error) {
	if err := g.check(); err != nil {
		return Figure{}, err
	}
	format := g.Format
	if format == "" {
		format = "%.1f"
	}
	nR, nC := len(g.Rows), len(g.Cols)
	xyz := gridXYZ{&g}
	hm := plotter.NewHeatMap(xyz, viridis{})
	if math.IsInf(hm.Min, 0) {
		return Figure{}, errors.New("report: heat map without a value")
	}
	if hm.Max <= hm.Min {
		hm.Min, hm.Max = hm.Min-1, hm.Max+1
	}
	p := newPlot(g.Title, g.ColName, g.RowName)
	p.Add(hm)
	var labels plotter.XYLabels
	var styles []text.Style
	pal := viridis{}.Colors()
	for r := range nR {
		for c := range nC {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(nR - 1 - r)})
			label := fmt.Sprintf(format, g.Values[r][c])
			if math.IsNaN(g.Values[r][c]) {
				label = ""
			}
			labels.Labels = append(labels.Labels, label)
			// Dark cells get white text.
			k := int((xyz.Z(c, nR-1-r) - hm.Min) / (hm.Max - hm.Min) * float64(len(pal)-1))
			fg := color.Color(color.White)
			if cr, cg, cb, _ := pal[min(max(k, 0), len(pal)-1)].RGBA(); 0.299*float64(cr>>8)+0.587*float64(cg>>8)+0.114*float64(cb>>8) > 140 {
				fg = color.Black
			}
			styles = append(styles, text.Style{Color: fg, Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.X.Tick.Label.Handler})
		}
	}
	for k := range styles {
		styles[k].Font.Size = vg.Points(7)
	}
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return Figure{}, err
	}
	lab.TextStyle = styles
	p.Add(lab)
	br, bc := float64(nR-1-g.Best[0]), float64(g.Best[1])
	frame := line(Curve{X: []float64{bc - 0.5, bc + 0.5, bc + 0.5, bc - 0.5, bc - 0.5}, Y: []float64{br - 0.5, br - 0.5, br + 0.5, br + 0.5, br - 0.5}},
		color.RGBA{220, 20, 20, 255}, vg.Points(2))
	p.Add(frame)
	p.X.Tick.Marker = indexTicks(g.Cols, nC > 12)
	p.Y.Tick.Marker = reversedTicks(g.Rows)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(nC)-0.5, -0.5, float64(nR)-0.5
	name := g.Name
	if name == "" {
		name = "heatmap"
	}
	return Figure{Name: name, Caption: g.Title + ": every cell of the grid, the chosen one framed in red.",
		Width:  vg.Length(nC)*0.42*vg.Inch + 1.3*vg.Inch,
		Height: vg.Length(nR)*0.26*vg.Inch + 1.2*vg.Inch,
		Draw:   plotFigure(p)}, nil
}

// indexTicks labels cell indices with their values, every other one if sparse.
func indexTicks(v []float64, sparse bool) plot.ConstantTicks {
	var ts plot.ConstantTicks
	for i, x := range v {
		t := plot.Tick{Value: float64(i)}
		if !sparse || i%2 == 0 {
			t.Label = strconv.FormatFloat(x, 'g', -1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

// reversedTicks labels rows drawn from the top: value v[0] at the highest index.
func reversedTicks(v []float64) plot.ConstantTicks {
	var ts plot.ConstantTicks
	for i, x := range v {
		ts = append(ts, plot.Tick{Value: float64(len(v) - 1 - i), Label: strconv.FormatFloat(x, 'g', -1, 64)})
	}
	return ts
}
