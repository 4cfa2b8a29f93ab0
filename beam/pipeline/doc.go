// Package pipeline scores image collections with odin on Apache Beam: on Beam's Prism runner on
// one machine, or on Google Cloud Dataflow, Apache Flink or Apache Spark at scale. It lives in
// its own Go module so that odin's core module keeps its small dependency list.
//
// # The pipeline
//
// Build adds these steps to a Beam pipeline:
//
//  1. Inputs. Lists of image paths or URIs read with textio (one per line; blank lines and lines
//     starting with '#' skipped), or file patterns matched with fileio.MatchFiles. Paths may
//     name any file system the program registers (the command registers local files, gs:// and
//     s3://); http(s) URLs are downloaded with collection.Fetcher's size and time bounds.
//     Inputs given as an in-distribution list and an OOD list are labelled.
//  2. Scoring. A DoFn loads the network once per DoFn instance, in Setup, from Options.Config
//     (a collection.Config, preprocessing, feature tap and input shape included, so a worker
//     loads the network exactly as odin score does), and buffers the paths of a bundle into
//     micro-batches of Options.Flush paths, each scored by a collection.Scorer on
//     Config.Workers goroutines (so one worker process keeps its cores busy); the rest of a
//     bundle is scored in FinishBundle. Scores are bit-identical to odin score's, whatever the
//     bundling, since the engine's results do not depend on which images share a micro-batch.
//  3. Dead letters. An image that cannot be read or decoded is emitted, with the reason, to a
//     second output that is written to <Output>/dead-letter.txt ("path<TAB>reason" lines); its
//     row in the score files carries the error too, as in odin score. The job goes on.
//  4. Score shards. Rows are keyed by collection.Of(path, Shards) — the FNV-1a 64 split of odin
//     score --shard — grouped, and each shard i is written to
//     <Output>/scores-<i>-of-<n>.csv (or .jsonl), the format of odin score --shard i/n,
//     metadata included, rows sorted by path. odin merge joins them, with all its checks, into
//     the file odin score writes for the whole collection.
//  5. Metrics. With labelled inputs, each detector's scores are combined per detector with an
//     exact combine: the accumulator is a collection.Histogram, a sorted list of distinct float64
//     score values (distinct bit patterns) with counts of in-distribution and OOD images.
//     Adding an input appends an entry; merging concatenates, sorts and adds the counts of
//     equal values. Nothing is binned or sampled, so the histogram is the multiset of (score,
//     label) pairs, and package metrics computes from it exactly what odin metrics computes
//     from the merged score files. The results go to <Output>/metrics.jsonl, one JSON object
//     per detector.
package pipeline
