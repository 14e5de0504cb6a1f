#!/usr/bin/env bash
# Builds the webshell container image without a container engine: one static musl binary
# in an OCI image layout written by umoci. Nothing else is in the image (no libc, no shell).
#
#   bash e2e/image/build.sh            -> target/image/oci            (OCI layout, tag webshell:VERSION)
#                                         target/image/webshell-VERSION.oci.tar (the same, as oci-archive)
#   bash e2e/image/build.sh --check    the same, then verifies it (what CI runs): oci_check.py
#                                      reads the layout with python alone, then the binary runs
#                                      from the unpacked layer under chroot as uid 65532.
#
# Use the result with e.g.
#   skopeo copy oci-archive:target/image/webshell-VERSION.oci.tar docker://REGISTRY/webshell:VERSION
#   podman load -i target/image/webshell-VERSION.oci.tar
#
# The SPA is embedded at compile time, so frontend/dist must exist: `./x build` makes it.
# Tools (musl target, musl-gcc, umoci) come from scripts/image-tools.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "image: $*" >&2; exit 1; }

[[ -f frontend/dist/index.html ]] ||
  die "frontend/dist/index.html is missing: run ./x build first (the SPA is embedded in the binary)"
# Two steps: a plain assignment fails the script under set -e; `eval "$(...)"` would not.
tool_path=$(bash scripts/image-tools.sh)
eval "$tool_path"

TARGET=x86_64-unknown-linux-musl
# ring's C and assembly are compiled with musl-gcc (the cc crate's default for this target;
# set here so a stray CC in the environment cannot pick glibc's headers).
export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc}
# Package metadata from cargo (version and license are inherited from the workspace).
read -r version license source < <(cargo metadata --no-deps --format-version 1 --offline |
  python3 -c 'import json, sys
p = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == "webshell")
print(p["version"], p["license"], p["repository"] or "https://example.invalid/webshell")')
[[ -n ${source:-} ]] || die "cannot read the webshell package's version from cargo metadata"
ref=webshell:$version
out=target/image
layout=$out/oci
archive=$out/webshell-$version.oci.tar
# Timestamps inside the image come from the last commit, so a rebuild of the same binary
# gives the same layer digest. Override with SOURCE_DATE_EPOCH.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

say "building webshell $version for $TARGET (release, static)"
start=$SECONDS
cargo build --release --locked --target "$TARGET" -p webshell
bin=target/$TARGET/release/webshell
echo "image: cargo build took $((SECONDS - start)) s; $bin is $(stat -c %s "$bin") bytes" >&2
python3 e2e/image/oci_check.py static "$bin" >&2

say "writing the OCI layout $layout ($ref)"
rm -rf "$layout" "$archive"
mkdir -p "$out"
work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
umoci init --layout "$layout"
umoci new --image "$layout:$ref"
# As root (this script's CI and the dev container): file owners are written as they are on
# disk, which is what we want. A rootless unpack would record every file as the caller's uid.
umoci unpack --image "$layout:$ref" "$work/bundle"
rootfs=$work/bundle/rootfs
# /webshell is root-owned 0755: uid 65532 can run it but not replace it, even on a writable
# root filesystem. Owning it as 65532 would buy nothing (the server never writes its binary).
install -m 0755 -o 0 -g 0 "$bin" "$rootfs/webshell"
install -d -m 0755 -o 0 -g 0 "$rootfs/etc"
# So `ps`, `id` and kubectl debug sidecars show a name for the user the server runs as.
echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' >"$rootfs/etc/passwd"
echo 'nonroot:x:65532:' >"$rootfs/etc/group"
chown 0:0 "$rootfs/etc/passwd" "$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
# An empty, sticky, world-writable /tmp: the runtime user has somewhere to write temp files.
install -d -m 1777 -o 0 -g 0 "$rootfs/tmp"
find "$rootfs" -exec touch -h -d "@$epoch" {} +
umoci repack --image "$layout:$ref" --history.created "$created" \
  --history.created_by "e2e/image/build.sh: /webshell (static musl) + /etc/passwd, /etc/group, /tmp" \
  "$work/bundle"
umoci config --image "$layout:$ref" --no-history --created "$created" \
  --clear=config.env --clear=config.cmd --clear=config.labels --clear=config.exposedports \
  --config.user 65532:65532 \
  --config.entrypoint /webshell \
  --config.exposedports 8080/tcp --config.exposedports 9090/tcp \
  --config.workingdir / \
  --os linux --architecture amd64 \
  --config.label "org.opencontainers.image.title=webshell" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.source=$source" \
  --config.label "org.opencontainers.image.licenses=$license"
umoci gc --layout "$layout"
# The oci-archive form: the layout's files at the root of a plain tar.
chmod -R a+rX "$layout"
tar -C "$layout" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -cf "$archive" oci-layout index.json blobs

layer=$(python3 - "$layout" <<'EOF'
import json, os, sys
root = sys.argv[1]
index = json.load(open(os.path.join(root, "index.json")))
digest = index["manifests"][0]["digest"].split(":")[1]
manifest = json.load(open(os.path.join(root, "blobs", "sha256", digest)))
print(manifest["layers"][0]["digest"], manifest["layers"][0]["size"])
EOF
)
echo "image: $ref in $layout: layer ${layer% *} is ${layer#* } bytes compressed;" \
  "binary $(stat -c %s "$bin") bytes; $archive $(stat -c %s "$archive") bytes" >&2

$check || exit 0

say "checking $layout without umoci"
unpacked=$work/unpacked
python3 e2e/image/oci_check.py layout "$layout" "$ref" "$version" "$unpacked" "$archive"
python3 e2e/image/oci_check.py static "$unpacked/webshell"
# Run it from the unpacked layer, as the image's user: with no libc, loader or /etc/ld.so.*
# in that root, this only works for a static binary.
if out=$(chroot --userspec=65532:65532 "$unpacked" /webshell --version 2>&1); then
  how="chroot $unpacked as 65532:65532"
elif [[ $out == *"Operation not permitted"* ]]; then
  echo "image: chroot is not permitted here ($out); running the unpacked binary directly" >&2
  out=$("$unpacked/webshell" --version 2>&1)
  how="directly (no chroot)"
else
  echo "FAIL: /webshell --version in the unpacked layer: $out" >&2
  exit 1
fi
[[ $out == "webshell $version"* ]] ||
  { echo "FAIL: /webshell --version printed '$out' (want 'webshell $version')" >&2; exit 1; }
echo "ok: /webshell --version ran $how: $out"
echo "ok: image $ref passes every check"
