# syntax=docker/dockerfile:1
# The webshell server image: one static binary on an empty base.
#
#   docker build -t webshell:0.1.0 .          # BuildKit (the default builder) is required:
#                                              # the RUN steps use cache mounts.
#
# Stage 1 builds the SPA (trunk, wasm-bindgen, binaryen's wasm-opt: the same pinned tools
# scripts/tools.sh installs for developers) and then the server, which embeds the SPA from
# frontend/dist at compile time (rust-embed), for x86_64-unknown-linux-musl: a fully static
# executable. Stage 2 is `scratch` holding that file, /etc/passwd and /etc/group entries for
# uid 65532, and an empty /tmp.

FROM rust:1.95-bookworm AS build

# musl-tools: ring compiles C and assembly, and for the musl target the cc crate calls musl-gcc.
# nodejs/npm: frontend/package.json brings xterm.js and binaryen (wasm-opt), and the trunk
# post_build hook (frontend/build/no-inline-script.mjs) runs under node.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-unknown-unknown x86_64-unknown-linux-musl

WORKDIR /src
# Tools first, from only the files that pin them, so this layer survives source edits:
# wasm-bindgen-cli and trunk (cargo install, minutes when cold) into $WEBSHELL_CACHE/tools,
# and frontend/node_modules (npm ci). tools.sh prints the PATH to use; keep it for the next step.
ENV WEBSHELL_CACHE=/opt/webshell-cache
# ring's C for the musl target: musl-gcc, never a glibc compiler picked up from CC.
ENV CC_x86_64_unknown_linux_musl=musl-gcc
COPY scripts/tools.sh scripts/
COPY e2e/cluster/versions.env e2e/cluster/
COPY frontend/package.json frontend/package-lock.json frontend/
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/opt/webshell-cache/npm,sharing=locked \
    bash scripts/tools.sh wasm > /opt/webshell-cache/path.env

# The sources (.dockerignore keeps out target/, node_modules/, frontend/dist/ and .git).
COPY . .
# trunk runs cargo with --offline (Trunk.toml), hence `cargo fetch` first. The target dir is a
# cache mount, so the binary is copied out of it within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eu; \
    . /opt/webshell-cache/path.env; \
    cargo fetch --locked; \
    trunk build --release; \
    cargo build --release --locked --target x86_64-unknown-linux-musl -p webshell; \
    install -D -m 0755 target/x86_64-unknown-linux-musl/release/webshell /out/rootfs/webshell

# The rest of the final filesystem, as e2e/image/build.sh lays it out: a name for uid 65532
# (for ps, id and debug containers; the server does not need it) and a sticky, world-writable
# /tmp (the manifests mount an emptyDir over it, as the root filesystem is read-only there).
RUN install -d -m 0755 /out/rootfs/etc \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /out/rootfs/etc/passwd \
 && echo 'nonroot:x:65532:' > /out/rootfs/etc/group \
 && chmod 0644 /out/rootfs/etc/passwd /out/rootfs/etc/group \
 && install -d -m 1777 /out/rootfs/tmp

# Why an empty base works:
# - the binary is static (musl), so there is no libc, loader or shared library to ship;
# - TLS is rustls: the OIDC client (reqwest) trusts the Mozilla roots compiled in from
#   webpki-roots, plus --oidc-ca-file for a private CA; the Kubernetes client trusts the
#   cluster CA from the in-cluster config (the mounted ServiceAccount's ca.crt), so no
#   /etc/ssl is needed;
# - it runs as a numeric uid/gid and writes nothing to disk (audit lines and logs go to
#   stdout), so a read-only root filesystem is fine.
# No shell, no package manager: nothing for an attacker who got in to use.
FROM scratch
# Root-owned, 0755: uid 65532 can run the binary but not replace it.
COPY --from=build /out/rootfs/ /
# The distroless "nonroot" ids; the Kubernetes manifests set the same runAsUser/runAsGroup.
USER 65532:65532
# 8080: the web UI and terminal sockets (--listen); 9090: /healthz, /readyz and /metrics
# (--ops-listen). Neither is opened unless the flags (or WEBSHELL_* variables) ask for it.
EXPOSE 8080 9090
ENTRYPOINT ["/webshell"]
