package main

// The virtual-kubelet provider: pod lifecycle and status. virtual-kubelet
// v1.14.1 compares spec.ephemeralContainers in podsEqual, so adding a debug
// container through pods/ephemeralcontainers arrives here as UpdatePod.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/sirupsen/logrus"
	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	"github.com/virtual-kubelet/virtual-kubelet/log"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// podIP is every pod's IP: processes share the host's network.
const podIP = "127.0.0.1"

// provider implements nodeutil.Provider and node.PodNotifier.
type provider struct {
	stateDir string
	nodeName string
	images   *catalog

	mu     sync.Mutex
	pods   map[string]*podState // by namespace/name
	notify func(*corev1.Pod)
	// Pods whose status changed, sent by one worker so that virtual-kubelet
	// always gets the latest status last.
	dirty map[*podState]bool
	wake  chan struct{}
}

// podState is what the node knows about one pod.
type podState struct {
	prov      *provider
	namespace string
	name      string
	dir       string // per-pod dir: home/ (cwd + HOME) and logs/
	home      string
	created   time.Time

	mu         sync.Mutex
	pod        *corev1.Pod // last spec given by virtual-kubelet
	containers []*container
	deleted    bool
}

func newProvider(stateDir, nodeName string, images *catalog) *provider {
	return &provider{
		stateDir: stateDir, nodeName: nodeName, images: images,
		pods: map[string]*podState{}, dirty: map[*podState]bool{}, wake: make(chan struct{}, 1),
	}
}

func key(namespace, name string) string { return namespace + "/" + name }

func logf(p *podState, ctr string) *logrus.Entry {
	return logrus.WithFields(logrus.Fields{"pod": p.namespace + "/" + p.name, "container": ctr})
}

// CreatePod prepares the pod's directories and starts its containers.
func (p *provider) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	k := key(pod.Namespace, pod.Name)
	dir := filepath.Join(p.stateDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	ps := &podState{
		prov:      p,
		namespace: pod.Namespace,
		name:      pod.Name,
		dir:       dir,
		home:      filepath.Join(dir, "home"),
		created:   time.Now(),
		pod:       pod.DeepCopy(),
	}
	for _, d := range []string{ps.home, filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	p.mu.Lock()
	if old, ok := p.pods[k]; ok {
		p.mu.Unlock()
		// Same name, new pod: the old one must be gone first.
		old.kill(0)
		p.mu.Lock()
	}
	p.pods[k] = ps
	p.mu.Unlock()

	if len(pod.Spec.InitContainers) > 0 {
		log.G(ctx).Warn("init containers are not supported by the test node; ignoring them")
	}
	for _, spec := range pod.Spec.Containers {
		ps.addContainer(spec, false)
	}
	ps.startEphemeral(pod)
	ps.notifyLater()
	return nil
}

// UpdatePod starts ephemeral containers that were added; nothing else of a
// running pod's spec can change in a way the node acts on.
func (p *provider) UpdatePod(ctx context.Context, pod *corev1.Pod) error {
	ps := p.get(pod.Namespace, pod.Name)
	if ps == nil {
		return p.CreatePod(ctx, pod)
	}
	ps.mu.Lock()
	ps.pod = pod.DeepCopy()
	ps.mu.Unlock()
	ps.startEphemeral(pod)
	ps.notifyLater()
	return nil
}

// DeletePod stops every process of the pod (SIGTERM, then SIGKILL after the
// grace period, at most 2 s here) and reports it terminated.
func (p *provider) DeletePod(ctx context.Context, pod *corev1.Pod) error {
	ps := p.get(pod.Namespace, pod.Name)
	if ps == nil {
		return errdefs.NotFoundf("pod %s/%s is not known", pod.Namespace, pod.Name)
	}
	grace := 2 * time.Second
	if g := pod.DeletionGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < grace {
		grace = time.Duration(*g) * time.Second
	}
	ps.kill(grace)
	p.mu.Lock()
	if p.pods[key(pod.Namespace, pod.Name)] == ps {
		delete(p.pods, key(pod.Namespace, pod.Name))
	}
	notify := p.notify
	p.mu.Unlock()
	final := ps.snapshot()
	if notify != nil {
		notify(final)
	}
	_ = os.RemoveAll(ps.dir)
	return nil
}

// kill stops every container of the pod.
func (ps *podState) kill(grace time.Duration) {
	ps.mu.Lock()
	ps.deleted = true
	ctrs := append([]*container(nil), ps.containers...)
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range ctrs {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(syscall.SIGTERM, grace) }()
	}
	wg.Wait()
	killUnder(ps.dir)
}

// shutdown kills every pod; used when the node process exits.
func (p *provider) shutdown() {
	p.mu.Lock()
	pods := make([]*podState, 0, len(p.pods))
	for _, ps := range p.pods {
		pods = append(pods, ps)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, ps := range pods {
		wg.Add(1)
		go func() { defer wg.Done(); ps.kill(500 * time.Millisecond) }()
	}
	wg.Wait()
}

func (p *provider) get(namespace, name string) *podState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pods[key(namespace, name)]
}

func (ps *podState) logPath(ctr string) string {
	return filepath.Join(ps.dir, "logs", ctr+".log")
}

func (ps *podState) addContainer(spec corev1.Container, ephemeral bool) {
	img, err := ps.prov.images.lookup(spec.Image)
	c := newContainer(ps, spec, ephemeral, img, err)
	ps.mu.Lock()
	if ps.deleted {
		ps.mu.Unlock()
		return
	}
	ps.containers = append(ps.containers, c)
	ps.mu.Unlock()
	c.start()
}

func (ps *podState) startEphemeral(pod *corev1.Pod) {
	for _, ec := range pod.Spec.EphemeralContainers {
		if ps.container(ec.Name) != nil {
			continue
		}
		ps.addContainer(corev1.Container(ec.EphemeralContainerCommon), true)
	}
}

func (ps *podState) container(name string) *container {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, c := range ps.containers {
		if c.name == name {
			return c
		}
	}
	return nil
}

// status computes the pod status from its containers.
func (ps *podState) status() corev1.PodStatus {
	ps.mu.Lock()
	ctrs := append([]*container(nil), ps.containers...)
	deleted := ps.deleted
	ps.mu.Unlock()

	st := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    podIP,
		HostIPs:   []corev1.HostIP{{IP: podIP}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &metav1.Time{Time: ps.created},
		QOSClass:  corev1.PodQOSBestEffort,
	}
	allReady, running, waiting, failed := true, 0, 0, false
	for _, c := range ctrs {
		cs := c.status()
		if c.ephemeral {
			st.EphemeralContainerStatuses = append(st.EphemeralContainerStatuses, cs)
			continue
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		allReady = allReady && cs.Ready
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Waiting != nil:
			waiting++
		case cs.State.Terminated.ExitCode != 0:
			failed = true
		}
	}
	regular := len(st.ContainerStatuses)
	switch {
	case waiting > 0 && deleted:
		st.Phase = corev1.PodFailed
	case waiting > 0:
		st.Phase = corev1.PodPending
	case running > 0:
		st.Phase = corev1.PodRunning
	case failed:
		st.Phase = corev1.PodFailed
	case regular > 0:
		st.Phase = corev1.PodSucceeded
	}
	now := metav1.Now()
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	ready := allReady && regular > 0 && !deleted
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, true),
		cond(corev1.PodInitialized, true),
		cond(corev1.PodReady, ready),
		cond(corev1.ContainersReady, ready),
		cond(corev1.PodScheduled, true),
	}
	return st
}

// snapshot is the pod as the provider reports it: last spec + fresh status.
func (ps *podState) snapshot() *corev1.Pod {
	ps.mu.Lock()
	pod := ps.pod.DeepCopy()
	ps.mu.Unlock()
	pod.Status = ps.status()
	return pod
}

// notifyLater queues the pod's status for virtual-kubelet without blocking
// the caller (the callback may block).
func (ps *podState) notifyLater() {
	p := ps.prov
	p.mu.Lock()
	p.dirty[ps] = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// NotifyPods registers virtual-kubelet's status callback and starts the
// worker that sends each changed pod's current status.
func (p *provider) NotifyPods(ctx context.Context, f func(*corev1.Pod)) {
	p.mu.Lock()
	p.notify = f
	p.mu.Unlock()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
			p.mu.Lock()
			var pods []*podState
			for ps := range p.dirty {
				if p.pods[key(ps.namespace, ps.name)] == ps { // deleted pods are reported by DeletePod
					pods = append(pods, ps)
				}
			}
			clear(p.dirty)
			p.mu.Unlock()
			for _, ps := range pods {
				f(ps.snapshot())
			}
		}
	}()
}

// GetPod returns the pod as the provider runs it.
func (p *provider) GetPod(_ context.Context, namespace, name string) (*corev1.Pod, error) {
	ps := p.get(namespace, name)
	if ps == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not known", namespace, name)
	}
	return ps.snapshot(), nil
}

// GetPodStatus returns the pod's current status.
func (p *provider) GetPodStatus(ctx context.Context, namespace, name string) (*corev1.PodStatus, error) {
	pod, err := p.GetPod(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return &pod.Status, nil
}

// GetPods lists every pod the provider runs.
func (p *provider) GetPods(context.Context) ([]*corev1.Pod, error) {
	p.mu.Lock()
	pods := make([]*podState, 0, len(p.pods))
	for _, ps := range p.pods {
		pods = append(pods, ps)
	}
	p.mu.Unlock()
	out := make([]*corev1.Pod, 0, len(pods))
	for _, ps := range pods {
		out = append(out, ps.snapshot())
	}
	return out, nil
}

// findContainer resolves namespace/pod/container for the streaming calls.
func (p *provider) findContainer(namespace, pod, name string) (*container, error) {
	ps := p.get(namespace, pod)
	if ps == nil {
		return nil, errdefs.NotFoundf("pod %s/%s not found on node %s", namespace, pod, p.nodeName)
	}
	c := ps.container(name)
	if c == nil {
		return nil, errdefs.NotFoundf("container %q not found in pod %s/%s", name, namespace, pod)
	}
	return c, nil
}

// GetContainerLogs serves kubectl logs [-f] from the container's log file.
func (p *provider) GetContainerLogs(ctx context.Context, namespace, pod, name string, opts api.ContainerLogOpts) (io.ReadCloser, error) {
	c, err := p.findContainer(namespace, pod, name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.logPath); err != nil {
		return nil, errdefs.InvalidInputf("container %q in pod %s/%s has no logs yet", name, namespace, pod)
	}
	if opts.Previous {
		// Containers here never restart, so there is never a previous instance; the
		// kubelet's own words for that.
		return nil, errdefs.InvalidInputf("previous terminated container %q in pod %q not found", name, pod)
	}
	r, w := io.Pipe()
	go func() {
		w.CloseWithError(streamLogs(ctx, c.logPath, opts, c.exited, w))
	}()
	return r, nil
}

// GetStatsSummary reports no usage; nothing in the tests reads it.
func (p *provider) GetStatsSummary(context.Context) (*statsv1alpha1.Summary, error) {
	return &statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: p.nodeName}}, nil
}

// GetMetricsResource reports no metrics.
func (p *provider) GetMetricsResource(context.Context) ([]*dto.MetricFamily, error) {
	return nil, nil
}

// PortForward is not offered: pods are host processes, dial them directly.
func (p *provider) PortForward(context.Context, string, string, int32, io.ReadWriteCloser) error {
	return errdefs.InvalidInput("port-forward is not supported by the webshell test node")
}
