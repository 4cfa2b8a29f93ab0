package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odin-ood/odin/metrics"
)

// Method is one detector's scores of the same images as every other method of an Input: In[i]
// of in-distribution image i, Out[j] of OOD image j, higher meaning more in-distribution.
type Method struct {
	Name    string
	In, Out []float64
}

// Input is what a report is made from.
type Input struct {
	Title   string // e.g. "densenet10: CIFAR-10 against Tiny-ImageNet (crop)"; "" makes one up
	InName  string // display names of the two sets
	OutName string
	Methods []Method
	// Baseline and Detector name the two methods of the headline figure; "" means the method
	// named "baseline" or "msp", and "odin". Without both, there is no headline figure.
	Baseline, Detector string
	// Command is the command line that made the report, shown verbatim.
	Command string
	// Params are further facts shown in a table: network, temperature, magnitude, score files.
	Params [][2]string
	// Checkpoint is the network checkpoint's digest ("sha256:…"), or "" if unknown.
	Checkpoint string
	// Bootstrap configures the confidence intervals (in-distribution is always positive here).
	Bootstrap metrics.BootstrapOptions
	// Grids are tuning grids to draw as heat maps.
	Grids []Grid
}

// MethodReport is one method's metrics, intervals and curves.
type MethodReport struct {
	Name  string
	Label string // display name
	Point metrics.Result
	CI    metrics.ResultCI
	// Curves are thinned for drawing and for report.json (steps of at least 0.001).
	Curves Curves

	full    Curves // every threshold
	in, out []float64
}

// Paired is the paired interval of one method's metrics minus another's on the same resamples.
type Paired struct {
	Method, Against string
	Diff            metrics.ResultCI
}

// Report is a computed report: what Write writes.
type Report struct {
	Input
	CountIn, CountOut int
	Methods           []*MethodReport
	// Headline indexes the baseline and detector of the headline figure in Methods, or is
	// [-1, -1].
	Headline [2]int
	// Paired holds every method against the baseline (if there is one) and against the
	// detector.
	Paired  []Paired
	Figures []Figure
}

// curveTolerance is the step Thin keeps in the report's curves.
const curveTolerance = 0.001

var displayLabels = map[string]string{"baseline": "MSP (baseline)", "msp": "MSP (baseline)", "odin": "ODIN"}

// Label is the display name of a method: "MSP (baseline)" for the score column baseline or msp,
// "ODIN" for odin, else the name itself.
func Label(name string) string {
	if l, ok := displayLabels[name]; ok {
		return l
	}
	return name
}

// Build computes the metrics, the bootstrap intervals, the curves and the figures.
func Build(ctx context.Context, in Input) (*Report, error) {
	if len(in.Methods) == 0 {
		return nil, errors.New("report: no methods")
	}
	seen := map[string]bool{}
	ins, outs := make([][]float64, len(in.Methods)), make([][]float64, len(in.Methods))
	for i, m := range in.Methods {
		if seen[m.Name] || m.Name == "" {
			return nil, fmt.Errorf("report: method name %q empty or repeated", m.Name)
		}
		seen[m.Name] = true
		ins[i], outs[i] = m.In, m.Out
	}
	if in.InName == "" {
		in.InName = "in-distribution"
	}
	if in.OutName == "" {
		in.OutName = "out-of-distribution"
	}
	if in.Title == "" {
		in.Title = in.InName + " against " + in.OutName
	}
	opt := in.Bootstrap
	opt.Positive = metrics.In
	iv, err := metrics.Bootstrap(ctx, ins, outs, opt)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	in.Bootstrap.Resamples, in.Bootstrap.Level = iv.Resamples, iv.Level
	r := &Report{Input: in, CountIn: len(ins[0]), CountOut: len(outs[0]), Headline: [2]int{-1, -1}}
	for i, m := range in.Methods {
		full := ComputeCurves(m.In, m.Out)
		r.Methods = append(r.Methods, &MethodReport{
			Name: m.Name, Label: Label(m.Name), Point: iv.Methods[i].Point(), CI: iv.Methods[i],
			Curves: Curves{ROC: full.ROC.Thin(curveTolerance), PRIn: full.PRIn.Thin(curveTolerance),
				PROut: full.PROut.Thin(curveTolerance), Threshold95: full.Threshold95},
			full: full, in: m.In, out: m.Out,
		})
	}
	if r.Headline, err = headlinePair(in, r.Methods); err != nil {
		return nil, err
	}
	if err := r.pair(iv); err != nil {
		return nil, err
	}
	if err := r.figures(); err != nil {
		return nil, err
	}
	return r, nil
}

// pair fills Paired: every method against the headline's baseline and detector.
func (r *Report) pair(iv *metrics.Intervals) error {
	for _, ref := range r.Headline {
		if ref < 0 {
			continue
		}
		for i := range r.Methods {
			if i == ref || slices.ContainsFunc(r.Paired, func(p Paired) bool { return p.Method == r.Methods[ref].Name && p.Against == r.Methods[i].Name }) {
				continue // itself, or the reverse of a pair already there
			}
			d, err := iv.Diff(i, ref)
			if err != nil {
				return err
			}
			r.Paired = append(r.Paired, Paired{Method: r.Methods[i].Name, Against: r.Methods[ref].Name, Diff: d})
		}
	}
	return nil
}

// headlinePair finds the headline's baseline and detector, [-1, -1] if there are not two. A
// method named in Input that is not there is an error.
func headlinePair(in Input, ms []*MethodReport) ([2]int, error) {
	find := func(names ...string) int {
		for _, n := range names {
			if i := slices.IndexFunc(ms, func(m *MethodReport) bool { return m.Name == n }); i >= 0 {
				return i
			}
		}
		return -1
	}
	base, det := find("baseline", "msp"), find("odin")
	if in.Baseline != "" {
		if base = find(in.Baseline); base < 0 {
			return [2]int{}, fmt.Errorf("report: no method %q for the headline's baseline", in.Baseline)
		}
	}
	if in.Detector != "" {
		if det = find(in.Detector); det < 0 {
			return [2]int{}, fmt.Errorf("report: no method %q for the headline's detector", in.Detector)
		}
	}
	if base < 0 || det < 0 || base == det {
		return [2]int{-1, -1}, nil
	}
	return [2]int{base, det}, nil
}

func (r *Report) figures() error {
	if h := r.Headline; h[0] >= 0 {
		r.Figures = append(r.Figures, headlineFigure(r.Methods[h[0]], r.Methods[h[1]], r.InName, r.OutName))
	}
	r.Figures = append(r.Figures, compareFigure(r.Methods, r.Bootstrap.Level), rocFigure(r.Methods, r.InName, r.OutName),
		prFigure(r.Methods, false), prFigure(r.Methods, true))
	for _, m := range r.Methods {
		r.Figures = append(r.Figures, histogramFigure(m, r.InName, r.OutName))
	}
	for _, g := range r.Grids {
		f, err := HeatMap(g)
		if err != nil {
			return err
		}
		r.Figures = append(r.Figures, f)
	}
	// Names are file names: methods "a/b" and "a_b", or two grids, must not share one.
	used := map[string]int{}
	for i := range r.Figures {
		f := &r.Figures[i]
		if used[f.Name]++; used[f.Name] > 1 {
			f.Name = fmt.Sprintf("%s-%d", f.Name, used[f.Name])
		}
	}
	return nil
}

// Write builds the report and writes it into dir (created if missing): index.html (figures
// inline, no scripts, no external references), report.md, report.json, and every figure as
// figures/NAME.svg and figures/NAME.png.
func Write(ctx context.Context, dir string, in Input) (*Report, error) {
	r, err := Build(ctx, in)
	if err != nil {
		return nil, err
	}
	return r, r.WriteDir(ctx, dir)
}

// WriteDir writes a built report into dir.
func (r *Report) WriteDir(ctx context.Context, dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "figures"), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	svgs := make(map[string][]byte, len(r.Figures))
	for _, f := range r.Figures {
		if err := ctx.Err(); err != nil {
			return err
		}
		svg, err := f.SVG()
		if err != nil {
			return err
		}
		png, err := f.PNG()
		if err != nil {
			return err
		}
		svgs[f.Name] = svg
		base := filepath.Join(dir, "figures", f.Name)
		if err := writeFile(base+".svg", svg); err != nil {
			return err
		}
		if err := writeFile(base+".png", png); err != nil {
			return err
		}
	}
	page, err := r.HTML(svgs)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "index.html"), page); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "report.md"), r.Markdown()); err != nil {
		return err
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "report.json"), js)
}

func writeFile(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// fileName makes a method name safe as a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
