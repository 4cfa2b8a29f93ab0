// Package experiment runs the evaluations of odin's commands: scoring ranges of images with
// detectors, keeping and resuming score files, the metrics of each detector, the searches of
// ODIN's temperature and magnitude, the calibration of a decision threshold, and the ODIN paper's
// Table 2.
//
// # Evaluations
//
// A Scorer scores images with several ood.Detectors in one pass per micro-batch on a worker pool,
// sharing every forward pass the detectors can share. An Eval scores a Range (images First …
// First+Count−1) of an in-distribution set and one of an OOD set and computes package metrics'
// five metrics per detector, in-distribution being the positive class. Scores can be kept as
// they are computed, in score files (package scorefile) in ScoresDir, or in the cache folders
// InCache and OutCache named by IdentityDir of an identity (network, checkpoint digest, kernel,
// parameters, range); a later Eval with the same identity reads them back and scores only what is
// missing, so an interrupted run resumes and the in-distribution half is shared by evaluations
// against several OOD sets. Files whose identity differs are refused, never mixed.
//
// # Tuning
//
// A Grid is a set of temperatures × magnitudes, PaperGrid the paper's 10 × 21. A GridScorer
// scores images at every cell, doing each piece of work once: per image one clean forward pass
// (the baseline and every ε = 0 cell), one backward pass per temperature, and one forward pass per
// perturbed copy with ε > 0, shared by the temperatures whose gradient signs agree on that
// image. Search picks the best cell by a Criterion (FPR95, detection error or AUROC; ties go to
// the better of the other two metrics, then to the earlier cell in grid order), SearchInOnly by the mean in-distribution score
// (Generalized ODIN's rule, for when no OOD data is at hand). A Tuner runs searches against one or
// several validation sets, scoring the held-out in-distribution images once and keeping grid
// scores in a cache. The metrics of a cell are exactly those Eval reports for the same T, ε and
// images.
//
// # Thresholds
//
// Calibrate returns the threshold δ that accepts a requested fraction of in-distribution scores;
// a Threshold file stores it with T, ε and the identity of the network (the SHA-256 of its
// checkpoint), for deployment: an image is in-distribution when its ODIN score is at least δ.
//
// # The paper
//
// PaperTable holds the ODIN paper's Table 2 and the seed's ε per network and OOD set, embedded
// from the project's reference files.
package experiment
