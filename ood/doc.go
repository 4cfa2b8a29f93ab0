// Package ood scores images with out-of-distribution detectors that read a classifier's logits,
// penultimate features and input gradients.
//
// # Contract
//
// Every Detector writes one score per image, and for every detector a higher score means more
// in-distribution; a detector whose paper states an OOD score (KNN's distance, ViM's virtual
// probability, Mahalanobis's distance) returns its negation or a monotone equivalent, as its doc
// says. Scores are float64. Detectors are safe for concurrent use once configured: all per-batch
// scratch lives in the Batch.
//
// A Batch is one micro-batch on one worker with the forward pass already run (Batch.Load):
// Logits (N×K) and Features (N×D, the "features" tap: the penultimate layer after global
// pooling). Detectors that only read these (msp, energy, maxlogit, gradnorm, mahalanobis, knn,
// react, vim) share that one pass. Detectors that need more may run the engine on Batch.Exec:
// a backward pass from the logits or from any tap (Exec.Backward), after Batch.Restore, which
// reruns the clean forward pass only if a detector ran the network on another input since; and
// perturbed forward passes (Batch.ForwardPerturbed, then Exec.Tap for intermediate values).
// odin and mahalanobis_pre each cost one backward and one forward pass more. Their backward
// passes go through the batch (inputGradient), which runs those of all such detectors while
// the clean pass is still there, so that together they need no Restore after the first
// micro-batch.
//
// # Detectors
//
//	name             paper                                   needs            defaults
//	msp              Hendrycks & Gimpel, ICLR 2017           logits           —
//	odin             Liang, Li & Srikant, ICLR 2018          +backward+fwd    T=1000, ε=0.0014
//	energy           Liu, Wang, Owens & Li, NeurIPS 2020     logits           T=1
//	maxlogit         Hendrycks et al., ICML 2022             logits           —
//	gradnorm         Huang, Geng & Li, NeurIPS 2021          logits, features T=1
//	mahalanobis      Lee, Lee, Lee & Shin, NeurIPS 2018      features, fitted ε=0
//	mahalanobis_pre  the same with input pre-processing      +backward+fwd    ε=0.0014
//	knn              Sun, Ming, Zhu & Li, ICML 2022          features, fitted k=50
//	react            Sun, Guo & Li, NeurIPS 2021             features, fitted p=90
//	vim              Wang, Li, Feng & Zhang, CVPR 2022       both, fitted     dim=D/2
//
// Each detector's doc comment gives its formula. Params exposes the hyperparameters by name for
// searches; Parse sets them from "method.param" keys.
//
// # Parameters
//
// CheckODIN is the one validation of ODIN's temperature and magnitude (finite, T from
// MinTemperature to MaxTemperature, ε from 0 to MaxMagnitude), shared by the commands, threshold
// files and services; ODIN.Score applies it, and Parse applies CheckParams (every parameter finite,
// and each detector's Validate) to every detector it makes. Its errors wrap ErrParam.
//
// # Fitting
//
// Fitted detectors (mahalanobis, mahalanobis_pre, knn, react, vim) need statistics of
// in-distribution training images. Extract runs the network once over a training set and
// collects a Train: features, logits, labels and the final layer. Each Fitted detector's Fit
// computes its statistics from it and records them in a Stats under names prefixed with its
// family ("knn.bank", "mahalanobis.means", …; mahalanobis and mahalanobis_pre share theirs).
// Stats.Save writes them to a versioned file (see Stats for the format) that records the
// network's name, feature dimension, class count and a fingerprint of its final layer, and the
// feature tap and preprocessing the features were read with (Stats.Tap, Stats.Preprocess, ""
// for the defaults, as in files written before they were recorded); ReadStats reads it back,
// Stats.Check refuses it for another network, Stats.CheckFeatures and Stats.CheckPreprocess for
// another tap or preprocessing, and Fitted.Use hands it to a detector, which then never
// recomputes it.
//
// # Parsing
//
// Parse turns a --method list such as "msp,odin,knn" into detectors in that order, applying
// parameters and loading statistics only when a listed method needs them. Unknown names,
// duplicates, unknown parameters, missing statistics and statistics of another network, feature
// tap or preprocessing (Options.Model, Features, Preprocess) are one-line errors that list the
// valid choices or say what differs; the last ones wrap ErrNoStats, ErrOtherNetwork,
// ErrOtherFeatures and ErrOtherPreprocess, to which the command line adds which command makes
// what is missing.
//
// # Adding a detector
//
// A detector is one file plus one registration line. For example, a hypothetical "minlogit"
// detector in minlogit.go:
//
//	// MinLogit is … (paper, formula, defaults).
//	type MinLogit struct{}
//
//	func (MinLogit) Name() string    { return "minlogit" }
//	func (MinLogit) Params() []Param { return nil }
//	func (MinLogit) Score(_ context.Context, b *Batch, dst []float64) error {
//		k := b.Classes()
//		for i := range b.N {
//			dst[i] = -float64(slices.Min(b.Logits[i*k : (i+1)*k]))
//		}
//		return nil
//	}
//
// and in registry.go's table:
//
//	"minlogit": func() Detector { return MinLogit{} },
//
// A detector that needs statistics also implements Fit and Use (Fitted); Parse, odin fit and
// odin eval then handle it like the others. Its test goes in minlogit_test.go.
package ood
