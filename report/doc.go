// Package report turns the scores of out-of-distribution detectors into the figures and pages
// people judge detectors by: the ODIN paper's headline figure, ROC and precision–recall curves,
// score histograms, a comparison of methods with confidence intervals, and heat maps of tuning
// grids; and writes them, with the metrics and their intervals, as a self-contained HTML page, a
// Markdown summary and a JSON file of the curves' points.
//
// # Input
//
// An Input holds, per method, the scores of the same in-distribution and OOD images (higher
// meaning more in-distribution), the names of the two sets, the command line and parameters of
// the run, and the network checkpoint's digest. In-distribution is the positive class.
//
// # Metrics and intervals
//
// The metrics are package metrics' exact ones. Their confidence intervals come from
// metrics.Bootstrap: a seeded, stratified bootstrap (in-distribution and OOD images resampled
// separately, 1,000 resamples by default) with percentile intervals. The paired differences
// (every method against the baseline and against the headline detector) use the same resamples
// for both methods, so an interval that excludes 0 tells a real difference from noise.
//
// # Figures
//
// Figures are drawn with gonum.org/v1/plot and rendered as SVG and as PNG (DPI dots per inch).
// Text is set in the Liberation fonts that gonum embeds, so the PNG pixels do not depend on the
// machine; the SVG names Liberation Sans with common fallbacks. The figures of a Report are:
//
//   - headline: the ROC curves of the baseline (the method named baseline or msp) and the
//     detector (odin) with TPR on in-distribution images zoomed to 0.80–1.00 on the y axis and FPR
//     on OOD images on the x axis, the area between them shaded, a dashed line at TPR 0.95 and the
//     caption "FPR at 95% TPR reduced from A% to B%";
//   - compare: AUROC and FPR95 per method with their intervals;
//   - roc, pr-in, pr-out: every method's full ROC curve and precision–recall curves (steps whose
//     area is the average precision);
//   - hist-METHOD: in-distribution and OOD score histograms with the threshold at 95% TPR;
//   - one heat map per Grid (HeatMap), as odin tune --plot draws.
//
// # Files
//
// Write creates a folder with index.html (tables, figures inline as SVG, the command and its
// parameters, the checkpoint digest; no script, no external reference, so it opens offline and
// can be archived), report.md, report.json (metrics, intervals as {"value", "ci_low",
// "ci_high"}, curves thinned to steps of 0.001) and figures/NAME.svg and figures/NAME.png.
package report
