#!/usr/bin/env bash
# Installs what kantai's tests need on a fresh Debian/Ubuntu machine:
#  - the real validators the tests run (cloud-init, caddy, BIND tools, shellcheck), iptables /
#    util-linux / e2fsprogs / nfs-kernel-server (exportfs) for the namespace tests, and MariaDB
#    (server + client) for the backup/restore tests, from Debian's packages;
#  - the npm packages (Node 22 comes with them, as the `node` devDependency).
# Safe to re-run. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(cloud-init caddy bind9 bind9-utils bind9-dnsutils shellcheck iptables util-linux jq openssl openssh-client prometheus mariadb-server mariadb-client nfs-kernel-server e2fsprogs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# actionlint (test/workflows.test.ts lints .github/workflows with it): built with Go from the module
# proxy into a cache outside the repo, reused while it is the pinned version.
# renovate: datasource=go depName=github.com/rhysd/actionlint
ACTIONLINT_VERSION=v1.7.12
KANTAI_TOOLS_BIN="${KANTAI_TOOLS_DIR:-$HOME/.cache/kantai-tools}/bin"
if [ "$("$KANTAI_TOOLS_BIN/actionlint" -version 2>/dev/null | head -n1)" != "$ACTIONLINT_VERSION" ]; then
  echo "setup: go install actionlint@$ACTIONLINT_VERSION -> $KANTAI_TOOLS_BIN"
  command -v go >/dev/null 2>&1 || { echo "setup: Go (>= 1.25) is needed to build actionlint" >&2; exit 1; }
  mkdir -p "$KANTAI_TOOLS_BIN"
  GOBIN="$KANTAI_TOOLS_BIN" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
# envoy-validate (test/envoy.test.ts checks every rendered Envoy bootstrap with it): Envoy's API
# protos and validation rules (tools/envoy-validate), built into ~/.cache/kantai-engine/.
echo "setup: envoy-validate -> $(bash scripts/engine.sh tool envoy-validate)"
echo "setup: done ($(node_modules/.bin/node --version), $(caddy version | cut -d' ' -f1), cloud-init $(cloud-init --version 2>&1 | awk '{print $2}'))"
