// Package fetch downloads odin's data sets from their canonical URLs and unpacks them into the data
// folder in the layout the rest of odin reads.
//
// A Source names one gzip-compressed tar archive: where it lives, its published MD5 (if any), and
// how its members map into the data folder (Into, Strip) and what must be there afterwards (Want).
// Sources lists the built-in table: cifar10, cifar100 and the five out-of-distribution sets the
// ODIN authors distributed (Imagenet, Imagenet_resize, LSUN, LSUN_resize, iSUN).
//
// Fetch(ctx, src, dataDir, opt) does, in order:
//
//  1. If dataDir/Into already exists it returns an error wrapping ErrExists and touches nothing,
//     unless opt.Force is set.
//  2. Downloads the archive to dataDir/.partial/<file>, where <file> is the last element of the
//     URL's path, with a small JSON file <file>.meta beside it recording the URL and the server's
//     validators. A partial file from an earlier run of the same URL is resumed with an HTTP Range
//     request, guarded by If-Range (a strong ETag, else Last-Modified) so that a changed file is
//     sent whole instead of spliced. A 200 reply to a Range request (server ignores ranges or the
//     file changed) or a 206 reply whose Content-Range does not start where the file ends restarts
//     from byte 0. Connection errors, 5xx and 429 replies, and stalls (no bytes for opt.Stall) are
//     retried with exponential backoff, each attempt resuming from what is on disk; opt.Attempts
//     attempts in a row that add no bytes end the download with an error. Other 4xx replies and
//     HTML pages (a file host's error page) fail at once with an error naming the URL.
//  3. When ctx is cancelled the partial file and its .meta are kept and the error wraps ctx.Err(),
//     so the next call resumes.
//  4. Verifies the archive's MD5 against src.MD5. A mismatch deletes the partial file and returns
//     an error stating the expected and the computed sums. When no MD5 is published (src.MD5 is
//     empty) the archive is unverified on first download; if a manifest from an earlier download
//     exists its SHA-256 must match (trust on first use).
//  5. Unpacks into a fresh folder under dataDir/.partial and renames it to dataDir/Into only when
//     every member is unpacked and every path in src.Want exists, so an interrupted or failed
//     unpack leaves dataDir/Into as it was. Only regular files and folders are unpacked; members
//     with absolute paths, ".." elements or backslashes, and links or devices of any kind, reject
//     the whole archive. The gzip CRC is checked to the end of the stream.
//  6. Writes the manifest dataDir/Into.fetch.txt (URL, size, MD5, SHA-256, how it was checked) and
//     removes the archive. An archive whose content was rejected is removed too, since fetching it
//     again is the only remedy; after other unpack failures it is kept for the next run.
//
// Progress (bytes, rate, ETA) goes to opt.Progress as carriage-return-updated lines meant for a
// terminal; notes (retries, restarts, the checksum outcome) go to opt.Log, one line each. Both may
// be nil. Fetch is not safe for concurrent calls on the same source and data folder.
package fetch
