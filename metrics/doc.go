// Package metrics computes the five out-of-distribution detection metrics that ODIN (Liang, Li &
// Srikant, ICLR 2018) reports, from the scores of in-distribution and out-of-distribution (OOD)
// samples. A score is a float64 where higher means "more in-distribution" (the maximum softmax
// probability for the baseline, the temperature-scaled one for ODIN).
//
// # Positive class
//
// The paper, and this package by default (Options.Positive == In), take in-distribution as the
// positive class: a sample is accepted as in-distribution when its score s ≥ δ for a threshold δ,
// so that
//
//	TPR(δ) = #{in: s ≥ δ} / #in     (in-distribution accepted)
//	FPR(δ) = #{out: s ≥ δ} / #out   (OOD wrongly accepted)
//
// Samples whose score equals δ are always on the same side, so ties are never split. The exact
// metrics are functions of the partitions these thresholds induce, so it is enough to consider every
// distinct score value and ±∞. All metrics are fractions in [0, 1]; Result.Percent scales them by
// 100 for display and JSON.
//
//   - FPR95: FPR(δ*) where δ* is the highest threshold with TPR(δ*) ≥ 0.95 (the fraction
//     0.95 is compared after computing TPR in float64, as scikit-learn does). Lower is better.
//   - DetErr: min over δ (including ±∞, where it is 0.5) of 0.5·(1 − TPR(δ)) + 0.5·FPR(δ): the
//     misclassification probability at the best threshold with equal priors. At most 0.5.
//   - AUROC: the Mann–Whitney statistic P(s_in > s_out) + ½·P(s_in = s_out) over all pairs. It
//     equals scikit-learn's roc_auc_score with in-distribution as label 1.
//   - AUPRIn: average precision with in-distribution positive, scored by s: the sum over distinct
//     thresholds, from high to low, of (R_n − R_{n−1})·P_n with recall R = TPR and precision
//     P = #{in: s ≥ δ} / #{all: s ≥ δ}. This is scikit-learn's average_precision_score; note it
//     is a step sum, not the trapezoid area that some libraries (OpenOOD) report.
//   - AUPROut: the same with OOD positive, scored by −s (a sample is flagged OOD when s ≤ v).
//
// Precision uses counts, so the AUPRs depend on the ratio #in:#out; FPR95, DetErr and AUROC do not.
//
// # OOD as positive
//
// OpenOOD and pytorch-ood treat OOD as the positive class. With Options.Positive == Out the roles
// are exchanged: OOD is positive and scored by −s (flagged OOD when s ≤ v), in-distribution is
// negative. Then
//
//   - FPR95 is the fraction of in-distribution samples flagged as OOD at the highest threshold on −s
//     (the lowest v) that flags at least 95% of the OOD samples;
//   - DetErr and AUROC are unchanged (they are symmetric in the two classes);
//   - AUPRIn and AUPROut are exchanged: AUPRIn is always the average precision of the positive
//     class and AUPROut that of the negative class, so with Positive == Out AUPRIn is the OOD-positive
//     value and AUPROut the in-distribution-positive one.
//
// OpenOOD names its AUPR columns by class (its AUPR_IN is always in-distribution positive), so
// compare its AUPR_IN with AUPRIn computed with Positive == In; only its FPR@95 needs Positive == Out.
//
// # Reference-compatible mode
//
// Options.ReferenceCompat reproduces the evaluation script released with the paper (calMetric.py),
// which does not use the exact definitions above but sweeps a fixed grid of thresholds
//
//	δ_i = Start + i·d,  i = 0 … K−1,  d = (Start + g) − Start,  g = (End − Start)/Steps,
//	K = ⌈(End − Start)/g⌉   (numpy.arange; K is 100001, not 100000, for [0.01, 0.0104])
//
// with Steps = 100000 (Grid.Steps), and computes, for each metric, over that grid:
//
//   - FPR95: the mean of #{out: s > δ}/#out (strict) over the grid points whose TPR = #{in: s ≥ δ}/#in
//     lies in [0.9495, 0.9505].
//   - DetErr: min(1, min over the grid of (#{in: s < δ}/#in + #{out: s > δ}/#out)/2).
//   - AUROC: Σ_i (FPR_{i−1} − FPR_i)·TPR_i with FPR_{−1} = 1, plus FPR_last·TPR_last, where
//     TPR = #{in: s ≥ δ}/#in and FPR = #{out: s > δ}/#out for the baseline grids but
//     #{out: s ≥ δ}/#out for the ODIN grids (Grid.InclusiveAUROC).
//   - AUPRIn: over the ascending grid, with tp = #{in: s ≥ δ}/#in and fp = #{out: s ≥ δ}/#out
//     (rates, not counts), skipping points where tp + fp = 0: Σ (R_prev − tp)·tp/(tp+fp) with
//     R_prev starting at 1, plus tp·P at the last point used.
//   - AUPROut: over the descending grid End + j·d' with d' = (End − g) − End and
//     j = 0 … ⌈(Start − End)/(−g)⌉ − 1, with
//     tp = #{out: s < δ}/#out and fp = #{in: s < δ}/#in, stopping at the first point where
//     tp + fp = 0, the same sum.
//
// The reference used these ranges (PaperGrid): the baseline (maximum softmax) [0.1, 1] for CIFAR-10
// and [0.01, 1] for CIFAR-100; ODIN at T = 1000 [0.1, 0.12] for CIFAR-10 and [0.01, 0.0104] for
// CIFAR-100. The zero Grid means the ODIN CIFAR-10 grid. How this differs from the exact metrics:
//
//   - Resolution: thresholds are only the grid points, so every curve is sampled at a spacing of
//     (End − Start)/100000 instead of at every distinct score.
//   - Clipping: all scores below Start are indistinguishable from each other, as are all scores
//     above the last grid point, so the curves are cut off outside [Start, End]. The ranges fit
//     the softmax scores of one model at one temperature (at T = 1000 the maximum softmax of a
//     10-class model barely exceeds 0.1); at any other temperature, model or score kind the
//     metrics are silently wrong, so the mode is only meaningful for reproducing the paper's
//     numbers from the same kind of scores.
//   - Averaging window: FPR95 averages over all grid points whose TPR falls in [0.9495, 0.9505]
//     instead of taking one threshold. When no grid point falls in the window (too few
//     in-distribution samples for that resolution, or a range that misses the 5th percentile of
//     the in-distribution scores) the reference divides by zero; here FPR95 is NaN.
//   - AUPRIn or AUPROut is NaN when no grid point qualifies (the reference raised an error).
//   - Comparisons: OOD scores equal to a threshold count as rejected (s > δ) in FPR95, DetErr and the
//     baseline AUROC, but as accepted (s ≥ δ) in the AUPRs and the ODIN AUROC.
//   - Precision in the AUPRs is computed from rates, as if #in = #out (the paper's sets all had
//     10,000 images, which hides this).
//   - The rectangle sums use the precision or TPR at the right end of each step.
//
// Reference mode is defined only with in-distribution positive; Compute rejects Positive == Out.
//
// # Confidence intervals
//
// Bootstrap puts percentile intervals on the exact metrics of one or several methods scored on
// the same images: a stratified bootstrap (in-distribution and OOD samples resampled separately,
// with replacement, DefaultResamples times), seeded per resample so that the result does not
// depend on the number of workers. Intervals.Diff gives the paired interval of the difference of
// two methods on the same resamples. Each method is sorted once; a resample costs O(n) per method.
//
// Compute sorts copies of its inputs once (O(n log n)) and never modifies them.
package metrics
