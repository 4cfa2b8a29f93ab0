// Package serve runs ODIN as an inference service: classifiers that say, with every answer,
// whether the input looks like what they were trained on. It speaks the Open Inference Protocol
// (KServe "V2", also NVIDIA Triton's and Seldon MLServer's) over REST and gRPC, so that KServe,
// Triton's clients and any V2 client can call, route and scale it, and offers POST /v1/score for
// plain image uploads.
//
// # Models
//
// A Model is a network (a checkpoint, or an ONNX file through a Loader), the `odin calibrate`
// threshold file that was calibrated on that very checkpoint (its SHA-256 is checked), ODIN with
// the file's T and ε, optional extra detectors, and how encoded images become the network's
// input: a preprocessing (models.Preprocess: resize, centre crop, mean, std), or for a 32×32
// network without one the resize filter. ModelConfig is its JSON configuration; LoadConfigs
// reads a folder of them.
//
// # Inputs
//
// A request gives exactly one input, at the network's input shape C×H×W (3×32×32 for the CIFAR
// networks; the model metadata reports it): "input" FP32 [N,C,H,W], already normalised; "pixels"
// UINT8 [N,H,W,C], RGB, normalised with the network's mean and std (the preprocessing's, if the
// model has one); "image" BYTES [N], PNG or JPEG of any size (base64 strings in JSON), decoded as
// package dataset decodes files (PIL's RGB conversion), brought to H×W, then normalised. An image
// is brought to H×W by the preprocessing's resize and crop (dataset.DecodeTransformed, PIL-exact;
// a missing crop is a square network's side), and must come out at H×W; without a preprocessing,
// a 32×32 network resizes it to 32×32 with its filter (dataset.DecodeImage, as before any size
// was served), and another network resizes and crops it to its side. Tensors or images of
// another size are refused with 400.
//
// Outputs, all by default or those the request names: "ood_score" FP32 [N] (ODIN's score; higher means more
// in-distribution), "ood_score_fp64" FP64 [N] (the same, unrounded), "is_ood" BOOL [N]
// (ood_score < δ, compared in float64), "predicted_class" INT64 [N], "logits" FP32 [N,K], and
// "score_<method>" FP32 [N] per extra detector. Response parameters carry the detector, T (temperature), ε (magnitude),
// δ (threshold) and its calibration TPR (threshold_tpr).
//
// # Same answers
//
// A served score is the library's: the batcher runs the same ood.Batch and detectors that
// experiment.Scorer (odin eval) runs, and the engine computes every image by the same float32
// operations whatever shares its micro-batch (nn's Determinism). Scores therefore do not depend
// on the other requests, the batch size or the worker count, bit for bit (tested over REST,
// gRPC and /v1/score, alone and batched, against odin eval's scorer on densenet10).
//
// # Dynamic batching
//
// Each model has a bounded queue and Workers goroutines, each with its own engine. A worker
// takes the oldest request, waits up to MaxQueueDelay from its arrival for more, up to MaxBatch
// images, and computes them as one micro-batch (Triton's dynamic batcher). A full queue answers
// 429 (gRPC RESOURCE_EXHAUSTED) at once. A request whose context ends while queued (the client
// went away, its grpc-timeout passed) is dropped when a worker reaches it, never computed.
// Memory is bounded in bytes as well as in requests, since a large network's images are large:
// a request takes 4·C·H·W bytes per image from the model's budget (MaxQueueBytes) before its
// images are decoded and returns them when it is answered or dropped; a request that does not
// fit now gets 429, one that never could 413.
//
// # Operations
//
// Server.Start runs each model's self-test — SelfTestImage scored through the queue must equal,
// bit for bit, the engine's score computed directly, and the configured score if one is given —
// and only then is the server ready. Serve shuts down when its context ends (odin serve: on
// SIGTERM): readiness turns 503, after DrainDelay the listeners close, queued and running
// requests are answered, and Serve returns nil. Limits: body size (413), images per request,
// declared pixels of an encoded image (read from its header with image.DecodeConfig before any
// decoding, so decompression bombs are refused cheaply), a minimum image side, header, read and
// write timeouts, and open connections. Prometheus metrics (odin_requests_total,
// odin_request_duration_seconds, odin_queue_wait_seconds, odin_batch_size,
// odin_images_scored_total{decision}, odin_score, odin_requests_expired_total,
// odin_queue_requests, odin_image_bytes, odin_model_info) are served on /metrics from the server's own registry;
// logs go to a log/slog Logger.
//
// # Errors
//
// Over REST every error is the protocol's error object {"error": "..."} with a 4xx or 5xx status
// (400 bad input, 404 unknown model or version, 413 too large, 415 wrong content type, 429
// queue full, 503 not ready or shutting down, 504 deadline passed); over gRPC the matching
// status (InvalidArgument, NotFound, ResourceExhausted, Unavailable, DeadlineExceeded).
package serve
