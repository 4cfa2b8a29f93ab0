package collection

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/odin-ood/odin/internal/durable"
)

// Reader reads the bytes of one input.
type Reader interface {
	Read(ctx context.Context, path string) ([]byte, error)
}

// DefaultMaxBytes bounds an image file or download by default.
const DefaultMaxBytes = 64 << 20

// Fetcher reads local files and downloads http(s) URLs, refusing anything larger than MaxBytes
// so that no input can exhaust memory.
type Fetcher struct {
	// Client downloads URLs; nil means a client with Timeout.
	Client *http.Client
	// Timeout bounds one download (default 30 s); ignored when Client is set.
	Timeout time.Duration
	// MaxBytes bounds one input (default DefaultMaxBytes).
	MaxBytes int64
}

func (f *Fetcher) limit() int64 {
	if f == nil || f.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return f.MaxBytes
}

// Read returns the content of a file or URL.
func (f *Fetcher) Read(ctx context.Context, path string) ([]byte, error) {
	if IsURL(path) {
		return f.get(ctx, path)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, durable.UnwrapPath(err))
	}
	defer file.Close()
	return readBounded(path, file, f.limit())
}

func (f *Fetcher) get(ctx context.Context, url string) ([]byte, error) {
	client := http.DefaultClient
	timeout := 30 * time.Second
	if f != nil && f.Client != nil {
		client, timeout = f.Client, 0
	} else if f != nil && f.Timeout > 0 {
		timeout = f.Timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", url, unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	if resp.ContentLength > f.limit() {
		return nil, fmt.Errorf("%s: %d bytes, more than the limit of %d", url, resp.ContentLength, f.limit())
	}
	return readBounded(url, resp.Body, f.limit())
}

// unwrapURL keeps the cause of a *url.Error, whose message repeats the URL.
func unwrapURL(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}

// readBounded reads r whole, failing if it holds more than limit bytes.
func readBounded(name string, r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, durable.UnwrapPath(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than the limit of %d bytes", name, limit)
	}
	return data, nil
}
