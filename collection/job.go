package collection

import (
	"context"
	"errors"
	"time"
)

// Job scores the images of one shard of a collection into a score file, resuming what an
// earlier run of the same job left.
type Job struct {
	Scorer *Scorer
	// Inputs is the whole collection (List's result); the job scores those in Shard.
	Inputs []string
	Shard  Shard
	Out    string
	Format Format
	// Meta identifies the run: network, checkpoint, kernel, parameters, threshold. Run fills in
	// Methods, Shard, Count and Total.
	Meta Meta
	// Progress, if set, is told how many of the shard's images have rows, from one goroutine at
	// a time.
	Progress func(done, total int)
}

// Summary says what a Job did.
type Summary struct {
	Count   int // images in the shard
	Resumed int // rows found in the file from an earlier run
	Scored  int // images scored by this run
	Failed  int // of those, images that could not be read or decoded
	Elapsed time.Duration
}

// Run scores the shard's images that the output file does not hold yet. Rows are flushed after
// every micro-batch, so a cancelled or failed run keeps them and the next run continues.
func (j *Job) Run(ctx context.Context) (Summary, error) {
	start := time.Now()
	mine := j.Shard.Select(j.Inputs)
	meta := j.Meta
	meta.Methods = j.Scorer.Columns()
	meta.Shard, meta.Count, meta.Total = j.Shard.String(), len(mine), len(j.Inputs)
	sum := Summary{Count: len(mine)}
	if len(j.Inputs) == 0 {
		return sum, errors.New("the collection holds no images")
	}
	// A shard that the hash leaves empty (a small collection split many ways) still gets its
	// file, holding the metadata and no rows, so that merging the job's shards finds every one.
	w, err := Open(j.Out, j.Format, meta)
	if err != nil {
		return sum, err
	}
	var todo []string
	for _, p := range mine {
		if !w.Done(p) {
			todo = append(todo, p)
		}
	}
	sum.Resumed = len(mine) - len(todo)
	if j.Progress != nil {
		j.Progress(sum.Resumed, sum.Count)
	}
	if len(todo) == 0 {
		err = w.Close()
		sum.Elapsed = time.Since(start)
		return sum, err
	}
	err = j.Scorer.Score(ctx, todo, func(rows []Row) error {
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				return err
			}
			sum.Scored++
			if r.Err != "" {
				sum.Failed++
			}
		}
		if j.Progress != nil {
			j.Progress(sum.Resumed+sum.Scored, sum.Count)
		}
		return w.Flush()
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	sum.Elapsed = time.Since(start)
	return sum, err
}
