#!/usr/bin/env bash
# Checks the test cluster's lifecycle and its main behaviours end to end:
# a second `up` fails cleanly, RBAC per user, the identities (OIDC provider,
# OIDC ID tokens at the apiserver, webshell-proxy impersonation, the audit
# log, oauth2-proxy in front of an upstream), exit codes, logs, the TTY
# behaviour (ttyprobe: size, resize, Ctrl-C, hang-up on close), then `down`
# leaves no process behind. Starts the cluster if it is not up; always leaves
# it DOWN. Honours the same environment as cluster.sh (WEBSHELL_CLUSTER_DIR,
# WEBSHELL_*_PORT). Last line: "N passed, N failed"; exit status 1 on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
STATE=${WEBSHELL_CLUSTER_DIR:-$WEBSHELL_CACHE/cluster}
KUBECTL=$K8S_BIN_DIR/kubectl
cluster=$here/cluster.sh

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME CMD...: passes when CMD succeeds; its output is shown only on failure.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# Whatever happens, the cluster ends DOWN, and what this script started in
# the background (oauth2-proxy, its upstream) is stopped.
bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$cluster" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# (Captured, not piped into `grep -q`: grep's early exit would SIGPIPE status under pipefail.)
if [[ $("$cluster" status 2>/dev/null) != *"kube-apiserver: running"* ]]; then
  echo "cluster not up; starting it"
  start=$SECONDS
  "$cluster" up >/dev/null
  echo "up took $((SECONDS - start))s"
fi
export KUBECONFIG=$STATE/kubeconfig
k() { "$KUBECTL" -n demo "$@"; }

# --- a second up fails clearly and leaves the running cluster alone
out=$("$cluster" up 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *"already running"* ]]; then pass "second up fails clearly"; else fail "second up fails clearly" "rc=$rc: $out"; fi
check "cluster still healthy after second up" k wait --for=jsonpath='{.status.phase}'=Running pods --all --timeout=10s

# --- RBAC
out=$(k --context alice exec bash-pod -- echo hello-alice 2>&1) || true
if [[ $out == hello-alice ]]; then pass "alice can exec"; else fail "alice can exec" "$out"; fi
out=$(k --context bob exec bash-pod -- echo hello-bob 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *forbidden* ]]; then pass "bob is forbidden to exec"; else fail "bob is forbidden to exec" "rc=$rc: $out"; fi
check "bob can list pods" k --context bob get pods -o name
check "alice and bob can list namespaces" bash -c "'$KUBECTL' --context alice get ns >/dev/null && '$KUBECTL' --context bob get ns >/dev/null"

# --- identity: the OIDC provider
set -a
# shellcheck disable=SC1091
source "$STATE/oidc.env"
set +a
out=$(curl -fsS --cacert "$WEBSHELL_OIDC_CA_FILE" "$WEBSHELL_OIDC_ISSUER/.well-known/openid-configuration" 2>&1) || true
if [[ $out == *"\"issuer\":\"$WEBSHELL_OIDC_ISSUER\""* ]]; then pass "OIDC discovery over TLS trusted by the test CA"
else fail "OIDC discovery over TLS trusted by the test CA" "$out"; fi
out=$("$WEBSHELL_OIDC_LOGIN" --user alice --password wrong 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *"wrong username or password"* ]]; then pass "OIDC login form refuses a wrong password"
else fail "OIDC login form refuses a wrong password" "rc=$rc: $out"; fi

# --- identity: ID tokens from the login form are accepted by the apiserver
alice_token=$("$WEBSHELL_OIDC_LOGIN" --user alice 2>&1) || true
bob_token=$("$WEBSHELL_OIDC_LOGIN" --user bob 2>&1) || true
out=$("$KUBECTL" auth whoami --token "$alice_token" -o jsonpath='{.status.userInfo.username} {.status.userInfo.groups}' 2>&1) || true
if [[ $out == "oidc:alice "*'"oidc:demo-users"'* ]]; then pass "apiserver sees the OIDC login as oidc:alice"
else fail "apiserver sees the OIDC login as oidc:alice" "$out"; fi
out=$(k --token "$alice_token" exec bash-pod -- echo hello-oidc-alice 2>&1) || true
if [[ $out == hello-oidc-alice ]]; then pass "oidc:alice can exec"; else fail "oidc:alice can exec" "$out"; fi
out=$(k --token "$bob_token" exec bash-pod -- echo x 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *forbidden* && $out == *'"oidc:bob"'* ]]; then pass "oidc:bob is forbidden to exec"
else fail "oidc:bob is forbidden to exec" "rc=$rc: $out"; fi

# --- identity: webshell-proxy may impersonate, and nothing more
check "webshell-proxy lists pods as alice" k --context webshell-proxy --as alice get pods -o name
out=$(k --context webshell-proxy get pods 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *forbidden* ]]; then pass "webshell-proxy alone may not list pods"
else fail "webshell-proxy alone may not list pods" "rc=$rc: $out"; fi
out=$(k --context webshell-proxy --as alice --as-group demo-users exec bash-pod -- echo hello-impersonated 2>&1) || true
if [[ $out == hello-impersonated ]]; then pass "webshell-proxy execs as alice"; else fail "webshell-proxy execs as alice" "$out"; fi
out=$(k --context webshell-proxy --as bob exec bash-pod -- echo x 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *forbidden* ]]; then pass "webshell-proxy as bob is forbidden to exec"
else fail "webshell-proxy as bob is forbidden to exec" "rc=$rc: $out"; fi

# --- identity: the apiserver's audit log names who exec'd
# (Captures, not `grep -q` in a pipe: see the note above the first `up`.)
execs=$(grep '"subresource":"exec"' "$WEBSHELL_APISERVER_AUDIT_LOG" 2>/dev/null || true)
if [[ $execs == *'"user":{"username":"oidc:alice"'* ]]; then pass "audit log: exec by oidc:alice"
else fail "audit log: exec by oidc:alice" "$(grep -c . <<<"$execs") exec events"; fi
impersonated=$(grep '"user":{"username":"webshell-proxy"' <<<"$execs" || true)
if [[ $impersonated == *'"impersonatedUser":{"username":"alice"'* ]]; then
  pass "audit log: exec by webshell-proxy impersonating alice"
else fail "audit log: exec by webshell-proxy impersonating alice" "$(grep -c . <<<"$execs") exec events"; fi

# --- identity: oauth2-proxy signs in at the OP and forwards the user upstream
free_port() {
  local p
  for ((p = 20000 + RANDOM % 20000; ; p++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
echo_port=$(free_port)
"$WEBSHELL_HEADERECHO" --listen "127.0.0.1:$echo_port" >/dev/null 2>&1 &
bg_pids+=($!)
proxy_port=$(free_port)
[[ $proxy_port != "$echo_port" ]] || proxy_port=$((echo_port + 1))
"$WEBSHELL_OAUTH2_PROXY" --listen "127.0.0.1:$proxy_port" --upstream "http://127.0.0.1:$echo_port" \
  >"$STATE/logs/oauth2-proxy-check.log" 2>&1 &
bg_pids+=($!)
for ((i = 0; i < 100; i++)); do
  curl -fsS "http://127.0.0.1:$proxy_port/ping" >/dev/null 2>&1 && break
  sleep 0.1
done
jar=$(mktemp)
# GET a protected page -> redirects to the OP's login form; post it -> back to the page.
form=$(curl -sS -L --cacert "$WEBSHELL_OIDC_CA_FILE" -c "$jar" -b "$jar" "http://127.0.0.1:$proxy_port/probe?x=1" 2>&1) || true
request_id=$(sed -n 's/.*name="authRequestID" value="\([^"]*\)".*/\1/p' <<<"$form")
out=$(curl -sS -L --cacert "$WEBSHELL_OIDC_CA_FILE" -c "$jar" -b "$jar" -d "authRequestID=$request_id" \
  -d username=alice -d password="$(sed -n 's/.*alice:\([^,]*\).*/\1/p' <<<"$WEBSHELL_OIDC_USERS")" \
  "$WEBSHELL_OIDC_ISSUER/login" 2>&1) || true
rm -f "$jar"
if [[ $out == *'"path":"/probe?x=1"'* && $out == *'"X-Forwarded-User":["alice"]'* &&
  $out == *'"X-Forwarded-Groups":["demo-users,webshell-users"]'* ]]; then
  pass "oauth2-proxy login forwards X-Forwarded-User alice"
else fail "oauth2-proxy login forwards X-Forwarded-User alice" "${out:0:600}"; fi
out=$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-Forwarded-User: alice' "http://127.0.0.1:$proxy_port/probe" 2>&1) || true
if [[ $out == 302 ]]; then pass "oauth2-proxy: a forged X-Forwarded-User without a session is sent to log in"
else fail "oauth2-proxy: a forged X-Forwarded-User without a session is sent to log in" "$out"; fi
for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
bg_pids=()

# --- exec results
k exec bash-pod -- sh -c 'exit 3' >/dev/null 2>&1 && rc=0 || rc=$?
if [[ $rc == 3 ]]; then pass "exit code 3 reaches kubectl"; else fail "exit code 3 reaches kubectl" "rc=$rc"; fi
out=$(k exec bash-pod -- sh -c 'echo out; echo err >&2' 2>/dev/null)
if [[ $out == out ]]; then pass "stderr kept apart from stdout"; else fail "stderr kept apart from stdout" "$out"; fi
out=$(echo piped | k exec -i bash-pod -- cat 2>&1)
if [[ $out == piped ]]; then pass "stdin EOF reaches the process"; else fail "stdin EOF reaches the process" "$out"; fi
out=$(k exec distroless-pod -- sh 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *'executable file not found in $PATH'* ]]; then pass "no shell in distroless"; else fail "no shell in distroless" "$out"; fi
out=$(k exec sh-pod -- bash 2>&1) && rc=0 || rc=$?
if [[ $rc != 0 && $out == *'executable file not found in $PATH'* ]]; then pass "no bash in sh image"; else fail "no bash in sh image" "$out"; fi

# --- logs
out=$(k logs --tail=1 bash-pod 2>&1)
if [[ $out =~ ^tick\ [0-9]+$ ]]; then pass "logs --tail=1"; else fail "logs --tail=1" "$out"; fi
out=$(timeout 3 "$KUBECTL" -n demo logs -f --tail=0 sh-pod 2>&1 || true)
if [[ $(grep -c '^tick' <<<"$out") -ge 2 ]]; then pass "logs -f follows"; else fail "logs -f follows" "$out"; fi

# --- TTY behaviour through the apiserver, over SPDY and WebSocket
probe=$(cd "$here/testnode" && go build -trimpath -o "$WEBSHELL_CACHE/ttyprobe" ./cmd/ttyprobe && echo "$WEBSHELL_CACHE/ttyprobe") || probe=
if [[ -n $probe ]]; then
  results=0
  while read -r status name rest; do
    case $status in
      ok) pass "tty: $name" ;;
      FAIL) fail "tty: $name" "$rest" ;;
      *) continue ;;
    esac
    results=$((results + 1))
  done < <("$probe" --kubeconfig "$KUBECONFIG" --pod bash-pod 2>/dev/null || true)
  [[ $results -gt 0 ]] || fail "ttyprobe reported nothing"
else
  fail "build ttyprobe"
fi

# --- down leaves nothing behind
check "down succeeds" "$cluster" down
# ours: processes of this cluster: container processes (cwd in the state dir)
# and servers started against it. Clients that only read its kubeconfig
# (kubectl, a webshell backend under test) do not count.
ours() {
  local p cwd cmdline server
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    cmdline=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    server=0
    case $cmdline in
      "$K8S_BIN_DIR/etcd "*"$STATE/"* | "$K8S_BIN_DIR/kube-apiserver "*"$STATE/"* | \
        "$WEBSHELL_CACHE/testnode-"*"$STATE/"* | "$WEBSHELL_CACHE/oidc-provider-"*"$STATE/"*) server=1 ;;
    esac
    if [[ $cwd == "$STATE/"* || $server == 1 ]]; then echo "${p#/proc/} $cmdline"; fi
  done
}
sleep 0.5
left=$(ours)
if [[ -z $left ]]; then pass "no process left after down"; else fail "no process left after down" "$left"; fi
check "down again is a no-op" "$cluster" down

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
