package main

// A container: its main process (under a PTY when the spec asks for
// tty), the pumps that copy its output to the log file and to attached
// clients, and its status.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// chunk is one piece of output of the main process.
type chunk struct {
	stream string // "stdout" or "stderr"
	data   []byte
}

// container is one container (regular or ephemeral) of a pod.
type container struct {
	name      string
	spec      corev1.Container
	ephemeral bool
	pod       *podState
	img       *image // nil when the image is unknown
	imgErr    error
	logPath   string

	mu        sync.Mutex
	cmd       *exec.Cmd
	started   time.Time
	finished  time.Time
	exitCode  int
	reason    string        // terminated reason, or waiting reason when never started
	message   string        // waiting/terminated message
	exited    chan struct{} // closed when the main process is gone (or never started)
	ptmx      *os.File      // set when spec.TTY
	stdin     io.WriteCloser
	stdinOnce sync.Once
	attachers map[int]chan chunk
	nextID    int
	log       *logWriter
}

func newContainer(p *podState, spec corev1.Container, ephemeral bool, img *image, imgErr error) *container {
	return &container{
		name:      spec.Name,
		spec:      spec,
		ephemeral: ephemeral,
		pod:       p,
		img:       img,
		imgErr:    imgErr,
		logPath:   p.logPath(spec.Name),
		exited:    make(chan struct{}),
		attachers: map[int]chan chunk{},
	}
}

// env is the environment of every process of the container: the image's bin
// dir as the whole PATH, the pod's home, HOSTNAME = pod name, then the spec's
// env (already resolved by virtual-kubelet). TERM only when the spec sets it.
func (c *container) env() []string {
	base := []string{
		"PATH=" + c.img.binDir,
		"HOME=" + c.pod.home,
		"HOSTNAME=" + c.pod.name,
	}
	seen := map[string]int{"PATH": 0, "HOME": 1, "HOSTNAME": 2}
	for _, e := range c.spec.Env {
		kv := e.Name + "=" + e.Value
		if i, ok := seen[e.Name]; ok {
			base[i] = kv
			continue
		}
		seen[e.Name] = len(base)
		base = append(base, kv)
	}
	return base
}

// command builds an exec.Cmd for argv in this container, started as a
// session leader so its whole session can be signalled later.
func (c *container) command(argv []string) (*exec.Cmd, error) {
	if c.img == nil {
		return nil, c.imgErr
	}
	if len(argv) == 0 {
		return nil, errors.New("no command given")
	}
	path, err := c.img.lookPath(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        argv,
		Env:         c.env(),
		Dir:         c.pod.home,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	return cmd, nil
}

// mainArgv is what the container runs: command+args from the spec, or the
// image default.
func (c *container) mainArgv() []string {
	argv := append(append([]string{}, c.spec.Command...), c.spec.Args...)
	if len(argv) == 0 && c.img != nil {
		argv = c.img.defaultArgv
	}
	return argv
}

// start runs the main process. A failure is recorded in the status (like a
// runtime's StartError), not returned, so the pod still reports something.
func (c *container) start() {
	err := c.startProcess()
	if err != nil {
		c.mu.Lock()
		c.reason, c.message = "StartError", err.Error()
		if c.img == nil {
			c.reason = "ErrImagePull"
		}
		c.exitCode = 128
		c.mu.Unlock()
		close(c.exited)
		c.pod.notifyLater()
	}
}

func (c *container) startProcess() error {
	cmd, err := c.command(c.mainArgv())
	if err != nil {
		return err
	}
	lw, err := newLogWriter(c.logPath)
	if err != nil {
		return err
	}
	c.log = lw

	var pumps sync.WaitGroup
	var childEnds []*os.File
	if c.spec.TTY {
		ptmx, tty, err := pty.Open()
		if err != nil {
			return err
		}
		_ = pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80})
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0
		childEnds = append(childEnds, tty)
		c.ptmx = ptmx
		if c.spec.Stdin {
			c.stdin = ptmx
		}
		pumps.Add(1)
		go func() { defer pumps.Done(); c.pump("stdout", ptmx) }()
	} else {
		if c.spec.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			cmd.Stdin = r
			childEnds = append(childEnds, r)
			c.stdin = w
		}
		for _, stream := range []string{"stdout", "stderr"} {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			if stream == "stdout" {
				cmd.Stdout = w
			} else {
				cmd.Stderr = w
			}
			childEnds = append(childEnds, w)
			pumps.Add(1)
			go func() { defer pumps.Done(); defer r.Close(); c.pump(stream, r) }()
		}
	}

	c.mu.Lock()
	err = cmd.Start()
	if err == nil {
		c.cmd = cmd
		c.started = time.Now()
	}
	c.mu.Unlock()
	// The child holds its own copies; ours would keep the pumps from seeing EOF.
	for _, f := range childEnds {
		_ = f.Close()
	}
	if err != nil {
		if c.ptmx != nil {
			_ = c.ptmx.Close()
		}
		return err
	}
	logf(c.pod, c.name).WithField("pid", cmd.Process.Pid).WithField("argv", cmd.Args).Info("container started")
	c.pod.notifyLater()

	go func() {
		werr := cmd.Wait()
		code, _ := exitCode(werr)
		// Anything the main process left running in its session goes with it.
		stopSession(cmd.Process.Pid, syscall.SIGTERM, time.Second)
		waitTimeout(&pumps, time.Second)
		if c.ptmx != nil {
			_ = c.ptmx.Close()
		}
		c.closeStdin()
		c.log.close()
		c.mu.Lock()
		c.finished = time.Now()
		c.exitCode = code
		c.reason = "Completed"
		if code != 0 {
			c.reason = "Error"
		}
		c.mu.Unlock()
		close(c.exited)
		logf(c.pod, c.name).WithField("exitCode", code).Info("container exited")
		c.pod.notifyLater()
	}()
	return nil
}

// pump copies one output stream to the log and to attached clients.
func (c *container) pump(stream string, r io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := append([]byte(nil), buf[:n]...)
			c.log.write(stream, data)
			c.mu.Lock()
			for _, ch := range c.attachers {
				select {
				case ch <- chunk{stream: stream, data: data}:
				default: // a client that does not read loses output, not the container
				}
			}
			c.mu.Unlock()
		}
		if err != nil {
			return // EOF, or EIO once the PTY's last slave fd is closed
		}
	}
}

func (c *container) closeStdin() {
	c.stdinOnce.Do(func() {
		if c.stdin != nil && c.stdin != io.WriteCloser(c.ptmx) {
			_ = c.stdin.Close()
		}
	})
}

func (c *container) attach() (int, <-chan chunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextID
	c.nextID++
	ch := make(chan chunk, 1024)
	c.attachers[id] = ch
	return id, ch
}

func (c *container) detach(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.attachers, id)
}

func (c *container) running() bool {
	select {
	case <-c.exited:
		return false
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil
}

// stop ends the main process and its session: sig first, SIGKILL after grace.
func (c *container) stop(sig syscall.Signal, grace time.Duration) {
	c.mu.Lock()
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	stopSession(cmd.Process.Pid, sig, grace)
	select {
	case <-c.exited:
	case <-time.After(2 * time.Second):
	}
}

// status reports the container the way a kubelet does.
func (c *container) status() corev1.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := corev1.ContainerStatus{
		Name:    c.name,
		Image:   c.spec.Image,
		ImageID: c.spec.Image,
	}
	switch {
	case c.cmd == nil && c.reason != "":
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.reason, Message: c.message}
	case c.cmd == nil:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	case c.finished.IsZero():
		st.ContainerID = fmt.Sprintf("webshell://%d", c.cmd.Process.Pid)
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.started)}
		st.Ready = !c.ephemeral
		st.Started = ptrTo(true)
	default:
		st.ContainerID = fmt.Sprintf("webshell://%d", c.cmd.Process.Pid)
		st.State.Terminated = &corev1.ContainerStateTerminated{
			ExitCode:    int32(c.exitCode),
			Reason:      c.reason,
			StartedAt:   metav1.NewTime(c.started),
			FinishedAt:  metav1.NewTime(c.finished),
			ContainerID: st.ContainerID,
		}
		st.Started = ptrTo(false)
	}
	if c.ephemeral {
		// Ephemeral container statuses never carry readiness.
		st.Ready = false
	}
	return st
}

func ptrTo[T any](v T) *T { return &v }

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
