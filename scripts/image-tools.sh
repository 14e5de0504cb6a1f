#!/usr/bin/env bash
# Installs what e2e/image/build.sh needs to build the container image without a container
# engine: the musl target (one static binary) and umoci (writes an OCI image layout).
# Idempotent: a machine that has everything skips every step. Only package registries are
# used (rustup's dist server for the target, apt for the rest).
# Prints `export PATH=...` lines on stdout; everything else goes to stderr.
#   eval "$(scripts/image-tools.sh)"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/e2e/cluster/versions.env"
log() { echo "image-tools: $*" >&2; }

MUSL_TARGET=x86_64-unknown-linux-musl
if [[ $(rustup target list --installed) != *"$MUSL_TARGET"* ]]; then
  log "adding rustup target $MUSL_TARGET"
  rustup target add "$MUSL_TARGET" >&2
fi

# musl-tools: ring compiles C and assembly, and for the musl target the cc crate looks for
# musl-gcc. umoci: builds and edits the OCI layout as plain files (0.4.7 in bookworm).
# Everything else the build runs (file, tar, gzip, python3) is assumed from the base system.
missing=()
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v umoci >/dev/null || missing+=(umoci)
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# apt puts both in /usr/bin and rustup's shims already cover cargo; printed anyway so callers
# can `eval` this the same way as scripts/tools.sh and a future cached tool slots in here.
mkdir -p "$WEBSHELL_CACHE"
printf "export PATH=\"%s:\$PATH\"\n" "$(for t in umoci musl-gcc; do dirname "$(command -v $t)"; done | sort -u | paste -sd:)"
