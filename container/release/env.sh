# Sourced by the release scripts: the registry and credentials from the environment
# (REGISTRY such as ghcr.io/OWNER or ACCOUNT.dkr.ecr.REGION.amazonaws.com, REGISTRY_USER,
# REGISTRY_PASSWORD), else the local registry's (cluster/registry/registry env). Logs in
# once per call; credentials go on stdin, never on a command line, and are stored under
# .local/release, never in the user's own docker or helm configuration.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RELEASE_STATE=${RELEASE_STATE:-$ROOT/.local/release}
TOOLS=${TOOLS_BIN:-$ROOT/.tools/bin}
export PATH=$TOOLS:$PATH

fail() {
  echo "${0##*/}: $*" >&2
  exit 1
}

if [ -z "${REGISTRY:-}" ]; then
  eval "$("$ROOT/cluster/registry/registry" env)"
fi
if [ -z "${REGISTRY_USER:-}" ] || [ -z "${REGISTRY_PASSWORD:-}" ]; then
  fail "set REGISTRY_USER and REGISTRY_PASSWORD in the environment for $REGISTRY"
fi
REGISTRY_HOST=${REGISTRY%%/*}
mkdir -p "$RELEASE_STATE" && chmod 700 "$RELEASE_STATE"
export DOCKER_CONFIG=$RELEASE_STATE/docker HELM_REGISTRY_CONFIG=$RELEASE_STATE/helm-registry.json
# A private CA (the local registry's): Go clients (crane, cosign, syft, helm) read it here.
if [ -n "${REGISTRY_CA:-}" ]; then export SSL_CERT_FILE=$REGISTRY_CA; fi

# crane's login serves crane, cosign and syft (docker config.json); helm keeps its own.
registry_login() {
  crane auth login "$REGISTRY_HOST" -u "$REGISTRY_USER" --password-stdin <<<"$REGISTRY_PASSWORD" >/dev/null 2>&1 ||
    fail "login to $REGISTRY_HOST as $REGISTRY_USER refused"
}
helm_login() {
  helm registry login "$REGISTRY_HOST" -u "$REGISTRY_USER" --password-stdin <<<"$REGISTRY_PASSWORD" >/dev/null 2>&1 ||
    fail "helm registry login to $REGISTRY_HOST as $REGISTRY_USER refused"
}
