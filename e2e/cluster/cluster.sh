#!/usr/bin/env bash
# The local real test cluster: etcd + an OpenID Connect provider + kube-apiserver
# (trusting that provider) + the webshell test node (a virtual-kubelet whose
# containers are local processes), all on 127.0.0.1.
#
#   cluster.sh build    build/cached binaries (kube-apiserver, kubectl, etcd, testnode,
#                       oidc-provider, oauth2-proxy)
#   cluster.sh up       start everything, create users + demo pods, wait until Running
#   cluster.sh down     stop everything it started (no-op when nothing runs)
#   cluster.sh status   what runs, and the demo pods
#   cluster.sh env      prints `export KUBECONFIG=... WEBSHELL_OIDC_...`; use: eval "$(cluster.sh env)"
#
# Environment (all optional):
#   WEBSHELL_CLUSTER_DIR   state dir: certs, tokens, etcd data, pids, logs
#                          (default ~/.cache/webshell/cluster); a second cluster
#                          needs its own dir and its own ports:
#   WEBSHELL_ETCD_PORT (23790) WEBSHELL_ETCD_PEER_PORT (23800)
#   WEBSHELL_APISERVER_PORT (16443) WEBSHELL_NODE_PORT (20250) WEBSHELL_OIDC_PORT (25556)
#   WEBSHELL_OIDC_ID_TOKEN_LIFETIME  ID token lifetime of the OIDC provider (5m)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

STATE=${WEBSHELL_CLUSTER_DIR:-$WEBSHELL_CACHE/cluster}
ETCD_PORT=${WEBSHELL_ETCD_PORT:-23790}
ETCD_PEER_PORT=${WEBSHELL_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${WEBSHELL_APISERVER_PORT:-16443}
NODE_PORT=${WEBSHELL_NODE_PORT:-20250}
OIDC_PORT=${WEBSHELL_OIDC_PORT:-25556}
OIDC_ISSUER=https://127.0.0.1:$OIDC_PORT
OIDC_ID_TOKEN_LIFETIME=${WEBSHELL_OIDC_ID_TOKEN_LIFETIME:-5m}
# The OIDC provider's users: fixed test passwords (a test fixture, not a secret).
OIDC_USERS=(alice:alice-password:demo-users,webshell-users bob:bob-password:demo-readers,webshell-users)
NODE_NAME=webshell-node
KUBECTL=$K8S_BIN_DIR/kubectl
# Components in start order; down stops them in reverse.
COMPONENTS=(etcd oidc-provider kube-apiserver testnode)
# Marks a dir as ours, so `up` never wipes a directory it did not create.
MARKER=.webshell-cluster

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- build

# need_tools: the host tools up relies on; on a bare Debian/Ubuntu machine
# they are installed with apt-get (as root).
need_tools() {
  command -v go >/dev/null || die "the Go toolchain is needed (see versions.env / go.mod for the version)"
  local missing=() t
  for t in openssl curl setsid flock; do command -v "$t" >/dev/null || missing+=("$t"); done
  [[ ${#missing[@]} == 0 ]] && return
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq openssl curl util-linux >/dev/null
  else
    die "missing tools: ${missing[*]}"
  fi
}

# The test node binary is cached by a hash of its sources and the Go version.
testnode_bin() {
  local hash
  hash=$( (cd "$here/testnode" && cat go.mod go.sum ./*.go && go version) | sha256sum | cut -c1-16)
  echo "$WEBSHELL_CACHE/testnode-$hash/testnode"
}

# The OIDC provider (and its oidclogin helper) likewise: a hash of all the
# module's sources and the Go version.
oidc_provider_dir() {
  local hash
  hash=$( (cd "$here/oidc-provider" && cat go.mod go.sum $(find . -name '*.go' | LC_ALL=C sort) && go version) |
    sha256sum | cut -c1-16)
  echo "$WEBSHELL_CACHE/oidc-provider-$hash"
}

build_testnode() {
  local bin
  bin=$(testnode_bin)
  if [[ -x $bin ]]; then
    log "testnode: cached in $bin"
    return
  fi
  log "building testnode into $bin"
  local start=$SECONDS
  mkdir -p "$(dirname "$bin")"
  (cd "$here/testnode" && go build -trimpath -o "$bin.tmp.$$" .)
  mv -f "$bin.tmp.$$" "$bin"
  log "testnode: built in $((SECONDS - start))s"
}

# oidc-provider plus its helpers oidclogin (signs in through the login form,
# prints tokens) and headerecho (an upstream that echoes request headers).
build_oidc_provider() {
  local dir b
  dir=$(oidc_provider_dir)
  if [[ -x $dir/oidc-provider && -x $dir/oidclogin && -x $dir/headerecho ]]; then
    log "oidc-provider: cached in $dir"
    return
  fi
  log "building oidc-provider, oidclogin, headerecho into $dir"
  local start=$SECONDS
  mkdir -p "$dir"
  (cd "$here/oidc-provider" && go build -trimpath -o "$dir/oidc-provider.tmp.$$" . &&
    go build -trimpath -o "$dir/oidclogin.tmp.$$" ./cmd/oidclogin &&
    go build -trimpath -o "$dir/headerecho.tmp.$$" ./cmd/headerecho)
  for b in headerecho oidclogin oidc-provider; do mv -f "$dir/$b.tmp.$$" "$dir/$b"; done
  log "oidc-provider: built in $((SECONDS - start))s"
}

# oauth2-proxy has no replace directives, so `go install module@version` works.
build_oauth2_proxy() {
  if [[ -x $OAUTH2_PROXY_BIN ]]; then
    log "oauth2-proxy: cached in $OAUTH2_PROXY_BIN"
    return
  fi
  log "building oauth2-proxy $OAUTH2_PROXY_VERSION into $OAUTH2_PROXY_BIN (cold: a few minutes)"
  local start=$SECONDS dir tmp
  dir=$(dirname "$OAUTH2_PROXY_BIN")
  mkdir -p "$WEBSHELL_CACHE"
  tmp=$(mktemp -d "$WEBSHELL_CACHE/build.XXXXXX")
  (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS= go install -trimpath \
    -ldflags "-s -w -X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$OAUTH2_PROXY_VERSION" \
    "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION") || { rm -rf "$tmp"; return 1; }
  mkdir -p "$dir"
  mv "$tmp/bin/oauth2-proxy" "$OAUTH2_PROXY_BIN"
  rm -rf "$tmp"
  log "oauth2-proxy: built in $((SECONDS - start))s"
}

cmd_build() {
  need_tools
  "$here/build-binaries.sh"
  build_testnode
  build_oidc_provider
  build_oauth2_proxy
}

# ---------------------------------------------------------------- processes

# alive NAME: the component's pid file names a live process that is really
# ours (its command line mentions the state dir), so a stale pid file from a
# crashed run, or a reused pid, does not count.
alive() {
  local pidfile=$STATE/pids/$1.pid pid cmdline
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$STATE/"* ]]
}

# running NAME: the component this very run started has not exited. Unlike
# alive, it does not look at the command line: just after `start` forks, the
# child is still a copy of this bash script until it execs setsid, and on a
# busy machine wait_for can look in that window (CI once failed with "exited"
# and an empty log that way). The pid is our own fresh child, so it cannot
# have been reused; a zombie (exited, not yet reaped) counts as exited.
running() {
  local pid state
  pid=$(<"$STATE/pids/$1.pid") || return 1
  state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

any_alive() {
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" && return 0; done
  return 1
}

# start NAME CMD...: runs CMD in its own session (so its whole process group
# can be killed), detached from our terminal, logging to logs/NAME.log. It
# must not inherit the lock on fd 9, or the lock would outlive this script.
start() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$STATE/logs/$name.log" 2>&1 9>&- &
  echo $! >"$STATE/pids/$name.pid"
}

# stop NAME: SIGTERM to the component's process group, SIGKILL after 10 s.
stop() {
  local name=$1 pid i
  alive "$name" || { rm -f "$STATE/pids/$name.pid"; return 0; }
  pid=$(<"$STATE/pids/$name.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within 10s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pids/$name.pid"
}

# leftovers: pids of processes that belong to this cluster although no pid
# file names them: anything whose cwd is under the node's dir (container
# processes), and our servers running against this state dir. Clients that
# merely use its kubeconfig (kubectl, the webshell backend) are left alone.
leftovers() {
  local p pid cwd cmdline
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    if [[ $cwd == "$STATE/node/"* ]]; then
      echo "$pid"
      continue
    fi
    cmdline=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    case $cmdline in
      "$K8S_BIN_DIR/etcd "*"$STATE/"* | "$K8S_BIN_DIR/kube-apiserver "*"$STATE/"* | \
        "$WEBSHELL_CACHE/testnode-"*"$STATE/"* | "$WEBSHELL_CACHE/oidc-provider-"*"$STATE/"*) echo "$pid" ;;
    esac
  done
}

cmd_down() {
  [[ -d $STATE ]] || { log "cluster: not running (no state dir $STATE)"; return 0; }
  local was_running=0 pids
  any_alive && was_running=1
  # The node first (it takes its container processes down on SIGTERM), then
  # the apiserver, the OIDC provider, then etcd (an apiserver without etcd
  # hangs on shutdown).
  stop testnode
  stop kube-apiserver
  stop oidc-provider
  stop etcd
  # Safety net for anything that escaped (e.g. the node was SIGKILLed).
  pids=$(leftovers)
  if [[ -n $pids ]]; then
    log "killing leftover processes: $(echo $pids)"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  if [[ $was_running == 1 ]]; then log "cluster: stopped"; else log "cluster: not running"; fi
}

# ---------------------------------------------------------------- certs + credentials

gen_credentials() {
  local pki=$STATE/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    # One CA for the apiserver's serving cert; kubeconfigs trust it.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=webshell-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
    # The OIDC provider's serving cert, from the same CA.
    openssl req -newkey rsa:2048 -nodes -keyout oidc.key -out oidc.csr \
      -subj "/CN=webshell-test-oidc" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
      "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" >oidc.ext
    openssl x509 -req -in oidc.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out oidc.crt -days 3650 -extfile oidc.ext 2>/dev/null
    # Service account token signing key pair.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  # Static tokens, fresh per `up`: token,user,uid[,"groups"] (no groups column:
  # an empty one would make a group named ""). webshell-proxy is
  # the least-privileged identity of webshell's proxy mode (it may only
  # impersonate and create SubjectAccessReviews; manifests/10-rbac.yaml).
  local admin alice bob node proxy
  admin=$(openssl rand -hex 24) alice=$(openssl rand -hex 24)
  bob=$(openssl rand -hex 24) node=$(openssl rand -hex 24) proxy=$(openssl rand -hex 24)
  cat >"$pki/tokens.csv" <<EOF
$admin,admin,admin,"system:masters"
$alice,alice,alice
$bob,bob,bob
$proxy,webshell-proxy,webshell-proxy
$node,system:node:$NODE_NAME,node,"system:masters"
EOF
  chmod 600 "$pki"/*.key "$pki/tokens.csv"

  # OIDC client secrets and oauth2-proxy's cookie secret, fresh per `up`.
  local webshell_secret oauth2_proxy_secret cookie_secret
  webshell_secret=$(openssl rand -hex 24) oauth2_proxy_secret=$(openssl rand -hex 24)
  cookie_secret=$(openssl rand -hex 16) # 32 characters = a 32-byte AES key
  printf '%s\n' "webshell:$webshell_secret:/auth/oidc/callback" \
    "oauth2-proxy:$oauth2_proxy_secret:/oauth2/callback" >"$pki/oidc-clients"
  chmod 600 "$pki/oidc-clients"
  gen_apiserver_config
  # The OP cert's public key hash, for Chromium's --ignore-certificate-errors-spki-list
  # (a browser does not trust the test CA).
  local spki
  spki=$(openssl x509 -in "$pki/oidc.crt" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
  local users=() u
  for u in "${OIDC_USERS[@]}"; do users+=("$(cut -d: -f1,2 <<<"$u")"); done
  # For the tests: KEY=value lines (no quotes; no value has spaces). `env` prints them as exports.
  cat >"$STATE/oidc.env" <<EOF
WEBSHELL_OIDC_ISSUER=$OIDC_ISSUER
WEBSHELL_OIDC_CA_FILE=$pki/ca.crt
WEBSHELL_OIDC_CERT_SPKI=$spki
WEBSHELL_OIDC_CLIENT_ID=webshell
WEBSHELL_OIDC_CLIENT_SECRET=$webshell_secret
WEBSHELL_OIDC_USERS=$(IFS=,; echo "${users[*]}")
WEBSHELL_OIDC_LOGIN=$(oidc_provider_dir)/oidclogin
WEBSHELL_HEADERECHO=$(oidc_provider_dir)/headerecho
WEBSHELL_OAUTH2_PROXY=$here/oauth2-proxy.sh
WEBSHELL_OAUTH2_PROXY_CLIENT_ID=oauth2-proxy
WEBSHELL_OAUTH2_PROXY_CLIENT_SECRET=$oauth2_proxy_secret
WEBSHELL_OAUTH2_PROXY_COOKIE_SECRET=$cookie_secret
WEBSHELL_APISERVER_AUDIT_LOG=$STATE/logs/audit.log
WEBSHELL_OIDC_ENV=$STATE/oidc.env
EOF
  chmod 600 "$STATE/oidc.env"

  local server=https://127.0.0.1:$APISERVER_PORT kc=$STATE/kubeconfig u
  rm -f "$kc"
  KUBECONFIG=$kc "$KUBECTL" config set-cluster webshell --server="$server" \
    --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
  for u in admin alice bob webshell-proxy; do
    local var=${u#webshell-}
    KUBECONFIG=$kc "$KUBECTL" config set-credentials "$u" --token="${!var}" >/dev/null
    KUBECONFIG=$kc "$KUBECTL" config set-context "$u" --cluster=webshell --user="$u" >/dev/null
  done
  KUBECONFIG=$kc "$KUBECTL" config use-context admin >/dev/null
  chmod 600 "$kc"

  # The node's own kubeconfig (the node user is in system:masters: simpler
  # than NodeRestriction, and this is a test cluster).
  local nkc=$STATE/node.kubeconfig
  rm -f "$nkc"
  KUBECONFIG=$nkc "$KUBECTL" config set-cluster webshell --server="$server" \
    --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
  KUBECONFIG=$nkc "$KUBECTL" config set-credentials node --token="$node" >/dev/null
  KUBECONFIG=$nkc "$KUBECTL" config set-context node --cluster=webshell --user=node >/dev/null
  KUBECONFIG=$nkc "$KUBECTL" config use-context node >/dev/null
  chmod 600 "$nkc"
}

# gen_apiserver_config: kube-apiserver's structured authentication config
# (tokens of the OIDC provider, besides the static token file) and its audit
# policy (only what tests look at: who exec'd, attached, read logs or pods, and
# the access reviews).
gen_apiserver_config() {
  local pki=$STATE/pki
  {
    cat <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
  - issuer:
      url: $OIDC_ISSUER
      audiences: [webshell, oauth2-proxy]
      audienceMatchPolicy: MatchAny
      certificateAuthority: |
EOF
    sed 's/^/        /' "$pki/ca.crt"
    cat <<'EOF'
    claimMappings:
      username:
        claim: preferred_username
        prefix: "oidc:"
      groups:
        claim: groups
        prefix: "oidc:"
EOF
  } >"$pki/authentication-config.yaml"
  cat >"$pki/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # The test node's own pod traffic is noise.
  - level: None
    users: ["system:node:$NODE_NAME"]
  - level: Metadata
    resources:
      - group: ""
        resources: [pods/exec, pods/attach, pods/log]
  - level: Metadata
    verbs: [get, list]
    resources:
      - group: ""
        resources: [pods]
  - level: Metadata
    resources:
      - group: authorization.k8s.io
        resources: [selfsubjectaccessreviews, subjectaccessreviews, selfsubjectrulesreviews]
      - group: authentication.k8s.io
        resources: [selfsubjectreviews]
  - level: None
EOF
}

# ---------------------------------------------------------------- up

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for WHAT SECONDS COMPONENT CMD...: polls CMD until it succeeds; gives
# up at once if COMPONENT's process has died.
wait_for() {
  local what=$1 secs=$2 comp=$3 i
  shift 3
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    running "$comp" || die "$comp exited while waiting for $what; see $STATE/logs/$comp.log"
    sleep 0.1
  done
  die "$what not ready after ${secs}s; see $STATE/logs/"
}

# fail_up: on any error during up, show where to look and tear down what
# this up started (never an already running cluster: that check comes first).
fail_up() {
  log "cluster: up failed; logs are in $STATE/logs/ (tail of each below)"
  local f
  for f in "$STATE"/logs/*.log; do
    [[ -f $f ]] || continue
    log "==> $f"
    tail -n 5 "$f" >&2 || true
  done
  cmd_down
}

cmd_up() {
  local t0=$SECONDS
  mkdir -p "$STATE"
  # up wipes stale state below, so only ever in a dir it created itself.
  if [[ ! -f $STATE/$MARKER && -n $(ls -A "$STATE") ]]; then
    die "$STATE is not empty and not a webshell cluster dir; refusing to use it"
  fi
  touch "$STATE/$MARKER"
  # Serialise concurrent `up`/`down` on the same state dir.
  exec 9>"$STATE/.lock"
  flock -n 9 || die "another cluster.sh is working on $STATE right now"
  if any_alive; then
    die "cluster already running (state dir $STATE); run '$here/cluster.sh down' first"
  fi
  local p
  for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$NODE_PORT" "$OIDC_PORT"; do
    port_free "$p" || die "port 127.0.0.1:$p is in use (another cluster? set WEBSHELL_*_PORT to use other ports)"
  done
  # Stale state from a crashed run: kill its leftovers, then start afresh.
  cmd_down >/dev/null 2>&1
  rm -rf "$STATE/etcd" "$STATE/pki" "$STATE/pids" "$STATE/logs" "$STATE/node" "$STATE/kubeconfig" \
    "$STATE/node.kubeconfig" "$STATE/oidc.env"
  mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/node"

  cmd_build
  local node_bin oidc_dir
  node_bin=$(testnode_bin)
  oidc_dir=$(oidc_provider_dir)
  up_done=0
  trap '[[ $up_done == 1 ]] || fail_up' EXIT
  gen_credentials

  start etcd "$K8S_BIN_DIR/etcd" --name webshell --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "webshell=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  local pki=$STATE/pki
  # The OIDC provider, before the apiserver, which fetches its discovery
  # document and keys (trusting the test CA) to verify ID tokens.
  local op_args=() u c
  for u in "${OIDC_USERS[@]}"; do op_args+=(--user "$u"); done
  while read -r c; do op_args+=(--client "$c"); done <"$pki/oidc-clients"
  start oidc-provider "$oidc_dir/oidc-provider" --listen "127.0.0.1:$OIDC_PORT" --issuer "$OIDC_ISSUER" \
    --tls-cert "$pki/oidc.crt" --tls-key "$pki/oidc.key" --id-token-lifetime "$OIDC_ID_TOKEN_LIFETIME" \
    "${op_args[@]}"
  wait_for oidc-provider 30 oidc-provider curl -fsS --cacert "$pki/ca.crt" "$OIDC_ISSUER/.well-known/openid-configuration"

  # No scheduler or controller-manager: pods set spec.nodeName, and the
  # ServiceAccount admission plugin is off so no default SA is needed.
  # The endpoint reconciler refuses a loopback advertise address; nothing here
  # reaches the apiserver through the kubernetes Service, so turn it off.
  start kube-apiserver "$K8S_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" \
    --authentication-config "$pki/authentication-config.yaml" \
    --audit-policy-file "$pki/audit-policy.yaml" \
    --audit-log-path "$STATE/logs/audit.log" --audit-log-format json \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --disable-admission-plugins ServiceAccount \
    --kubelet-preferred-address-types InternalIP \
    --endpoint-reconciler-type none \
    --enable-priority-and-fairness=false \
    --profiling=false \
    --cert-dir "$STATE/pki/generated"
  export KUBECONFIG=$STATE/kubeconfig
  wait_for kube-apiserver 60 kube-apiserver "$KUBECTL" get --raw /readyz

  "$KUBECTL" apply -f "$here/manifests/" >/dev/null

  start testnode "$node_bin" --kubeconfig "$STATE/node.kubeconfig" --node-name "$NODE_NAME" \
    --listen "127.0.0.1:$NODE_PORT" --state-dir "$STATE/node"
  wait_for "node $NODE_NAME" 60 testnode "$KUBECTL" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
  wait_for "demo pods" 60 testnode "$KUBECTL" wait --for=jsonpath='{.status.phase}'=Running pods --all -n demo --timeout=1s
  up_done=1

  cat <<EOF
cluster: up in $((SECONDS - t0))s
  kubeconfig: $STATE/kubeconfig (contexts admin [current], alice, bob, webshell-proxy)
  use it:     eval "\$($here/cluster.sh env)"   (KUBECONFIG and the WEBSHELL_OIDC_* variables)
  apiserver:  https://127.0.0.1:$APISERVER_PORT
  oidc:       $OIDC_ISSUER (users alice, bob; settings in $STATE/oidc.env)
  logs:       $STATE/logs/{etcd,oidc-provider,kube-apiserver,testnode}.log, audit log $STATE/logs/audit.log
  containers: $STATE/node/pods/<ns>_<pod>_<uid>/logs/<container>.log
EOF
}

# ---------------------------------------------------------------- status, env

cmd_status() {
  local c running=0
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then
      echo "$c: running (pid $(<"$STATE/pids/$c.pid"))"
      running=1
    else
      echo "$c: stopped"
    fi
  done
  if [[ $running == 1 ]] && alive kube-apiserver; then
    KUBECONFIG=$STATE/kubeconfig "$KUBECTL" get nodes,pods -n demo -o wide 2>&1 || true
  fi
  echo "state dir: $STATE"
}

cmd_env() {
  echo "export KUBECONFIG=$STATE/kubeconfig"
  # Written by `up` (secrets are fresh per up); nothing more before the first up.
  if [[ -f $STATE/oidc.env ]]; then
    sed -n 's/^\(WEBSHELL_[A-Z0-9_]*=\)/export \1/p' "$STATE/oidc.env"
  fi
}

case ${1:-} in
  build) cmd_build ;;
  up) cmd_up ;;
  down)
    if [[ -d $STATE ]]; then
      exec 9>"$STATE/.lock"
      # Wait for a running `up` to finish; proceed anyway after 30 s, since
      # stopping must work even if something is wedged holding the lock.
      flock -w 30 9 || log "warning: $STATE is locked by another cluster.sh; stopping anyway"
    fi
    cmd_down
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
