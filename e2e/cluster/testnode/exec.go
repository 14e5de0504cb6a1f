package main

// kubectl exec and kubectl attach. An exec with a TTY runs under its own PTY
// as session leader with that PTY as controlling terminal, so Ctrl-C (0x03 on
// stdin) becomes SIGINT through the line discipline and each resize becomes
// SIGWINCH. When the client goes away (ctx cancelled) the session gets SIGHUP,
// like a closed terminal, then SIGKILL after hangupGrace.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	utilexec "k8s.io/utils/exec"
)

const (
	// hangupGrace is how long a hung-up session may take before SIGKILL.
	hangupGrace = time.Second
	// firstResizeWait bounds the wait for the client's terminal size, so the
	// first prompt is drawn at the right width.
	firstResizeWait = time.Second
	// drainWait bounds how long output may make no progress once the process
	// exited (a background child may hold the PTY or pipe open for ever); while
	// the client keeps taking it, everything written is delivered, up to
	// drainCap.
	drainWait = time.Second
	drainCap  = time.Minute
)

// RunInContainer runs cmd in the container for kubectl exec.
func (p *provider) RunInContainer(ctx context.Context, namespace, pod, name string, argv []string, aio api.AttachIO) error {
	c, err := p.findContainer(namespace, pod, name)
	if err != nil {
		return err
	}
	if !c.running() {
		return fmt.Errorf("container %q in pod %s/%s is not running", name, namespace, pod)
	}
	cmd, err := c.command(argv)
	if err != nil {
		return err
	}
	logf(c.pod, name).WithField("argv", argv).WithField("tty", aio.TTY()).Info("exec")
	if aio.TTY() {
		return runTTY(ctx, cmd, aio)
	}
	return runPipes(ctx, cmd, aio)
}

func runTTY(ctx context.Context, cmd *exec.Cmd, aio api.AttachIO) error {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return err
	}
	defer ptmx.Close()

	size := &pty.Winsize{Rows: 24, Cols: 80}
	select {
	case s := <-aio.Resize():
		size = &pty.Winsize{Rows: s.Height, Cols: s.Width}
	case <-time.After(firstResizeWait):
	case <-ctx.Done():
		_ = tty.Close()
		return ctx.Err()
	}
	_ = pty.Setsize(ptmx, size)

	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // fd 0 of the child, i.e. tty
	err = cmd.Start()
	_ = tty.Close()
	if err != nil {
		return err
	}

	done := make(chan struct{})
	defer close(done)
	go applyResizes(ptmx, aio.Resize(), done)
	if in := aio.Stdin(); in != nil {
		go func() { _, _ = io.Copy(ptmx, in) }()
	}
	outDone := make(chan struct{})
	moved := &progress{}
	go func() {
		defer close(outDone)
		if out := aio.Stdout(); out != nil {
			_, _ = io.Copy(moved.writer(out), ptmx)
		} else {
			_, _ = io.Copy(io.Discard, ptmx)
		}
	}()

	werr := waitOrHangUp(ctx, cmd)
	// The output ends (EIO) once no process holds the PTY any more.
	moved.drain(outDone)
	return asExecResult(werr)
}

func applyResizes(ptmx *os.File, resize <-chan api.TermSize, done <-chan struct{}) {
	for {
		select {
		case s := <-resize:
			_ = pty.Setsize(ptmx, &pty.Winsize{Rows: s.Height, Cols: s.Width})
		case <-done:
			return
		}
	}
}

func runPipes(ctx context.Context, cmd *exec.Cmd, aio api.AttachIO) error {
	// Our own pipes (not exec's copying goroutines) so that a background child
	// holding stdout cannot keep Wait from returning.
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			_ = f.Close()
		}
	}()
	var copies sync.WaitGroup
	moved := &progress{}
	outPipe := func(w io.Writer) (*os.File, error) {
		if w == nil {
			return nil, nil // exec opens /dev/null
		}
		r, wr, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		childEnds = append(childEnds, wr)
		copies.Add(1)
		go func() { defer copies.Done(); defer r.Close(); _, _ = io.Copy(moved.writer(w), r) }()
		return wr, nil
	}
	stdout, err := outPipe(nilIfNil(aio.Stdout()))
	if err != nil {
		return err
	}
	stderr, err := outPipe(nilIfNil(aio.Stderr()))
	if err != nil {
		return err
	}
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	var stdinW *os.File
	if aio.Stdin() != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		childEnds = append(childEnds, r)
		cmd.Stdin, stdinW = r, w
	}

	if err := cmd.Start(); err != nil {
		if stdinW != nil {
			_ = stdinW.Close()
		}
		return err
	}
	for _, f := range childEnds {
		_ = f.Close()
	}
	childEnds = nil

	var closeStdin sync.Once
	if stdinW != nil {
		go func() {
			_, _ = io.Copy(stdinW, aio.Stdin())
			// Client's EOF becomes the process's EOF.
			closeStdin.Do(func() { _ = stdinW.Close() })
		}()
	}
	werr := waitOrHangUp(ctx, cmd)
	if stdinW != nil {
		closeStdin.Do(func() { _ = stdinW.Close() })
	}
	copied := make(chan struct{})
	go func() { copies.Wait(); close(copied) }()
	moved.drain(copied)
	return asExecResult(werr)
}

// progress tells a stalled output from a slow client: after the process exits,
// output is drained while a write to the client is under way (the client is
// slow, not gone: a fixed deadline cut off the tail of a large download) or
// while the reads still find output; it stops once the pipe has been idle for
// drainWait (a background child holding it open), and after drainCap in all.
type progress struct {
	last    atomic.Int64 // when a write last ended, or the drain began (UnixNano)
	writing atomic.Int32 // writes under way
}

func (p *progress) writer(w io.Writer) io.Writer {
	return progressWriter{w, p}
}

// drain waits for done as the type's comment says.
func (p *progress) drain(done <-chan struct{}) {
	p.last.Store(time.Now().UnixNano())
	deadline := time.After(drainCap)
	tick := time.NewTicker(drainWait / 10)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-deadline:
			return
		case <-tick.C:
			idle := time.Since(time.Unix(0, p.last.Load())) > drainWait
			if p.writing.Load() == 0 && idle {
				return
			}
		}
	}
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw progressWriter) Write(b []byte) (int, error) {
	pw.p.writing.Add(1)
	n, err := pw.w.Write(b)
	pw.p.last.Store(time.Now().UnixNano())
	pw.p.writing.Add(-1)
	return n, err
}

// nilIfNil turns a typed nil writer into an untyped nil interface.
func nilIfNil(w io.WriteCloser) io.Writer {
	if w == nil {
		return nil
	}
	return w
}

// waitOrHangUp waits for the process; if ctx ends first (client gone) the
// session is hung up. Either way nothing of the session survives.
func waitOrHangUp(ctx context.Context, cmd *exec.Cmd) error {
	sid := cmd.Process.Pid
	waitCh := make(chan error, 1)
	go func() { waitCh <- cmd.Wait() }()
	select {
	case err := <-waitCh:
		stopSession(sid, syscall.SIGHUP, hangupGrace)
		return err
	case <-ctx.Done():
		stopSession(sid, syscall.SIGHUP, hangupGrace)
		select {
		case <-waitCh:
		case <-time.After(hangupGrace):
		}
		return ctx.Err()
	}
}

// AttachToContainer connects the client to the container's main process:
// its PTY (spec tty) or its stdin pipe and output.
func (p *provider) AttachToContainer(ctx context.Context, namespace, pod, name string, aio api.AttachIO) error {
	c, err := p.findContainer(namespace, pod, name)
	if err != nil {
		return err
	}
	if !c.running() {
		return fmt.Errorf("container %q in pod %s/%s is not running", name, namespace, pod)
	}
	logf(c.pod, name).WithField("tty", aio.TTY()).Info("attach")
	id, out := c.attach()
	defer c.detach(id)

	done := make(chan struct{})
	defer close(done)
	if aio.TTY() && c.ptmx != nil {
		go applyResizes(c.ptmx, aio.Resize(), done)
	} else if aio.Resize() != nil {
		go func() { // drain, so virtual-kubelet's forwarder never blocks
			for {
				select {
				case <-aio.Resize():
				case <-done:
					return
				}
			}
		}()
	}
	if in := aio.Stdin(); in != nil && c.stdin != nil {
		go func() {
			_, _ = io.Copy(c.stdin, in)
			if c.spec.StdinOnce && !c.spec.TTY {
				c.closeStdin()
			}
		}()
	}

	write := func(ch chunk) error {
		w := aio.Stdout()
		if ch.stream == "stderr" && aio.Stderr() != nil {
			w = aio.Stderr()
		}
		if w == nil {
			return nil
		}
		_, err := w.Write(ch.data)
		return err
	}
	for {
		select {
		case ch := <-out:
			if err := write(ch); err != nil {
				return nil // client went away
			}
		case <-c.exited:
			for {
				select {
				case ch := <-out:
					_ = write(ch)
				default:
					c.mu.Lock()
					code := c.exitCode
					c.mu.Unlock()
					if code != 0 {
						return utilexec.CodeExitError{Err: fmt.Errorf("exit status %d", code), Code: code}
					}
					return nil
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}
