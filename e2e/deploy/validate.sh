#!/usr/bin/env bash
# Checks deploy/ (the Helm chart and the kustomize overlays) against the real test apiserver.
#
#   bash e2e/cluster/cluster.sh up && bash e2e/deploy/validate.sh
#
# For each auth mode (token, oidc, proxy), the Helm chart (with ci/<mode>-values.yaml) and the
# kustomize overlay are rendered and sent with `kubectl apply --dry-run=server`, so the
# apiserver's own validation and admission run on them, in a namespace that enforces and warns
# on the "restricted" Pod Security Standard: any warning fails the check. The objects the
# apiserver returns are then checked: the auth mode, the restricted securityContext fields,
# probes on the ops port, and RBAC (impersonation rights in proxy mode only, and no Role or
# binding at all otherwise). Then the chart is installed for real twice, the way people do:
#   - proxy mode with `helm template | kubectl apply -f -`: `kubectl auth can-i` as the
#     server's ServiceAccount may impersonate users and groups and create
#     SubjectAccessReviews, and may not list pods, exec, read secrets or impersonate
#     ServiceAccounts; then the server runs in-cluster as that account and opens a shell;
#   - token mode with `helm install`: the ServiceAccount may do none of that, and
#     `helm upgrade` keeps the generated session key.
# Everything is deleted on exit, failed or not (the namespace too: the test cluster runs no
# namespace controller, so the script finalizes the emptied namespace itself).
#
# Environment: KUBECONFIG (default: the test cluster's, from cluster.sh env);
# WEBSHELL_DEPLOY_CHECK_NAMESPACE (default webshell-deploy-check). Uses the context "admin".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/e2e/cluster/versions.env"
[[ -n ${KUBECONFIG:-} ]] || eval "$(bash "$root/e2e/cluster/cluster.sh" env)"
eval "$(bash "$root/scripts/helm.sh")"

NS=${WEBSHELL_DEPLOY_CHECK_NAMESPACE:-webshell-deploy-check}
MODES=(token oidc proxy)
chart=$root/deploy/helm/webshell
kustomize=$root/deploy/kustomize
SA=system:serviceaccount:$NS:webshell
k() { "$K8S_BIN_DIR/kubectl" --context admin "$@"; }
h() { helm --kube-context admin "$@"; }
pass() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

k get --raw /readyz >/dev/null 2>&1 || die "no apiserver at KUBECONFIG=$KUBECONFIG (bash e2e/cluster/cluster.sh up)"

# Removes everything a run creates; safe to call when any of it is missing.
remove_all() {
  h uninstall webshell -n "$NS" --ignore-not-found >/dev/null 2>&1
  # The proxy install's cluster-scoped objects (named by the chart after the namespace).
  k delete clusterrolebinding,clusterrole "$NS-webshell-impersonator" --ignore-not-found >/dev/null 2>&1
  if k get namespace "$NS" >/dev/null 2>&1; then
    k delete all,configmaps,secrets,serviceaccounts,ingresses,networkpolicies,poddisruptionbudgets,events \
      --all -n "$NS" --wait=false >/dev/null 2>&1
    k delete namespace "$NS" --wait=false >/dev/null 2>&1
    # What the namespace controller does once the namespace is empty: drop its finalizer.
    k get namespace "$NS" -o json 2>/dev/null |
      python3 -c 'import json, sys; ns = json.load(sys.stdin); ns["spec"]["finalizers"] = []; print(json.dumps(ns))' |
      k replace --raw "/api/v1/namespaces/$NS/finalize" -f - >/dev/null 2>&1
  fi
  return 0
}

# A namespace of ours left by a run that was killed outright (a run takes seconds, so an old
# one is no concurrent run): clear it. Anything else of that name is not ours to touch.
if created=$(k get namespace "$NS" -o jsonpath='{.metadata.labels.webshell-deploy-check}/{.metadata.creationTimestamp}' 2>/dev/null); then
  age=$(( $(date +%s) - $(date -d "${created#*/}" +%s) ))
  [[ ${created%%/*} == true && $age -gt 300 ]] || die "namespace $NS exists (not a leftover of this check, or one running now)"
  echo "removing $NS, left by an interrupted run ${age}s ago" >&2
  remove_all || true
fi

work=$(mktemp -d)
cleanup() {
  local rc=$?
  set +e
  remove_all
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Fails on any warning (PodSecurity "would violate ...", deprecated APIs, unknown fields).
no_warnings() { # what stderr-file
  if grep -q . "$2"; then
    cat "$2" >&2
    die "$1: the apiserver warned"
  fi
}

# The checks on the objects the apiserver returned (a List, or one object).
check_objects() { # what mode json-file
  python3 - "$@" <<'EOF'
import json, re, sys

what, mode, path = sys.argv[1:]
doc = json.load(open(path))
objs = doc["items"] if doc.get("kind") == "List" else [doc]
by_kind = {}
for o in objs:
    by_kind.setdefault(o["kind"], []).append(o)

def fail(msg):
    sys.exit(f"FAIL: {what}: {msg}")

def ok(msg):
    print(f"ok: {what}: {msg}")

# --- the Deployment and its restricted securityContext
deps = by_kind.get("Deployment", [])
if len(deps) != 1:
    fail(f"expected one Deployment, got {len(deps)}")
spec = deps[0]["spec"]
pod = spec["template"]["spec"]
if spec.get("replicas") != 2:
    fail(f"replicas {spec.get('replicas')}, not 2")
psc = pod.get("securityContext", {})
want_pod = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532}
for field, value in want_pod.items():
    if psc.get(field) != value:
        fail(f"pod securityContext.{field} is {psc.get(field)!r}, not {value!r}")
if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
    fail("pod securityContext.seccompProfile.type is not RuntimeDefault")
if pod.get("automountServiceAccountToken") is not True:
    fail("automountServiceAccountToken is not true (the in-cluster config needs the token)")
[c] = [c for c in pod["containers"] if c["name"] == "webshell"]
csc = c.get("securityContext", {})
want_ctr = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}
for field, value in want_ctr.items():
    if csc.get(field) != value:
        fail(f"container securityContext.{field} is {csc.get(field)!r}, not {value!r}")
if csc.get("capabilities", {}).get("drop") != ["ALL"]:
    fail("container securityContext.capabilities.drop is not [ALL]")
if csc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
    fail("container securityContext.seccompProfile.type is not RuntimeDefault")
ok("Deployment: 2 replicas, restricted securityContext (pod and container)")

# --- ports, probes, mounts, drain
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
if ports.get("http") != 8080 or ports.get("ops") != 9090:
    fail(f"container ports {ports}, want http 8080 and ops 9090")
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    get = c.get(probe, {}).get("httpGet", {})
    if get.get("path") != path or get.get("port") not in ("ops", 9090):
        fail(f"{probe} is {get}, want {path} on the ops port")
args = c.get("args", [])
flag = lambda name: next((a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")), None)
if flag("listen") != "0.0.0.0:8080" or flag("ops-listen") != "0.0.0.0:9090":
    fail(f"--listen/--ops-listen are {flag('listen')}/{flag('ops-listen')}")
drain = flag("shutdown-drain")
m = re.fullmatch(r"(\d+)s", drain or "")
if not m or pod.get("terminationGracePeriodSeconds", 30) <= int(m.group(1)):
    fail(f"terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds')} is not above --shutdown-drain {drain}")
mounts = {v["mountPath"]: v for v in c.get("volumeMounts", [])}
if not mounts.get("/etc/webshell/secret", {}).get("readOnly"):
    fail("the Secret is not mounted read-only at /etc/webshell/secret")
if "/tmp" not in mounts:
    fail("no /tmp mount")
res = c.get("resources", {})
if not (res.get("requests") and res.get("limits")):
    fail("resources need requests and limits")
ok("probes on ops (9090), drain below the grace period, Secret read-only, resources set")

# --- the auth mode: a flag (Helm) or WEBSHELL_AUTH in the envFrom ConfigMap (kustomize)
auth = flag("auth")
if auth is None:
    names = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
    cms = [o for o in by_kind.get("ConfigMap", []) if o["metadata"]["name"] in names]
    auth = next((cm["data"]["WEBSHELL_AUTH"] for cm in cms if "WEBSHELL_AUTH" in cm.get("data", {})), None)
if auth != mode:
    fail(f"the server runs with --auth {auth}, not {mode}")
ok(f"--auth {mode}")

# --- Service, PodDisruptionBudget
svc = by_kind.get("Service", [])
if len(svc) != 1 or {p["name"]: p["port"] for p in svc[0]["spec"]["ports"]} != {"http": 8080, "ops": 9090}:
    fail("expected one Service with ports http 8080 and ops 9090")
if len(by_kind.get("PodDisruptionBudget", [])) != 1:
    fail("expected one PodDisruptionBudget")
ok("Service (http 8080, ops 9090) and PodDisruptionBudget")

# --- RBAC: impersonation in proxy mode only, exactly the rights it needs; nothing otherwise
roles = by_kind.get("Role", []) + by_kind.get("ClusterRole", [])
bindings = by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", [])
rules = sorted(
    (g, r, v)
    for role in roles for rule in role.get("rules", [])
    for g in rule.get("apiGroups", []) for r in rule.get("resources", []) for v in rule.get("verbs", []))
if mode == "proxy":
    want = sorted([("", "users", "impersonate"), ("", "groups", "impersonate"),
                   ("authorization.k8s.io", "subjectaccessreviews", "create")])
    if rules != want:
        fail(f"proxy mode's rules are {rules}, want exactly {want}")
    sa = [s for b in bindings for s in b.get("subjects", [])
          if s["kind"] == "ServiceAccount" and s["name"] == pod.get("serviceAccountName")]
    if len(roles) != 1 or len(bindings) != 1 or not sa:
        fail("proxy mode needs one ClusterRole bound to the server's ServiceAccount")
    ok("RBAC: impersonate users/groups + create subjectaccessreviews, bound to the ServiceAccount")
else:
    if roles or bindings:
        fail(f"{mode} mode must bind no rights to the server, found {[o['kind'] + '/' + o['metadata']['name'] for o in roles + bindings]}")
    ok("RBAC: no Role, ClusterRole or binding")
EOF
}

# ---------------------------------------------------------------- lint
# (With the defaults, publicUrl is unset: lint reports the template's `fail` as INFO only.)
h lint "$chart" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; die "helm lint (defaults)"; }
for mode in "${MODES[@]}"; do
  h lint "$chart" --strict -f "$chart/ci/$mode-values.yaml" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; die "helm lint ($mode)"; }
done
pass "helm lint (defaults, and --strict with ci/{token,oidc,proxy}-values.yaml)"

# ---------------------------------------------------------------- the check namespace
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
    webshell-deploy-check: "true"
EOF
pass "namespace $NS (enforces and warns on Pod Security \"restricted\")"

# ---------------------------------------------------------------- server-side dry runs
for mode in "${MODES[@]}"; do
  h template webshell "$chart" -n "$NS" -f "$chart/ci/$mode-values.yaml" >"$work/helm-$mode.yaml"
  k apply --dry-run=server -o json -f "$work/helm-$mode.yaml" >"$work/helm-$mode.json" 2>"$work/err" ||
    { cat "$work/err" >&2; die "helm $mode: kubectl apply --dry-run=server"; }
  no_warnings "helm $mode" "$work/err"
  pass "helm $mode: kubectl apply --dry-run=server accepted $(grep -c '^kind:' "$work/helm-$mode.yaml") objects, no warnings"
  check_objects "helm $mode" "$mode" "$work/helm-$mode.json"

  # The overlays deploy to namespace "webshell"; a wrapper points them at the check namespace
  # (as a user's own overlay would) and adds the optional ingress.yaml and networkpolicy.yaml
  # of the base, which no overlay lists (files outside its root: LoadRestrictionsNone).
  wrap=$work/kustomize-$mode
  mkdir -p "$wrap"
  rel=$(realpath --relative-to="$wrap" "$kustomize")
  cat >"$wrap/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
resources:
  - $rel/overlays/$mode
  - $rel/base/ingress.yaml
  - $rel/base/networkpolicy.yaml
EOF
  k kustomize "$kustomize/overlays/$mode" >/dev/null # the overlay as shipped builds on its own
  k kustomize --load-restrictor LoadRestrictionsNone "$wrap" >"$work/kustomize-$mode.yaml"
  k apply --dry-run=server -o json -f "$work/kustomize-$mode.yaml" >"$work/kustomize-$mode.json" 2>"$work/err" ||
    { cat "$work/err" >&2; die "kustomize $mode: kubectl apply --dry-run=server"; }
  no_warnings "kustomize $mode" "$work/err"
  pass "kustomize $mode: kubectl apply --dry-run=server accepted $(grep -c '^kind:' "$work/kustomize-$mode.yaml") objects, no warnings"
  check_objects "kustomize $mode" "$mode" "$work/kustomize-$mode.json"
done

# ---------------------------------------------------------------- real installs
can() { # expect verb resource [namespace]
  local got
  got=$(k auth can-i "$2" "$3" --as "$SA" ${4:+-n "$4"} 2>/dev/null || true)
  [[ $got == "$1" ]] || die "can-i $2 $3 as $SA: $got, want $1"
}

# proxy, the way a pipeline does it.
h template webshell "$chart" -n "$NS" -f "$chart/ci/proxy-values.yaml" >"$work/applied.yaml"
k apply -f "$work/applied.yaml" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; die "proxy: kubectl apply"; }
no_warnings "proxy: kubectl apply" "$work/err"
can yes impersonate users
can yes impersonate groups
can yes create subjectaccessreviews.authorization.k8s.io
can no impersonate serviceaccounts
can no list pods
can no create pods/exec demo
can no get secrets "$NS"
pass "proxy: helm template | kubectl apply; can-i: impersonate users/groups, create SubjectAccessReviews; not impersonate serviceaccounts, list pods, exec, get secrets"

# In-cluster mode with that install: the server runs as the chart's ServiceAccount would, with
# a real token from the TokenRequest API at the in-cluster paths and nothing else
# (backend/tests/incluster.rs), lists alice's pods and opens a shell as her.
sa=$work/serviceaccount
mkdir -p "$sa"
k create token webshell -n "$NS" --duration 10m >"$sa/token"
k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$sa/ca.crt"
printf %s "$NS" >"$sa/namespace"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
(cd "$root" && INCLUSTER_SA_DIR=$sa INCLUSTER_APISERVER=${server#https://} \
  cargo test -q -p webshell --test incluster 2>&1) >"$work/incluster.log" ||
  { cat "$work/incluster.log" >&2; die "in-cluster mode"; }
pass "in-cluster: a TokenRequest token of the chart's ServiceAccount at /var/run/secrets/kubernetes.io/serviceaccount, no kubeconfig: lists pods and opens a shell as alice (proxy mode)"
k delete -f "$work/applied.yaml" --wait=false >/dev/null
k get clusterrole "$NS-webshell-impersonator" >/dev/null 2>&1 && die "proxy: the ClusterRole outlived kubectl delete"

# token, with helm itself (release state, lookup on upgrade).
h install webshell "$chart" -n "$NS" -f "$chart/ci/token-values.yaml" >/dev/null
can no impersonate users
can no create subjectaccessreviews.authorization.k8s.io
can no list pods
can no get secrets "$NS"
key=$(k get secret webshell -n "$NS" -o jsonpath='{.data.session-key}')
[[ $(printf %s "$key" | base64 -d | wc -c) -ge 32 ]] || die "token: the generated session key is under 32 bytes"
h upgrade webshell "$chart" -n "$NS" -f "$chart/ci/token-values.yaml" >/dev/null
[[ $(k get secret webshell -n "$NS" -o jsonpath='{.data.session-key}') == "$key" ]] ||
  die "token: helm upgrade changed the session key (lookup should keep it)"
h uninstall webshell -n "$NS" >/dev/null
pass "token: helm install; can-i says no to impersonate, create SubjectAccessReviews, list pods, get secrets; helm upgrade keeps the 48-byte session key; helm uninstall"
