package main

// Container logs, stored like the kubelet's CRI log files: one record per
// line, "<RFC3339Nano> <stream> <P|F> <content>", F for a full line and P for
// a partial one (a prompt without a newline). Storing the timestamp lets
// GetContainerLogs honour timestamps, sinceSeconds/sinceTime and tailLines.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
)

// logWriter appends records to a container's log file.
type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

func newLogWriter(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f}, nil
}

// write records one chunk of output of stream ("stdout" or "stderr").
func (w *logWriter) write(stream string, p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	var buf bytes.Buffer
	for len(p) > 0 {
		tag, line := "P", p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			tag, line, p = "F", p[:i], p[i+1:]
		} else {
			p = nil
		}
		buf.WriteString(ts + " " + stream + " " + tag + " ")
		buf.Write(line)
		buf.WriteByte('\n')
	}
	_, _ = w.f.Write(buf.Bytes())
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.f.Close()
}

// logRecord is one parsed line of a log file.
type logRecord struct {
	ts      time.Time
	full    bool
	content []byte
}

func parseRecord(line []byte) (logRecord, bool) {
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) != 4 {
		return logRecord{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return logRecord{}, false
	}
	return logRecord{ts: ts, full: string(parts[2]) == "F", content: parts[3]}, true
}

// render writes one record as kubectl expects it.
func render(w io.Writer, r logRecord, opts api.ContainerLogOpts) error {
	var buf bytes.Buffer
	if opts.Timestamps {
		buf.WriteString(r.ts.Format(time.RFC3339Nano) + " ")
	}
	buf.Write(r.content)
	if r.full {
		buf.WriteByte('\n')
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func wantRecord(r logRecord, opts api.ContainerLogOpts, start time.Time) bool {
	if opts.SinceSeconds > 0 && r.ts.Before(start.Add(-time.Duration(opts.SinceSeconds)*time.Second)) {
		return false
	}
	if !opts.SinceTime.IsZero() && r.ts.Before(opts.SinceTime) {
		return false
	}
	return true
}

// limitWriter stops the copy once LimitBytes have been written.
type limitWriter struct {
	w    io.Writer
	left int
}

var errLimit = errors.New("log limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= n
	if err == nil && l.left <= 0 {
		err = errLimit
	}
	return n, err
}

// streamLogs writes the log file at path to w. With Follow it keeps reading
// new records until ctx ends or exited is closed and the file is drained.
func streamLogs(ctx context.Context, path string, opts api.ContainerLogOpts, exited <-chan struct{}, w io.Writer) error {
	err := copyLogs(ctx, path, opts, exited, w)
	if errors.Is(err, errLimit) {
		return nil // LimitBytes reached: a normal end, not an error
	}
	return err
}

func copyLogs(ctx context.Context, path string, opts api.ContainerLogOpts, exited <-chan struct{}, w io.Writer) error {
	start := time.Now()
	if opts.LimitBytes > 0 {
		w = &limitWriter{w: w, left: opts.LimitBytes}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := bufio.NewReader(f)

	// The existing content, cut to the last Tail lines (a line ends with an F
	// record). virtual-kubelet passes tailLines=0 and "not given" alike as 0,
	// so 0 means everything.
	var recs []logRecord
	var pending []byte
	readAvailable := func(emit func(logRecord) error) error {
		for {
			chunk, err := rd.ReadBytes('\n')
			pending = append(pending, chunk...)
			if err != nil {
				// Half a record: keep it until the rest is written.
				return nil
			}
			line := bytes.TrimSuffix(pending, []byte("\n"))
			pending = nil
			if r, ok := parseRecord(line); ok && wantRecord(r, opts, start) {
				r.content = append([]byte(nil), r.content...)
				if err := emit(r); err != nil {
					return err
				}
			}
		}
	}
	_ = readAvailable(func(r logRecord) error { recs = append(recs, r); return nil })
	if opts.Tail > 0 {
		lines, i := 0, len(recs)-1
		for ; i >= 0; i-- {
			if recs[i].full {
				lines++
				if lines > opts.Tail {
					break
				}
			}
		}
		recs = recs[i+1:]
	}
	for _, r := range recs {
		if err := render(w, r, opts); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}

	emit := func(r logRecord) error { return render(w, r, opts) }
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-exited:
			// The process is gone; flush what it wrote last and stop following.
			return readAvailable(emit)
		case <-tick.C:
			if err := readAvailable(emit); err != nil {
				return err
			}
		}
	}
}
