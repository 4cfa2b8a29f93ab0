// Package scorefile reads and writes the CSV files that hold per-image detector scores.
//
// # Format
//
// A score file is UTF-8 text with one line per row, each ended by "\n" (a "\r" before it is
// ignored). The first line is the header: "index" followed by one or more score column names,
// separated by commas, e.g.
//
//	index,baseline,odin
//	0,0.93314599990844727,0.10089027881622314
//	1,0.99998736381530762,0.10123348236083984
//
// The odin command writes the columns baseline and odin; other detectors add further columns with
// any names. A column name is non-empty, unique, not "index", and contains no comma, double quote,
// carriage return or newline, so no field is ever quoted. Every following line is a row: the image's
// index within its dataset (a decimal integer ≥ 0, unique within the file) and one value per score
// column. Values are written by strconv.FormatFloat(v, 'g', -1, 64), the shortest text that parses
// back to the same float64, so scores round-trip exactly; any text strconv.ParseFloat accepts is
// read, including NaN and ±Inf. Rows need not be in index order. Empty lines are errors.
//
// A file that does not end in "\n" has been cut short (its last row may be a truncated number),
// so Read rejects it, while Append drops the partial line and continues after the last complete row.
//
// # Concurrent runs
//
// A Writer (Create or Append) holds an exclusive lock (flock) on its file until Close, so two
// runs never write one file together: the second is refused at once, its file untouched, with an
// error wrapping ErrBusy ("scores out.csv: in use by another run"). LockDir locks a whole score
// folder the same way, and CreateExclusive writes a file such as run.json whole or not at all,
// failing if it exists, so that of two runs starting together one records its identity and the
// other is checked against it. Locks are advisory and only taken on Unix systems.
//
// Errors are one line naming the file and, for a bad row, its line number, e.g.
//
//	scores in.csv:17: malformed value "abc" in column odin
package scorefile
