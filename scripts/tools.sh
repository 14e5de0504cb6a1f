#!/usr/bin/env bash
# Installs every tool the build and the tests need, cached outside the clone and keyed by
# version, so a warm machine skips each step and a cold one needs nothing installed by hand.
# Prints `export PATH=...` lines on stdout; everything else goes to stderr.
#   eval "$(scripts/tools.sh)"          # all tools
#   eval "$(scripts/tools.sh wasm)"     # only what the frontend build needs
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/e2e/cluster/versions.env"

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc than this machine has
tools=$WEBSHELL_CACHE/tools
what=${1:-all}
log() { echo "tools: $*" >&2; }

# cargo install into a versioned root; skipped when that root already has the binary.
cargo_tool() { # name version binary [extra cargo args]
  local name=$1 version=$2 bin=$3; shift 3
  local dir=$tools/$name-$version
  if [[ ! -x $dir/bin/$bin ]]; then
    log "installing $name $version (cold: a few minutes)"
    cargo install --quiet --root "$dir" "$name" --version "$version" "$@" >&2
  fi
  echo "export PATH=\"$dir/bin:\$PATH\""
}

if [[ $(rustup target list --installed) != *wasm32-unknown-unknown* ]]; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2
fi
# wasm-bindgen-cli's lockfile wants a webpki-roots the registry does not serve, so no --locked.
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
cargo_tool trunk "$TRUNK_VERSION" trunk --locked

# npm trees live in the clone (gitignored); the npm cache outside it makes reinstalls offline-fast.
npm_tree() { # dir
  local dir=$1
  if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules ]]; then
    log "npm ci in ${dir#$root/}"
    (cd "$dir" && npm ci --no-audit --no-fund --cache "$WEBSHELL_CACHE/npm" --prefer-offline >&2)
    touch "$dir/node_modules"
  fi
}
npm_tree "$root/frontend"
# binaryen's wasm-opt for release builds of the SPA (see Trunk.toml).
echo "export PATH=\"$root/frontend/node_modules/.bin:\$PATH\""
[[ $what == wasm ]] && exit 0

npm_tree "$root/e2e"
if ! command -v chromium >/dev/null; then
  log "installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
