package experiment

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/odin-ood/odin/metrics"
)

// methodLabels are the names the method table prints.
var methodLabels = map[string]string{
	"msp": "Baseline (MSP)", "odin": "ODIN", "energy": "Energy", "maxlogit": "MaxLogit",
	"gradnorm": "GradNorm", "mahalanobis": "Mahalanobis", "mahalanobis_pre": "Mahalanobis (pre-proc.)",
	"knn": "KNN", "react": "ReAct", "vim": "ViM",
}

// MethodLabel is the name a results table prints for a detector.
func MethodLabel(name string) string {
	if l, ok := methodLabels[name]; ok {
		return l
	}
	return name
}

// SeedTable reports whether the outcome is the seed's experiment, baseline then ODIN, which
// WriteTable prints as the seed's two-column table.
func (o *Outcome) SeedTable() bool { return strings.Join(o.Methods, ",") == DefaultMethods }

// Percent maps each method's name to its metrics in percent.
func (o *Outcome) Percent() map[string]metrics.Percent {
	out := make(map[string]metrics.Percent, len(o.Methods))
	for i, m := range o.Methods {
		out[m] = o.Results[i].Percent()
	}
	return out
}

// WriteTable writes the outcome's metrics under a header block: the seed's two-column table
// (Baseline, Our Method) for its two detectors, else one row per method (WriteMethodTable).
func (o *Outcome) WriteTable(w io.Writer, header [][2]string) error {
	if o.SeedTable() {
		return metrics.WriteTable(w, header, []string{"Baseline", "Our Method"}, o.Results)
	}
	return WriteMethodTable(w, header, o.Methods, o.Results)
}

// WriteMethodTable writes the results of several methods with one row per method: a header block
// as metrics.WriteTable writes it (labels, colon, values right-aligned to the table's width), a
// blank line, a line of column names, then per method its label and the five metrics in percent
// to one decimal ("n/a" for NaN), right-aligned.
func WriteMethodTable(w io.Writer, header [][2]string, methods []string, results []metrics.Result) error {
	if len(methods) == 0 || len(methods) != len(results) {
		return fmt.Errorf("method table: %d methods for %d results", len(methods), len(results))
	}
	cols := []string{"FPR at TPR 95%", "Detection error", "AUROC", "AUPR In", "AUPR Out"}
	labelW := len("Method")
	for _, m := range methods {
		labelW = max(labelW, utf8.RuneCountInString(MethodLabel(m)))
	}
	widths := make([]int, len(cols))
	width := labelW + 2
	for i, c := range cols {
		widths[i] = max(len(c), 6) + 2
		width += widths[i]
	}
	for _, h := range header {
		width = max(width, utf8.RuneCountInString(h[0])+1+2+utf8.RuneCountInString(h[1]))
	}
	var b strings.Builder
	for _, h := range header {
		label := h[0] + ":"
		fmt.Fprintf(&b, "%s%*s\n", label, width-utf8.RuneCountInString(label), h[1])
	}
	if len(header) > 0 {
		b.WriteString("\n")
	}
	pad := width - labelW - 2
	for _, cw := range widths {
		pad -= cw
	}
	fmt.Fprintf(&b, "%-*s", labelW+2+pad, "Method")
	for i, c := range cols {
		fmt.Fprintf(&b, "%*s", widths[i], c)
	}
	b.WriteString("\n")
	for i, m := range methods {
		writeMethodRow(&b, MethodLabel(m), labelW+2+pad, widths, results[i].Percent())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMethodRow(b *strings.Builder, label string, labelW int, widths []int, p metrics.Percent) {
	b.WriteString(label + strings.Repeat(" ", labelW-utf8.RuneCountInString(label)))
	for k, v := range []float64{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut} {
		cell := "n/a"
		if !math.IsNaN(v) {
			cell = fmt.Sprintf("%.1f%%", v)
		}
		fmt.Fprintf(b, "%*s", widths[k], cell)
	}
	b.WriteString("\n")
}
