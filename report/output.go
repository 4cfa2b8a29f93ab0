package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/odin-ood/odin/metrics"
)

// ciMethod names how the intervals are computed, for every output.
const ciMethod = "stratified bootstrap (in-distribution and OOD images resampled separately), percentile intervals"

type jsonMethod struct {
	Name        string            `json:"name"`
	Label       string            `json:"label"`
	Metrics     metrics.Percent   `json:"metrics"`
	CI          metrics.PercentCI `json:"ci"`
	Threshold95 *float64          `json:"threshold95"` // null when infinite
	ROC         Curve             `json:"roc"`
	PRIn        Curve             `json:"pr_in"`
	PROut       Curve             `json:"pr_out"`
}

type jsonPaired struct {
	Method  string            `json:"method"`
	Against string            `json:"against"`
	Diff    metrics.PercentCI `json:"diff"`
}

type jsonFigure struct {
	Name    string `json:"name"`
	Caption string `json:"caption"`
	SVG     string `json:"svg"`
	PNG     string `json:"png"`
}

// JSON returns report.json: the run, every method's metrics (percent, the keys of odin metrics
// --json), intervals ({"value", "ci_low", "ci_high"}), threshold at 95% TPR and curves, the
// paired differences and the figure files. Curves are thinned to steps of at least 0.001 in
// either coordinate and rounded to 6 decimals: roc has x = FPR and y = TPR, pr_in and pr_out
// x = recall and y = precision.
func (r *Report) JSON() ([]byte, error) {
	obj := struct {
		Title      string            `json:"title"`
		Command    string            `json:"command"`
		Params     map[string]string `json:"params"`
		Checkpoint string            `json:"checkpoint,omitempty"`
		InDataset  string            `json:"in_dataset"`
		OutDataset string            `json:"out_dataset"`
		CountIn    int               `json:"count_in"`
		CountOut   int               `json:"count_out"`
		Bootstrap  map[string]any    `json:"bootstrap"`
		Headline   map[string]string `json:"headline,omitempty"`
		Methods    []jsonMethod      `json:"methods"`
		Paired     []jsonPaired      `json:"paired"`
		Figures    []jsonFigure      `json:"figures"`
	}{
		Title: r.Title, Command: r.Command, Params: map[string]string{}, Checkpoint: r.Checkpoint,
		InDataset: r.InName, OutDataset: r.OutName, CountIn: r.CountIn, CountOut: r.CountOut,
		Bootstrap: map[string]any{"resamples": r.Bootstrap.Resamples, "level": r.Bootstrap.Level, "seed": r.Bootstrap.Seed, "method": ciMethod},
		Paired:    []jsonPaired{},
	}
	for _, p := range r.Params {
		obj.Params[p[0]] = p[1]
	}
	if h := r.Headline; h[0] >= 0 {
		obj.Headline = map[string]string{"baseline": r.Methods[h[0]].Name, "detector": r.Methods[h[1]].Name,
			"caption": headlineCaption(r.Methods[h[0]], r.Methods[h[1]])}
	}
	for _, m := range r.Methods {
		var th *float64
		if t := m.Curves.Threshold95; !math.IsInf(t, 0) && !math.IsNaN(t) {
			th = &t
		}
		obj.Methods = append(obj.Methods, jsonMethod{m.Name, m.Label, m.Point.Percent(), m.CI.Percent(),
			th, m.Curves.ROC, m.Curves.PRIn, m.Curves.PROut})
	}
	for _, p := range r.Paired {
		obj.Paired = append(obj.Paired, jsonPaired{p.Method, p.Against, p.Diff.Percent()})
	}
	for _, f := range r.Figures {
		obj.Figures = append(obj.Figures, jsonFigure{f.Name, f.Caption, "figures/" + f.Name + ".svg", "figures/" + f.Name + ".png"})
	}
	b, err := json.Marshal(obj)
	return append(b, '\n'), err
}

// metricNames are the table's column heads, in Result order.
var metricNames = [5]string{"FPR95 ↓", "det. err. ↓", "AUROC ↑", "AUPR in ↑", "AUPR out ↑"}

func ciCells(r metrics.ResultCI) [5]string {
	p := r.Percent()
	return [5]string{p.FPR95.String(), p.DetErr.String(), p.AUROC.String(), p.AUPRIn.String(), p.AUPROut.String()}
}

func diffCells(r metrics.ResultCI) [5]string {
	var c [5]string
	for k, v := range [5]metrics.Interval{r.FPR95, r.DetErr, r.AUROC, r.AUPRIn, r.AUPROut} {
		c[k] = fmt.Sprintf("%+.1f [%+.1f, %+.1f]", 100*v.Value, 100*v.Low, 100*v.High)
	}
	return c
}

func (r *Report) levelText() string {
	return fmt.Sprintf("%g%% intervals from %d resamples (seed %d): %s", 100*r.Bootstrap.Level, r.Bootstrap.Resamples, r.Bootstrap.Seed, ciMethod)
}

// Markdown returns report.md: the run, the tables with intervals and links to the PNG figures.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	if r.Command != "" {
		fmt.Fprintf(&b, "    %s\n\n", r.Command)
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	for _, p := range r.facts() {
		fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(p[0]), mdEscape(p[1]))
	}
	if h := r.Headline; h[0] >= 0 {
		fmt.Fprintf(&b, "\n![%s](figures/headline.png)\n", headlineCaption(r.Methods[h[0]], r.Methods[h[1]]))
	}
	fmt.Fprintf(&b, "\n## Metrics (percent, %s)\n\n", r.levelText())
	fmt.Fprintf(&b, "| method | %s |\n|---|%s\n", strings.Join(metricNames[:], " | "), strings.Repeat("---:|", 5))
	for _, m := range r.Methods {
		c := ciCells(m.CI)
		fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(m.Label), strings.Join(c[:], " | "))
	}
	if len(r.Paired) > 0 {
		fmt.Fprintf(&b, "\n## Paired differences (percentage points; an interval without 0 is not resampling noise)\n\n")
		fmt.Fprintf(&b, "| difference | %s |\n|---|%s\n", strings.Join(metricNames[:], " | "), strings.Repeat("---:|", 5))
		for _, p := range r.Paired {
			c := diffCells(p.Diff)
			fmt.Fprintf(&b, "| %s − %s | %s |\n", mdEscape(Label(p.Method)), mdEscape(Label(p.Against)), strings.Join(c[:], " | "))
		}
	}
	fmt.Fprintf(&b, "\n## Figures\n\n")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "- [%s](figures/%s.png) ([SVG](figures/%s.svg)): %s\n", f.Name, f.Name, f.Name, f.Caption)
	}
	return b.Bytes()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// facts are the rows of the run table.
func (r *Report) facts() [][2]string {
	f := [][2]string{
		{"In-distribution", fmt.Sprintf("%s (%d images)", r.InName, r.CountIn)},
		{"Out-of-distribution", fmt.Sprintf("%s (%d images)", r.OutName, r.CountOut)},
	}
	f = append(f, r.Params...)
	ck := r.Checkpoint
	if ck == "" {
		ck = "not recorded"
	}
	f = append(f, [2]string{"Checkpoint digest", ck},
		[2]string{"Confidence intervals", r.levelText()},
		[2]string{"Metrics", "exact (every distinct score a threshold), in-distribution positive, in percent"})
	return f
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.R.Title}}</title>
<style>
body { font-family: 'Liberation Sans', Arial, Helvetica, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: 'Liberation Mono', 'Courier New', monospace; font-size: 0.9em; }
pre { background: #f5f5f5; padding: 0.6em; white-space: pre-wrap; word-break: break-all; }
figure { margin: 1.5em 0; } figure svg { width: 100%; height: auto; max-width: 900px; display: block; }
figcaption { font-size: 0.9em; color: #444; max-width: 900px; }
.headline { font-size: 1.15em; font-weight: bold; }
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
{{with .Headline}}<p class="headline">{{.}}</p>{{end}}
<h2>Run</h2>
{{with .R.Command}}<pre>{{.}}</pre>{{end}}
<table>
{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{with .First}}<figure id="fig-{{.Name}}">{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}
<h2>Metrics</h2>
<p>In percent; each value is followed by its {{.Level}}.</p>
<table>
<tr><th>method</th>{{range .Heads}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><th>{{.Name}}</th>{{range .Cells}}<td class="num">{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Paired}}<h2>Paired differences</h2>
<p>Percentage points, on the same resampled images for both methods. An interval that excludes 0 says the difference is not resampling noise at this level.</p>
<table>
<tr><th>difference</th>{{range .Heads}}<th>{{.}}</th>{{end}}</tr>
{{range .Paired}}<tr><th>{{.Name}}</th>{{range .Cells}}<td class="num">{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>Figures</h2>
{{range .Rest}}<figure id="fig-{{.Name}}">{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{end}}
</body>
</html>
`))

type htmlFigure struct {
	Name, Caption string
	SVG           template.HTML
}

type htmlRow struct {
	Name  string
	Cells [5]string
}

// HTML returns index.html, with the figures' SVG documents (by figure name) inline. The page has
// no script and no reference outside itself.
func (r *Report) HTML(svgs map[string][]byte) ([]byte, error) {
	data := struct {
		R        *Report
		Headline string
		Facts    [][2]string
		Level    string
		Heads    [5]string
		Rows     []htmlRow
		Paired   []htmlRow
		First    *htmlFigure
		Rest     []htmlFigure
	}{R: r, Facts: r.facts(), Level: r.levelText(), Heads: metricNames}
	for _, m := range r.Methods {
		data.Rows = append(data.Rows, htmlRow{m.Label, ciCells(m.CI)})
	}
	for _, p := range r.Paired {
		data.Paired = append(data.Paired, htmlRow{Label(p.Method) + " − " + Label(p.Against), diffCells(p.Diff)})
	}
	for _, f := range r.Figures {
		svg, ok := svgs[f.Name]
		if !ok {
			return nil, fmt.Errorf("report: no SVG of figure %s", f.Name)
		}
		hf := htmlFigure{Name: f.Name, Caption: f.Caption, SVG: template.HTML(inlineSVG(svg, f.Caption))}
		if f.Name == "headline" {
			data.First = &hf
			data.Headline = headlineCaption(r.Methods[r.Headline[0]], r.Methods[r.Headline[1]])
			continue
		}
		data.Rest = append(data.Rest, hf)
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return b.Bytes(), nil
}

// WriteText writes the metrics as a text table, one row per method, each value followed by its
// interval, then the paired differences.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s (%d images) against %s (%d images); %s\n\n", r.Title, r.InName, r.CountIn, r.OutName, r.CountOut, r.levelText())
	rows := []htmlRow{{"method", metricNames}}
	for _, m := range r.Methods {
		rows = append(rows, htmlRow{m.Name, ciCells(m.CI)})
	}
	writeRows(&b, rows)
	if len(r.Paired) > 0 {
		b.WriteString("\npaired differences (percentage points):\n")
		rows = []htmlRow{{"difference", metricNames}}
		for _, p := range r.Paired {
			rows = append(rows, htmlRow{p.Method + " − " + p.Against, diffCells(p.Diff)})
		}
		writeRows(&b, rows)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeRows aligns a table: the first column left, the others right.
func writeRows(b *bytes.Buffer, rows []htmlRow) {
	var width [6]int
	for _, r := range rows {
		width[0] = max(width[0], utf8.RuneCountInString(r.Name))
		for k, c := range r.Cells {
			width[k+1] = max(width[k+1], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		fmt.Fprintf(b, "%s%s", r.Name, strings.Repeat(" ", width[0]-utf8.RuneCountInString(r.Name)))
		for k, c := range r.Cells {
			fmt.Fprintf(b, "  %s%s", strings.Repeat(" ", width[k+1]-utf8.RuneCountInString(c)), c)
		}
		b.WriteString("\n")
	}
}
