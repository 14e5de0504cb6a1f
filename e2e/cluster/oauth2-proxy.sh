#!/usr/bin/env bash
# Runs oauth2-proxy in front of UPSTREAM, signing users in at the test
# cluster's OIDC provider (cluster.sh up must have run). It execs, so the
# caller's pid is oauth2-proxy's and killing it stops the proxy.
#
#   oauth2-proxy.sh --listen 127.0.0.1:PORT --upstream http://127.0.0.1:UPSTREAM_PORT [oauth2-proxy flags...]
#
# Extra flags are passed on and win over the defaults below (the last of a
# repeated flag counts). Browse to http://127.0.0.1:PORT (not localhost: the
# redirect URL, and so the CSRF cookie, is on the --listen address).
#
# What the upstream gets (--pass-user-headers; client-sent copies are stripped):
#   X-Forwarded-User                the ID token's sub: alice / bob
#   X-Forwarded-Email               alice@webshell.test / bob@webshell.test
#   X-Forwarded-Preferred-Username  alice / bob
#   X-Forwarded-Groups              one header line per group, e.g. demo-users and webshell-users
# Requests with "Authorization: Bearer <ID token issued to client oauth2-proxy>"
# pass without a cookie (--skip-jwt-bearer-tokens), with the same headers (and
# that Authorization header).
#
# A session lives as long as its ID token (5 min by default), unless renewed:
# with offline_access the OP issues refresh tokens, and --cookie-refresh=30s
# renews a session older than 30 s on its next request. With a shorter ID
# token lifetime (WEBSHELL_OIDC_ID_TOKEN_LIFETIME), pass a shorter --cookie-refresh.
#
# The settings come from $WEBSHELL_OIDC_ENV, else $WEBSHELL_CLUSTER_DIR/oidc.env
# (default ~/.cache/webshell/cluster/oidc.env), written by `cluster.sh up`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

listen= upstream=
while [[ $# -gt 0 ]]; do
  case $1 in
    --listen) listen=${2:-}; shift 2 || usage ;;
    --listen=*) listen=${1#--listen=}; shift ;;
    --upstream) upstream=${2:-}; shift 2 || usage ;;
    --upstream=*) upstream=${1#--upstream=}; shift ;;
    -h | --help) usage ;;
    *) break ;;
  esac
done
[[ $listen == *:[0-9]* && -n $upstream ]] || usage
port=${listen##*:}

envfile=${WEBSHELL_OIDC_ENV:-${WEBSHELL_CLUSTER_DIR:-$WEBSHELL_CACHE/cluster}/oidc.env}
[[ -f $envfile ]] || { echo "oauth2-proxy.sh: $envfile not found; run cluster.sh up first" >&2; exit 1; }
# shellcheck disable=SC1090
source "$envfile"

if [[ ! -x $OAUTH2_PROXY_BIN ]]; then
  "$here/cluster.sh" build >&2
fi

exec "$OAUTH2_PROXY_BIN" \
  --http-address="$listen" \
  --upstream="$upstream" \
  --provider=oidc \
  --provider-display-name="webshell test OP" \
  --oidc-issuer-url="$WEBSHELL_OIDC_ISSUER" \
  --provider-ca-file="$WEBSHELL_OIDC_CA_FILE" \
  --client-id="$WEBSHELL_OAUTH2_PROXY_CLIENT_ID" \
  --client-secret="$WEBSHELL_OAUTH2_PROXY_CLIENT_SECRET" \
  --code-challenge-method=S256 \
  --scope="openid email profile groups offline_access" \
  --redirect-url="http://$listen/oauth2/callback" \
  --cookie-secret="$WEBSHELL_OAUTH2_PROXY_COOKIE_SECRET" \
  --cookie-name="_oauth2_proxy_$port" \
  --cookie-secure=false \
  --cookie-refresh=30s \
  --email-domain='*' \
  --pass-user-headers=true \
  --skip-auth-strip-headers=true \
  --skip-provider-button=true \
  --proxy-websockets=true \
  --skip-jwt-bearer-tokens=true \
  --silence-ping-logging=true \
  "$@"
