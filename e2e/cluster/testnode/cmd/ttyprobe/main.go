// Command ttyprobe checks the test node's terminal behaviour end to end,
// through the real apiserver, over SPDY and over WebSocket (v5, which the
// apiserver translates to SPDY toward the node):
//
//   - the first prompt already has the client's size, and a resize arrives
//     as SIGWINCH with the new size;
//   - Ctrl-C (0x03 on stdin) interrupts `sleep 100` in an interactive shell;
//   - the exit code reaches the client;
//   - closing the stream ends the remote process within 2 s (TTY and not).
//
// It runs on the same host as the node, so it can watch remote pids in /proc.
//
//	ttyprobe --kubeconfig $STATE/kubeconfig --namespace demo --pod bash-pod
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	kctx := flag.String("context", "", "kubeconfig context")
	ns := flag.String("namespace", "demo", "namespace")
	pod := flag.String("pod", "bash-pod", "pod with bash")
	flag.Parse()

	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: *kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: *kctx}).ClientConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p := &probe{cfg: cfg, client: kubernetes.NewForConfigOrDie(cfg), ns: *ns, pod: *pod}

	failed := 0
	for _, transport := range []string{"spdy", "websocket"} {
		for _, t := range []struct {
			name string
			fn   func(string) error
		}{
			{"size-and-resize", p.sizeAndResize},
			{"ctrl-c-interrupts-sleep", p.ctrlC},
			{"exit-code", p.exitCode},
			{"tty-ignores-stderr-param", p.ttyWithStderr},
			{"close-ends-tty-process", func(tr string) error { return p.closeEnds(tr, true) }},
			{"close-ends-pipe-process", func(tr string) error { return p.closeEnds(tr, false) }},
		} {
			start := time.Now()
			if err := t.fn(transport); err != nil {
				failed++
				fmt.Printf("FAIL %s/%s (%v): %v\n", transport, t.name, time.Since(start).Round(time.Millisecond), err)
			} else {
				fmt.Printf("ok   %s/%s (%v)\n", transport, t.name, time.Since(start).Round(time.Millisecond))
			}
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

type probe struct {
	cfg    *rest.Config
	client kubernetes.Interface
	ns     string
	pod    string
}

// session is one running exec: stdin to write, output collected.
type session struct {
	stdin  *io.PipeWriter
	out    *syncBuffer
	sizes  chan *remotecommand.TerminalSize
	done   chan error
	cancel context.CancelFunc
}

func (p *probe) exec(transport string, argv []string, tty bool, size *remotecommand.TerminalSize) (*session, error) {
	return p.execParams(transport, argv, tty, !tty, size)
}

// execParams lets the request ask for stderr even with a TTY (the stream
// options still leave it out, like the kubelet does).
func (p *probe) execParams(transport string, argv []string, tty, stderrParam bool, size *remotecommand.TerminalSize) (*session, error) {
	req := p.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(p.ns).Name(p.pod).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Command: argv, Stdin: true, Stdout: true, Stderr: stderrParam, TTY: tty,
	}, scheme.ParameterCodec)
	var ex remotecommand.Executor
	var err error
	if transport == "websocket" {
		ex, err = remotecommand.NewWebSocketExecutor(p.cfg, "GET", req.URL().String())
	} else {
		ex, err = remotecommand.NewSPDYExecutor(p.cfg, "POST", req.URL())
	}
	if err != nil {
		return nil, err
	}
	inR, inW := io.Pipe()
	s := &session{stdin: inW, out: &syncBuffer{}, sizes: make(chan *remotecommand.TerminalSize, 4), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	opts := remotecommand.StreamOptions{Stdin: inR, Stdout: s.out, Tty: tty}
	if !tty {
		opts.Stderr = s.out
	}
	if tty {
		s.sizes <- size
		opts.TerminalSizeQueue = sizeQueue(s.sizes)
	}
	go func() { s.done <- ex.StreamWithContext(ctx, opts) }()
	return s, nil
}

type sizeQueue chan *remotecommand.TerminalSize

func (q sizeQueue) Next() *remotecommand.TerminalSize { return <-q }

// waitFor waits until the output matches re.
func (s *session) waitFor(re string, d time.Duration) ([]string, error) {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(s.out.String()); m != nil {
			return m, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			if m := rx.FindStringSubmatch(s.out.String()); m != nil {
				return m, nil
			}
			return nil, fmt.Errorf("exec ended (%v) before output matched %q; output: %q", err, re, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("output did not match %q within %v; output: %q", re, d, s.out.String())
}

func (s *session) result(d time.Duration) (int, error) {
	select {
	case err := <-s.done:
		var ee utilexec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitStatus(), nil
		}
		return 0, err
	case <-time.After(d):
		return 0, fmt.Errorf("exec did not end within %v", d)
	}
}

func (p *probe) sizeAndResize(tr string) error {
	s, err := p.exec(tr, []string{"bash", "-c", `trap 'echo "winch $(stty size)"' WINCH; echo "first $(stty size)"; while :; do sleep 0.1; done`},
		true, &remotecommand.TerminalSize{Width: 101, Height: 31})
	if err != nil {
		return err
	}
	defer s.cancel()
	if _, err := s.waitFor(`first 31 101`, 10*time.Second); err != nil {
		return err
	}
	s.sizes <- &remotecommand.TerminalSize{Width: 132, Height: 43}
	if _, err := s.waitFor(`winch 43 132`, 3*time.Second); err != nil {
		return err
	}
	return nil
}

func (p *probe) ctrlC(tr string) error {
	s, err := p.exec(tr, []string{"bash", "--norc", "-i"}, true, &remotecommand.TerminalSize{Width: 80, Height: 24})
	if err != nil {
		return err
	}
	defer s.cancel()
	_, _ = io.WriteString(s.stdin, "sleep 100; echo slept-$((40+2))\r")
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	_, _ = io.WriteString(s.stdin, "\x03")
	_, _ = io.WriteString(s.stdin, "echo after-$((1+1))\r")
	if _, err := s.waitFor(`after-2`, 3*time.Second); err != nil {
		return err
	}
	if time.Since(start) > 2*time.Second || bytes.Contains([]byte(s.out.String()), []byte("slept-42")) {
		return fmt.Errorf("sleep was not interrupted; output %q", s.out.String())
	}
	_, _ = io.WriteString(s.stdin, "exit 7\r")
	code, err := s.result(5 * time.Second)
	if err != nil {
		return err
	}
	if code != 7 {
		return fmt.Errorf("exit code %d, want 7", code)
	}
	return nil
}

func (p *probe) exitCode(tr string) error {
	s, err := p.exec(tr, []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, false, nil)
	if err != nil {
		return err
	}
	defer s.cancel()
	_ = s.stdin.Close()
	code, err := s.result(10 * time.Second)
	if err != nil {
		return err
	}
	if code != 3 {
		return fmt.Errorf("exit code %d, want 3", code)
	}
	return nil
}

// ttyWithStderr: the kubelet ignores stderr=1 with tty=1 instead of failing.
func (p *probe) ttyWithStderr(tr string) error {
	s, err := p.execParams(tr, []string{"sh", "-c", "echo tty-ok; exit 5"}, true, true, &remotecommand.TerminalSize{Width: 80, Height: 24})
	if err != nil {
		return err
	}
	defer s.cancel()
	if _, err := s.waitFor(`tty-ok`, 10*time.Second); err != nil {
		return err
	}
	code, err := s.result(5 * time.Second)
	if err != nil {
		return err
	}
	if code != 5 {
		return fmt.Errorf("exit code %d, want 5", code)
	}
	return nil
}

func (p *probe) closeEnds(tr string, tty bool) error {
	s, err := p.exec(tr, []string{"sh", "-c", `echo "pid=$$"; exec sleep 100`}, tty, &remotecommand.TerminalSize{Width: 80, Height: 24})
	if err != nil {
		return err
	}
	m, err := s.waitFor(`pid=(\d+)`, 10*time.Second)
	if err != nil {
		s.cancel()
		return err
	}
	pid, _ := strconv.Atoi(m[1])
	if syscall.Kill(pid, 0) != nil {
		return fmt.Errorf("remote pid %d is not visible on this host", pid)
	}
	start := time.Now()
	s.cancel()
	for time.Since(start) < 5*time.Second {
		if syscall.Kill(pid, 0) != nil || isZombie(pid) {
			if d := time.Since(start); d > 2*time.Second {
				return fmt.Errorf("remote process ended %v after close, want <= 2s", d)
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remote process %d still alive 5s after close", pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
