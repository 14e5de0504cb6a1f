#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module proxy into a
# version-keyed cache outside the clone. A warm cache returns at once.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces every staging
# module with a local path. So we make a throwaway module that requires it and
# pins each staging module (read from that very go.mod) to the matching v0.Y.Z.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

want=(kube-apiserver kubectl etcd)
missing=0
for b in "${want[@]}"; do [[ -x $K8S_BIN_DIR/$b ]] || missing=1; done
if [[ $missing == 0 ]]; then
  echo "cluster binaries: cached in $K8S_BIN_DIR"
  exit 0
fi

start=$(date +%s)
mkdir -p "$K8S_BIN_DIR"
work=$(mktemp -d "$WEBSHELL_CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod
# Linking kube-apiserver needs a few GB; two parallel links on 2 cores gain nothing.
export GOMAXPROCS=${GOMAXPROCS:-2}

staging=v0.${K8S_VERSION#v1.}
if [[ ! -x $K8S_BIN_DIR/kube-apiserver || ! -x $K8S_BIN_DIR/kubectl ]]; then
  echo "building kube-apiserver + kubectl $K8S_VERSION (cold: expect 10-20 min on 2 cores)"
  mkdir -p "$work/k8s" && cd "$work/k8s"
  go mod init webshell.test/k8s-build >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    sed -n 's#^\s*\(k8s.io/[a-z-]*\) => ./staging/src/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
  } >>go.mod
  go mod tidy >/dev/null 2>&1 || true
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) \
    -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy
  go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN_DIR/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN_DIR/kubectl" k8s.io/kubernetes/cmd/kubectl
fi

if [[ ! -x $K8S_BIN_DIR/etcd ]]; then
  echo "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init webshell.test/etcd-build >/dev/null 2>&1
  cat >tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$K8S_BIN_DIR/etcd" go.etcd.io/etcd/server/v3
fi

echo "cluster binaries: built in $(( $(date +%s) - start ))s into $K8S_BIN_DIR"
