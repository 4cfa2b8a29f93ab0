// Package experiment runs the evaluations of odin's commands: scoring ranges of images with
// detectors, keeping and resuming score files, the metrics of each detector, the searches of
// ODIN's temperature and magnitude, and the ODIN paper's Table 2. The command line only parses
// flags and prints: everything it runs is here, so a library user can run it too.
//
// # Assembly
//
// LoadNetwork resolves a network's name or checkpoint path, builds the model and digests the
// checkpoint. NewEval turns a Setup (network, method list, ODIN's T and ε, statistics file, two
// ranges of images, cache folder) into an Eval: Detectors makes the detectors, reading fitted
// statistics from the Setup's file or DefaultStatsPath, and the Eval's cache folders are named by
// the ScoreIdentity of each half. A score identity holds everything a score depends on: the
// checkpoint's SHA-256, the GEMM kernel in use (kernels round differently), T, ε, the methods in
// column order, the fitted statistics' checksum, and the images (the set's name, its own name,
// the content digest a built set records in its manifest, construction, seed and index range).
// FitStats fits the statistics of the fitted detectors (what odin fit runs), recording the
// network's feature tap and preprocessing in them; Detectors (and so NewEval and
// collection.Config.Load) refuses statistics of another network, tap or preprocessing. Accuracy
// counts a labelled range's correct top classes (odin accuracy).
//
// # Any input size
//
// LoadNetworkWith takes LoadOptions: an ONNX model's feature tap and input shape, and a
// models.Preprocess that replaces the network's normalisation (mean and std left out keep the
// network's own) and says how image folders are resized and cropped. The Network records both;
// they enter the score identity only when given, so caches of networks loaded without them keep
// their folders. Network.Transform is what a dataset.FolderPrefix set ("folder:PATH", an
// ImageNet-style folder) is opened with, and OpenSet opens any set for a network. Every scoring
// entry point (Scorer, GridScorer, NewEval, FitStats, CalibrateODIN, Accuracy) takes the image
// size from the network's input and refuses, through CheckImages (ErrImageSize), a set whose
// images have another size. ODIN's ε is divided by the std of the normalisation in use.
// Outcome.WriteTable prints the results, the seed's two-column table or one row per method.
// Errors are typed (MissingStatsError, ErrRange, and package ood's sentinels) and carry no
// command-line advice.
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
// The search is split by concern: grid.go (Grid, Criterion), gridscorer.go (GridScorer),
// search.go (Search, SearchInOnly, Rows, WriteGrid) and tuner.go (Tuner, its cache: UseCache).
//
// # Thresholds
//
// The deployment rule (Threshold, Calibrate, the checkpoint digest) lives in package decision,
// which a service imports without data sets, score files or metrics. CalibrateODIN scores
// held-out images and returns the decision.Threshold that accepts a requested share of them.
//
// # The paper
//
// PaperTable holds the ODIN paper's Table 2 and the seed's ε per network and OOD set, embedded
// from the project's reference files.
package experiment
