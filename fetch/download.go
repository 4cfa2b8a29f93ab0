package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// partialMeta is what is known about a partial download, kept in <file>.meta beside it so that a
// later run resumes only what the same URL sent and can guard the resume with If-Range.
type partialMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Size         int64  `json:"size"` // whole file; -1 when the server did not say
}

func readMeta(name string) (partialMeta, bool) {
	b, err := os.ReadFile(name)
	if err != nil {
		return partialMeta{}, false
	}
	var m partialMeta
	if json.Unmarshal(b, &m) != nil {
		return partialMeta{}, false
	}
	return m, true
}

func writeMeta(name string, m partialMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}

// validator returns the If-Range value: a strong ETag if there is one (RFC 9110 forbids weak ones
// there), else the Last-Modified date.
func (m partialMeta) validator() string {
	if m.ETag != "" && !strings.HasPrefix(m.ETag, "W/") {
		return m.ETag
	}
	return m.LastModified
}

// permanent marks a download error that retrying cannot fix.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

var errStalled = errors.New("stalled")

// downloader holds one download's fixed parameters.
type downloader struct {
	src    Source
	client *http.Client
	file   string // partial archive
	meta   string // its .meta
	opt    Options
}

// run downloads src.URL to d.file, resuming and retrying, until the file is whole.
func (d *downloader) run(ctx context.Context) error {
	failures := 0
	delay := d.opt.backoff()
	for {
		before := fileSize(d.file)
		err := d.attempt(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var p *permanent
		if errors.As(err, &p) {
			return err
		}
		if fileSize(d.file) > before {
			failures = 0
			delay = d.opt.backoff()
		} else {
			failures++
		}
		if failures >= d.opt.attempts() {
			return fmt.Errorf("%v (giving up after %d attempts in a row without progress)", err, failures)
		}
		d.logf("%s: %v; retrying in %v", d.src.Name, err, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// attempt makes one request and appends what it sends to the partial file. It returns nil when
// the file is whole.
func (d *downloader) attempt(ctx context.Context) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := d.opt.stall()
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()

	f, err := os.OpenFile(d.file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return &permanent{err}
	}
	defer f.Close()
	have, meta, whole, err := d.resumable(f)
	if err != nil || whole {
		return err
	}
	resp, err := d.request(actx, have, meta)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	total, err := d.accept(resp, f, &have, &meta)
	if err != nil || total == wholeOnDisk {
		return err
	}
	w := &sink{f: f, n: have, watchdog: watchdog, stall: stall}
	return d.receive(actx, resp, w, total, meta)
}

// resumable returns the bytes already on disk that a request may continue, with what is known of
// their origin; whole reports a file an earlier run finished downloading. Bytes of unknown origin
// or from another URL are discarded.
func (d *downloader) resumable(f *os.File) (have int64, meta partialMeta, whole bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, meta, false, &permanent{err}
	}
	have = st.Size()
	meta, ok := readMeta(d.meta)
	if have > 0 && (!ok || meta.URL != d.src.URL) {
		// Bytes from another URL, or of unknown origin, must not be spliced with these.
		d.logf("%s: discarding %s (%d bytes not known to come from %s)", d.src.Name, d.file, have, d.src.URL)
		if err := restart(f, d.meta); err != nil {
			return 0, meta, false, err
		}
		have, ok = 0, false
	}
	return have, meta, ok && meta.Size >= 0 && have == meta.Size && have > 0, nil
}

// request sends the GET, for the bytes from have on when some are on disk.
func (d *downloader) request(actx context.Context, have int64, meta partialMeta) (*http.Response, error) {
	req, err := http.NewRequestWithContext(actx, http.MethodGet, d.src.URL, nil)
	if err != nil {
		return nil, &permanent{fmt.Errorf("GET %s: %v", d.src.URL, err)}
	}
	// Go's transport would otherwise ask for gzip and silently decompress a .tar.gz sent with
	// Content-Encoding: gzip, which breaks both the checksum and byte ranges.
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		if v := meta.validator(); v != "" {
			req.Header.Set("If-Range", v)
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		// *url.Error repeats the method and URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, d.cause(actx, fmt.Errorf("GET %s: %w", d.src.URL, err))
	}
	return resp, nil
}

// wholeOnDisk is what accept returns as the total when the reply shows the file on disk is whole.
const wholeOnDisk = -2

// accept judges the reply's status: a whole file restarts the download (have becomes 0 and meta
// the reply's), a partial one must continue the bytes on disk. It returns the file's total size
// (−1 if unknown, wholeOnDisk when nothing is left to receive).
func (d *downloader) accept(resp *http.Response, f *os.File, have *int64, meta *partialMeta) (int64, error) {
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
		// A file host's error or preview page; checked before anything on disk is changed.
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
			return 0, &permanent{fmt.Errorf("GET %s: server sent an HTML page, not the archive", d.src.URL)}
		}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if *have > 0 {
			d.logf("%s: server sent the whole file instead of bytes %d on; restarting", d.src.Name, *have)
		}
		if err := restart(f, d.meta); err != nil {
			return 0, err
		}
		*have = 0
		*meta = partialMeta{URL: d.src.URL, ETag: resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"), Size: resp.ContentLength}
		if err := writeMeta(d.meta, *meta); err != nil {
			return 0, &permanent{err}
		}
		return resp.ContentLength, nil
	case resp.StatusCode == http.StatusPartialContent && *have > 0:
		start, size, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != *have || (meta.Size >= 0 && size >= 0 && size != meta.Size) {
			if err := restart(f, d.meta); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("GET %s: reply %q does not continue the %d bytes on disk; restarting",
				d.src.URL, resp.Header.Get("Content-Range"), *have)
		}
		return size, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && *have > 0:
		// The range starts at or past the end: whole if the server's size is what is on disk.
		if _, size, err := contentRange(resp.Header.Get("Content-Range")); err == nil && size == *have {
			meta.Size = *have
			return wholeOnDisk, writeMeta(d.meta, *meta)
		}
		if err := restart(f, d.meta); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("GET %s: %s for bytes %d on; restarting", d.src.URL, resp.Status, *have)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return 0, fmt.Errorf("GET %s: %s", d.src.URL, resp.Status)
	default:
		return 0, &permanent{fmt.Errorf("GET %s: %s", d.src.URL, resp.Status)}
	}
}

// receive appends the reply's body to the file through w (which holds the bytes on disk so far),
// showing progress, and records the size once known.
func (d *downloader) receive(actx context.Context, resp *http.Response, w *sink, total int64, meta partialMeta) error {
	shown := total // for progress only: a published size says nothing about this connection
	if shown < 0 && d.src.Size > 0 {
		shown = d.src.Size
	}
	if _, err := w.f.Seek(w.n, io.SeekStart); err != nil {
		return &permanent{err}
	}
	w.meter = newMeter(d.opt.Progress, d.src.Name, w.n, shown)
	_, err := io.CopyBuffer(w, resp.Body, make([]byte, 64<<10))
	w.meter.finish(w.n)
	if w.werr != nil {
		return &permanent{fmt.Errorf("%s: %v", d.file, w.werr)}
	}
	if err != nil {
		return d.cause(actx, fmt.Errorf("GET %s: connection lost at byte %d: %w", d.src.URL, w.n, err))
	}
	if total >= 0 && w.n != total {
		return fmt.Errorf("GET %s: connection closed at byte %d of %d", d.src.URL, w.n, total)
	}
	if meta.Size < 0 {
		meta.Size = w.n
		return writeMeta(d.meta, meta)
	}
	return nil
}

// cause replaces err by a stall report when the watchdog, not the network, ended the request.
func (d *downloader) cause(actx context.Context, err error) error {
	if errors.Is(context.Cause(actx), errStalled) {
		return fmt.Errorf("GET %s: no data for %v", d.src.URL, d.opt.stall())
	}
	return err
}

func (d *downloader) logf(format string, a ...any) {
	if d.opt.Log != nil {
		fmt.Fprintf(d.opt.Log, format+"\n", a...)
	}
}

// restart empties the partial file and forgets its validators.
func restart(f *os.File, meta string) error {
	if err := f.Truncate(0); err != nil {
		return &permanent{err}
	}
	if err := os.Remove(meta); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &permanent{err}
	}
	return nil
}

// contentRange parses "bytes first-last/size" and "bytes */size"; first or size is -1 when absent.
func contentRange(h string) (first, size int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", h)
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, bad
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, bad
	}
	size = -1
	if total != "*" {
		if size, err = strconv.ParseInt(total, 10, 64); err != nil || size < 0 {
			return 0, 0, bad
		}
	}
	first = -1
	if span != "*" {
		a, b, ok := strings.Cut(span, "-")
		if !ok {
			return 0, 0, bad
		}
		first, err = strconv.ParseInt(a, 10, 64)
		if err != nil || first < 0 {
			return 0, 0, bad
		}
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < first || (size >= 0 && last >= size) {
			return 0, 0, bad
		}
	}
	return first, size, nil
}

// sink writes the body to the partial file as it arrives, so that whatever was received before
// an interruption is kept, and feeds the progress meter and the stall watchdog.
type sink struct {
	f        *os.File
	n        int64
	meter    *meter
	watchdog *time.Timer
	stall    time.Duration
	werr     error
}

func (s *sink) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.n += int64(n)
	if err != nil {
		s.werr = err
		return n, err
	}
	s.watchdog.Reset(s.stall)
	s.meter.update(s.n)
	return n, nil
}

func fileSize(name string) int64 {
	st, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return st.Size()
}
