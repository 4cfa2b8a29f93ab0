package report

import (
	"math"
	"slices"
	"strconv"
)

// Curve is a sequence of points (X[i], Y[i]).
type Curve struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// MarshalJSON writes {"x": […], "y": […]} with the coordinates rounded to 6 decimals, finer
// than any figure shows and than a rate of 9,000 images resolves (1/9000 ≈ 1.1e-4).
func (c Curve) MarshalJSON() ([]byte, error) {
	b := []byte(`{"x":`)
	b = appendRounded(b, c.X)
	b = append(b, `,"y":`...)
	b = appendRounded(b, c.Y)
	return append(b, '}'), nil
}

func appendRounded(b []byte, v []float64) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, math.Round(x*1e6)/1e6, 'f', -1, 64)
	}
	return append(b, ']')
}

// Len returns the number of points.
func (c Curve) Len() int { return len(c.X) }

// XY returns point i (for gonum's plotter.XYer).
func (c Curve) XY(i int) (float64, float64) { return c.X[i], c.Y[i] }

func (c *Curve) add(x, y float64) {
	c.X = append(c.X, x)
	c.Y = append(c.Y, y)
}

// Curves are the curves of one method, in-distribution positive, at every distinct threshold.
type Curves struct {
	// ROC: X = FPR (OOD accepted), Y = TPR (in-distribution accepted), from (0, 0) to (1, 1).
	ROC Curve `json:"roc"`
	// PRIn: X = recall, Y = precision with in-distribution positive, thresholds from high to low.
	PRIn Curve `json:"pr_in"`
	// PROut: the same with OOD positive, scored by −s.
	PROut Curve `json:"pr_out"`
	// Threshold95 is the threshold at 95% TPR: the highest score δ with #{in: s ≥ δ} ≥ 95% of the
	// in-distribution images, where package metrics reads FPR95.
	Threshold95 float64 `json:"threshold95"`
}

// ComputeCurves returns the ROC and precision–recall curves of scores in (in-distribution) and
// out (OOD), higher meaning more in-distribution. Every distinct score is a threshold, so the
// curves hold up to len(in)+len(out)+1 points; Thin reduces them for drawing.
func ComputeCurves(in, out []float64) Curves {
	a, b := slices.Clone(in), slices.Clone(out)
	slices.Sort(a)
	slices.Sort(b)
	np, nn := len(a), len(b)
	var c Curves
	c.Threshold95 = math.NaN()
	c.ROC.add(0, 0)
	i, j, tp, fp := np-1, nn-1, 0, 0
	for i >= 0 || j >= 0 {
		v := math.Inf(-1)
		if i >= 0 {
			v = a[i]
		}
		if j >= 0 {
			v = max(v, b[j])
		}
		for i >= 0 && a[i] == v {
			tp++
			i--
		}
		for j >= 0 && b[j] == v {
			fp++
			j--
		}
		tpr := float64(tp) / float64(np)
		c.ROC.add(float64(fp)/float64(nn), tpr)
		if tp > 0 {
			c.PRIn.add(tpr, float64(tp)/float64(tp+fp))
		}
		if math.IsNaN(c.Threshold95) && tpr >= 0.95 {
			c.Threshold95 = v
		}
	}
	// OOD positive: flagged when s ≤ v, thresholds from low to high.
	i, j, tp, fp = 0, 0, 0, 0
	for i < np || j < nn {
		v := math.Inf(1)
		if j < nn {
			v = b[j]
		}
		if i < np {
			v = min(v, a[i])
		}
		for j < nn && b[j] == v {
			tp++
			j++
		}
		for i < np && a[i] == v {
			fp++
			i++
		}
		if tp > 0 {
			c.PROut.add(float64(tp)/float64(nn), float64(tp)/float64(tp+fp))
		}
	}
	return c
}

// Thin keeps the first and last points of c and, in between, only points at least tol away from
// the last point kept in X or in Y, so that a curve of a monotone rate keeps at most about
// 2/tol points and no drawn detail larger than tol is lost.
func (c Curve) Thin(tol float64) Curve {
	if c.Len() <= 2 {
		return c
	}
	out := Curve{X: []float64{c.X[0]}, Y: []float64{c.Y[0]}}
	last := 0
	for k := 1; k < c.Len()-1; k++ {
		if math.Abs(c.X[k]-c.X[last]) >= tol || math.Abs(c.Y[k]-c.Y[last]) >= tol {
			out.add(c.X[k], c.Y[k])
			last = k
		}
	}
	out.add(c.X[c.Len()-1], c.Y[c.Len()-1])
	return out
}

// clipY returns the part of a curve with non-decreasing Y at or above y0, starting with the point
// where it crosses y0 (interpolated linearly).
func (c Curve) clipY(y0 float64) Curve {
	k := slices.IndexFunc(c.Y, func(y float64) bool { return y >= y0 })
	if k < 0 {
		return Curve{}
	}
	var out Curve
	if k > 0 && c.Y[k] > y0 {
		x0, x1, y1, y2 := c.X[k-1], c.X[k], c.Y[k-1], c.Y[k]
		out.add(x0+(y0-y1)/(y2-y1)*(x1-x0), y0)
	}
	out.X = append(out.X, c.X[k:]...)
	out.Y = append(out.Y, c.Y[k:]...)
	return out
}
