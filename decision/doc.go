// Package decision holds ODIN's deployment rule: an input is in-distribution when its ODIN score,
// at the temperature T and magnitude ε the rule was calibrated with, is at least a threshold δ.
//
// # Contract
//
// Calibrate picks δ from held-out in-distribution scores so that a requested fraction (the TPR)
// of them is accepted. A Threshold records δ with T, ε, the calibration images and the identity
// of the network: the SHA-256 of its checkpoint file (Digest). Save and Load keep it as a small
// JSON file; Load refuses unknown fields and parameters out of range (ood.CheckODIN), and
// CheckNetwork refuses a network other than the one calibrated on, with ErrOtherNetwork.
//
// The package depends on ood only (for the detector and its parameter ranges), so that a service
// deciding single inputs does not link data sets, score files or metrics. Errors carry no
// command-line advice: callers add their own.
package decision
