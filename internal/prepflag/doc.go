// Package prepflag is the command-line form of how a network's images are prepared (a
// models.Preprocess: --preprocess FILE, --mean, --std, --resize, --crop, --interpolation,
// --scale) and of an ONNX model's options (--features, --input-shape). odin's commands and
// odin-beam (module github.com/odin-ood/odin/beam) register the same flags through it, so that
// they mean the same and fail with the same one-line errors; the library (experiment.LoadOptions,
// collection.Config) does the work.
//
// Flags given without --preprocess change only their own field: Mean or Std left out stay nil
// (the network's own, completed by experiment.ApplyPreprocess) and Scale 0 (1/255). Given with
// a file, they override its fields. Errors name the flag and the value, and carry no advice; a
// command reports them as usage errors.
package prepflag
