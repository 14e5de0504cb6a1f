// Command testnode is the webshell test cluster's only node: a virtual-kubelet
// whose "containers" are local process groups, so exec, attach and logs go
// through the real kube-apiserver to a real kubelet API without any container
// runtime.
//
// It is a test double for the container runtime, not isolation: a container
// only sees the commands its image's bin directory links to, but absolute paths
// still reach the host, and every process runs as the node's own user.
//
// Run by e2e/cluster/cluster.sh:
//
//	testnode --kubeconfig node.kubeconfig --state-dir $STATE/node --listen 127.0.0.1:20250
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/virtual-kubelet/virtual-kubelet/log"
	logruslogger "github.com/virtual-kubelet/virtual-kubelet/log/logrus"
	"github.com/virtual-kubelet/virtual-kubelet/node"
	"github.com/virtual-kubelet/virtual-kubelet/node/nodeutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig the node uses to reach the apiserver")
	nodeName := flag.String("node-name", "webshell-node", "name of the Node object to register")
	listen := flag.String("listen", "127.0.0.1:20250", "address of the kubelet API (TLS)")
	stateDir := flag.String("state-dir", "", "directory for image bin dirs and pod working dirs (required)")
	logLevel := flag.String("log-level", "info", "logrus level: debug, info, warn, error")
	flag.Parse()

	logger := logrus.StandardLogger()
	logger.SetOutput(os.Stderr)
	if lvl, err := logrus.ParseLevel(*logLevel); err == nil {
		logger.SetLevel(lvl)
	}
	log.L = logruslogger.FromLogrus(logrus.NewEntry(logger))

	if err := run(*kubeconfig, *nodeName, *listen, *stateDir); err != nil {
		logger.WithError(err).Fatal("test node failed")
	}
}

func run(kubeconfig, nodeName, listen, stateDir string) error {
	if stateDir == "" {
		return fmt.Errorf("--state-dir is required")
	}
	stateDir, err := filepath.Abs(stateDir)
	if err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("failed to parse --listen: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("failed to parse --listen port: %w", err)
	}

	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("failed to load kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}

	images, err := newCatalog(filepath.Join(stateDir, "images"))
	if err != nil {
		return err
	}
	cert, err := selfSignedCert(host, nodeName)
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	prov := newProvider(stateDir, nodeName, images)
	// Whatever happens, take every container process down with the node.
	defer prov.shutdown()

	mux := http.NewServeMux()
	n, err := nodeutil.NewNode(nodeName,
		func(nodeutil.ProviderConfig) (nodeutil.Provider, node.NodeProvider, error) {
			return prov, nil, nil
		},
		nodeutil.WithClient(client),
		nodeutil.AttachProviderRoutes(mux),
		nodeutil.WithTLSConfig(func(c *tls.Config) error {
			c.Certificates = []tls.Certificate{cert}
			return nil
		}),
		func(cfg *nodeutil.NodeConfig) error {
			// The apiserver has no kubelet client cert/CA here, so the kubelet
			// API is unauthenticated; it only listens on loopback.
			cfg.Handler = dropStderrWithTTY(mux)
			cfg.HTTPListenAddr = listen
			cfg.NumWorkers = 2
			// Exec sessions in the web UI sit idle for long stretches.
			cfg.StreamIdleTimeout = 4 * time.Hour
			describeNode(&cfg.NodeSpec, host, int32(port))
			return nil
		},
	)
	if err != nil {
		return fmt.Errorf("failed to create node: %w", err)
	}

	go func() {
		if err := n.Run(ctx); err != nil && ctx.Err() == nil {
			log.G(ctx).WithError(err).Error("node controller stopped")
		}
		cancel()
	}()
	if err := n.WaitReady(ctx, time.Minute); err != nil {
		return fmt.Errorf("node did not become ready: %w", err)
	}
	log.G(ctx).WithField("node", nodeName).WithField("listen", listen).Info("test node ready")
	<-ctx.Done()
	log.G(ctx).Info("test node shutting down")
	return nil
}

// dropStderrWithTTY mirrors the kubelet, which ignores stderr=1 when tty=1
// ("Access to exec with tty and stderr is not supported, bypassing stderr")
// where virtual-kubelet would reject the request.
func dropStderrWithTTY(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("tty") == "1" && q.Get("error") == "1" {
			q.Del("error")
			r.URL.RawQuery = q.Encode()
		}
		next.ServeHTTP(w, r)
	})
}

// describeNode fills in what the apiserver needs to reach the kubelet API
// (address + port) and what kubectl shows.
func describeNode(n *corev1.Node, ip string, port int32) {
	n.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: ip},
		{Type: corev1.NodeHostName, Address: n.Name},
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	n.Status.Capacity = capacity
	n.Status.Allocatable = capacity
	n.Status.NodeInfo = corev1.NodeSystemInfo{
		OperatingSystem:         "linux",
		Architecture:            "amd64",
		KubeletVersion:          "webshell-testnode",
		ContainerRuntimeVersion: "webshell-testnode://processes",
	}
}

// selfSignedCert makes the kubelet API's serving certificate. The apiserver
// does not verify it (no --kubelet-certificate-authority), so a fresh one per
// start is enough.
func selfSignedCert(ip, nodeName string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: nodeName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{nodeName, "localhost"},
	}
	if parsed := net.ParseIP(ip); parsed != nil {
		tmpl.IPAddresses = []net.IP{parsed}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("failed to create serving cert: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
