#!/usr/bin/env bash
# Build (or reuse) the Pulumi engine kantai's engine tests run on, from pinned Go modules.
#
#   bash scripts/engine.sh [build]     build what is missing, print the bin dir
#   bash scripts/engine.sh env         build if missing, print `export` lines (eval them)
#   bash scripts/engine.sh pulumi ...  run the built CLI offline (local file backend in .pulumi/)
#   bash scripts/engine.sh info        print versions, paths and the last build's timings
#   bash scripts/engine.sh clean       remove this repo state's build from the cache
#   bash scripts/engine.sh tool NAME   build NAME if missing, print its bin dir; NAME is one of
#                                      k8s (control plane), kwok, kubernetes-provider, envoy-validate
#   bash scripts/engine.sh tool-dir NAME   the cache dir of NAME (built or not)
#
# KANTAI_ENGINE=system uses the normal Pulumi install on $PATH instead of building (no Go needed).
#
# What it builds (docs/how-to/engine.md, docs/decisions/0005-engine-from-modules.md):
#   bin/pulumi                         Pulumi CLI, module github.com/pulumi/pulumi/pkg/v3 (tools/cli)
#   bin/pulumi-language-nodejs         Node.js language host, sdk/v3 package (tools/langhost)
#   bin/pulumi-resource-pulumi-nodejs  dynamic-provider shim copied from the @pulumi/pulumi npm package
#   standins/pulumi-resource-<name>    STAND-IN provider plugins (tools/standins), not the real providers
# and, each in its own cache dir <name>-<key>/bin (`tool NAME`, built only when asked for):
#   k8s: kube-apiserver kube-controller-manager kube-scheduler kubectl etcd  (tools/k8s, k8s v1.34.1)
#   kwok: kwok, SIMULATED nodes and pods (tools/kwok)
#   kubernetes-provider: pulumi-resource-kubernetes, the REAL provider (tools/kubernetes-provider)
#   envoy-validate: Envoy bootstrap validator (tools/envoy-validate; scripts/setup.sh builds it)
#
# Cache: ${KANTAI_ENGINE_DIR:-$HOME/.cache/kantai-engine}/<key>/, key = hash of the Go modules'
# go.mod/go.sum, the Go version and this script's build recipe. A warm cache rebuilds nothing.
# KANTAI_ENGINE_REBUILD=1 forces a rebuild.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_ROOT="${KANTAI_ENGINE_DIR:-$HOME/.cache/kantai-engine}"
RECIPE=1 # bump when the build commands below change

# The language host needs Node 22 (the `node` npm devDependency), the system node may be older.
export PATH="$REPO/node_modules/.bin:$PATH"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"

say() { printf 'engine: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# version of module $2 required in go.mod $1
modver() { awk -v m="$2" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$1"; }

CLI_MOD="$REPO/tools/cli"
LH_MOD="$REPO/tools/langhost"
CLI_VERSION="$(modver "$CLI_MOD/go.mod" github.com/pulumi/pulumi/pkg/v3)"
LH_VERSION="$(modver "$LH_MOD/go.mod" github.com/pulumi/pulumi/sdk/v3)"
[[ -n "$CLI_VERSION" && -n "$LH_VERSION" ]] || die "cannot read the pinned versions from tools/*/go.mod"

# KANTAI_ENGINE=system: use the normal Pulumi install on $PATH (CLI, language host, dynamic
# shim) instead of building; the stand-in plugins are the same in both modes.
MODE="${KANTAI_ENGINE:-built}"
case "$MODE" in
  built)
    command -v go >/dev/null 2>&1 || die "go is not installed (Go >= 1.25 builds the engine; or KANTAI_ENGINE=system)"
    GO_VERSION="$(go env GOVERSION)"
    KEY="$( { echo "recipe=$RECIPE $GO_VERSION $(uname -m)"; cat "$CLI_MOD/go.mod" "$CLI_MOD/go.sum" "$LH_MOD/go.mod" "$LH_MOD/go.sum"; } | sha256sum | cut -c1-16)"
    KEYDIR="$ENGINE_ROOT/$KEY"
    BIN="$KEYDIR/bin"
    ;;
  system)
    SYSTEM_PULUMI="$(command -v pulumi || true)"
    [[ -n "$SYSTEM_PULUMI" ]] || die "KANTAI_ENGINE=system but no pulumi on \$PATH"
    GO_VERSION="(not used)"
    KEYDIR="$ENGINE_ROOT/system"
    BIN="$(dirname "$(readlink -f "$SYSTEM_PULUMI")")"
    ;;
  *) die "KANTAI_ENGINE must be built or system, not '$MODE'" ;;
esac
STANDINS="$KEYDIR/standins"

# Stand-in provider plugins: name -> npm SDK package whose declared shapes they check against.
STANDIN_NAMES=(command random proxmoxve kubernetes cloudflare)

built() {
  if [[ "$MODE" == system ]]; then return 0; fi
  [[ -f "$KEYDIR/.complete" && -x "$BIN/pulumi" && -x "$BIN/pulumi-language-nodejs" ]]
}

build_go() {
  mkdir -p "$ENGINE_ROOT"
  exec 9>"$ENGINE_ROOT/.lock"
  flock 9 # one build at a time per cache; a second caller waits, then reuses
  if built && [[ "${KANTAI_ENGINE_REBUILD:-}" != 1 ]]; then return 0; fi
  local tmp="$KEYDIR/bin.tmp.$$" t0 t1 t2 t3
  rm -rf "$tmp" && mkdir -p "$tmp"
  say "building the engine into $KEYDIR (cold: ~5-10 min on 2 cores)"
  t0=$(date +%s)
  # `go build` fetches only the modules the binaries need (a plain `go mod download` would
  # also ask for test-only modules, some of which the proxy refuses).
  (cd "$CLI_MOD" && go list -deps -f '{{with .Module}}{{.Path}}@{{.Version}}{{end}}' \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >/dev/null) || die "fetching the modules of tools/cli failed"
  (cd "$LH_MOD" && go list -deps -f '{{with .Module}}{{.Path}}@{{.Version}}{{end}}' \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs >/dev/null) \
    || die "fetching the modules of tools/langhost failed"
  t1=$(date +%s)
  say "modules fetched ($((t1 - t0))s); building pulumi $CLI_VERSION"
  (cd "$CLI_MOD" && nice go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$CLI_VERSION" \
    -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || die "building the pulumi CLI failed"
  t2=$(date +%s)
  say "pulumi built ($((t2 - t1))s); building pulumi-language-nodejs $LH_VERSION"
  (cd "$LH_MOD" && nice go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LH_VERSION" \
    -o "$tmp/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) \
    || die "building pulumi-language-nodejs failed"
  t3=$(date +%s)
  rm -rf "$BIN" && mv "$tmp" "$BIN"
  printf '{"cli":"%s","languageHost":"%s","go":"%s","downloadSeconds":%d,"cliSeconds":%d,"languageHostSeconds":%d,"totalSeconds":%d,"builtAt":"%s"}\n' \
    "$CLI_VERSION" "$LH_VERSION" "$GO_VERSION" $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t3 - t0)) "$(date -u +%FT%TZ)" \
    >"$KEYDIR/build.json"
  touch "$KEYDIR/.complete"
  say "engine built in $((t3 - t0))s"
}

# Cheap, every run: the dynamic-provider shim next to the CLI, the stand-in wrappers, the
# stand-ins' shape cache. They depend on node_modules, not on the Go build.
install_node_parts() {
  local shim="$REPO/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [[ -f "$shim" ]] || die "node_modules/@pulumi/pulumi is missing: run npm ci first"
  # (a normal Pulumi install bundles its own shim next to the CLI; leave it alone)
  if [[ "$MODE" == built ]] && ! cmp -s "$shim" "$BIN/pulumi-resource-pulumi-nodejs" 2>/dev/null; then
    install -m 0755 "$shim" "$BIN/pulumi-resource-pulumi-nodejs"
  fi
  mkdir -p "$STANDINS"
  local name f
  for name in "${STANDIN_NAMES[@]}"; do
    f="$STANDINS/pulumi-resource-$name"
    cat >"$f.tmp" <<EOF
#!/usr/bin/env bash
# STAND-IN provider plugin "$name" for kantai's engine tests. NOT the real provider:
# it checks inputs against the npm SDK's declared shapes and records calls
# (tools/standins/README.md). Generated by scripts/engine.sh.
repo="\${KANTAI_REPO:-}"
if [ -z "\$repo" ]; then
  d="\$PWD"
  while [ "\$d" != / ]; do
    if [ -f "\$d/tools/standins/main.ts" ]; then repo="\$d"; break; fi
    d="\$(dirname "\$d")"
  done
fi
[ -n "\$repo" ] || { echo "stand-in $name: cannot find the kantai repo (set KANTAI_REPO)" >&2; exit 1; }
export KANTAI_ENGINE_DIR="\${KANTAI_ENGINE_DIR:-$ENGINE_ROOT}"
PATH="\$repo/node_modules/.bin:\$PATH" exec node --import "file://\$repo/node_modules/tsx/dist/loader.mjs" "\$repo/tools/standins/main.ts" $name "\$@"
EOF
    chmod 0755 "$f.tmp" && mv "$f.tmp" "$f"
  done
  # Read the SDKs' declared shapes once (kubernetes takes a while), cached per SDK version.
  KANTAI_ENGINE_DIR="$ENGINE_ROOT" node --import "file://$REPO/node_modules/tsx/dist/loader.mjs" \
    "$REPO/tools/standins/main.ts" --prepare-shapes "${STANDIN_NAMES[@]}" >&2 \
    || die "reading the SDK shapes for the stand-ins failed"
}

ensure() {
  if ! built || [[ "${KANTAI_ENGINE_REBUILD:-}" == 1 ]]; then
    build_go
  fi
  install_node_parts
}

print_env() {
  cat <<EOF
export KANTAI_ENGINE="$MODE"
export KANTAI_ENGINE_DIR="$ENGINE_ROOT"
export KANTAI_REPO="$REPO"
export PATH="$BIN:$STANDINS:$REPO/node_modules/.bin:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
EOF
}

# ---- separately cached Go tools (`tool NAME`) -------------------------------------------------
# tool_spec NAME -> sets T_MOD (module dir), T_PKGS (main packages), T_LDFLAGS, T_PREP (a function
# run in the build copy of the module before `go build`, or empty), T_BINS (the binaries).
K8S_VERSION="$(modver "$REPO/tools/k8s/go.mod" k8s.io/kubernetes)"
# The version the engine asks the kubernetes plugin for: the npm SDK's (node_modules/@pulumi/kubernetes).
K8S_PROVIDER_VERSION="$(node -p 'require(process.argv[1]).version' "$REPO/node_modules/@pulumi/kubernetes/package.json" 2>/dev/null || echo 4.34.2)"
tool_spec() {
  T_PREP=""
  case "$1" in
    k8s)
      T_MOD="$REPO/tools/k8s"
      T_PKGS="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ./etcd"
      T_BINS="kube-apiserver kube-controller-manager kube-scheduler kubectl etcd"
      local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
      T_LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
      ;;
    kwok)
      T_MOD="$REPO/tools/kwok"
      T_PKGS="sigs.k8s.io/kwok/cmd/kwok"
      T_BINS="kwok"
      T_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$(modver "$REPO/tools/kwok/go.mod" sigs.k8s.io/kwok || true)"
      ;;
    kubernetes-provider)
      T_MOD="$REPO/tools/kubernetes-provider"
      T_PKGS="."
      T_BINS="pulumi-resource-kubernetes"
      T_LDFLAGS="-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION"
      T_PREP=prep_kubernetes_provider
      ;;
    envoy-validate)
      T_MOD="$REPO/tools/envoy-validate"
      T_PKGS="."
      T_BINS="envoy-validate"
      T_LDFLAGS="-s -w"
      ;;
    *) die "unknown tool '$1' (k8s | kwok | kubernetes-provider | envoy-validate)" ;;
  esac
}

# upstream's cmd/pulumi-resource-kubernetes/generate.go, done with node: schema.json with
# "version" set -> schema-embed.json; terraform-mapping.json -> terraform-mapping-embed.json.
prep_kubernetes_provider() {
  local dir
  # `go list -m` names a module's directory only once it is in the module cache: on a cold cache
  # (a fresh machine) download it first, or the directory is empty (found by a cold CI run)
  go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 || die "go mod download of the provider module failed"
  dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
  [[ -f "$dir/schema.json" ]] || die "no schema.json in $dir"
  node -e '
    const fs = require("fs"); const [dir, version] = process.argv.slice(1);
    const spec = JSON.parse(fs.readFileSync(dir + "/schema.json", "utf8")); spec.version = version;
    fs.writeFileSync("schema-embed.json", JSON.stringify(spec));
    fs.writeFileSync("terraform-mapping-embed.json", JSON.stringify(JSON.parse(fs.readFileSync(dir + "/terraform-mapping.json", "utf8"))));
  ' "$dir" "$K8S_PROVIDER_VERSION" || die "writing the provider's embedded schema failed"
}

TOOL_RECIPE=1 # bump when tool_spec or build_tool change what they build
tool_dir() {
  tool_spec "$1"
  local key
  key="$( { echo "tool-recipe=$TOOL_RECIPE $1 $(go env GOVERSION) $(uname -m) $T_LDFLAGS"; cat "$T_MOD"/go.mod "$T_MOD"/go.sum; find "$T_MOD" -name '*.go' -print0 | sort -z | xargs -0 cat; } | sha256sum | cut -c1-16)"
  echo "$ENGINE_ROOT/$1-$key"
}

build_tool() {
  local name="$1" dir tmp t0 t1 b
  command -v go >/dev/null 2>&1 || die "go is not installed (Go >= 1.25 builds $name)"
  dir="$(tool_dir "$name")"
  tool_spec "$name"
  if [[ -f "$dir/.complete" && "${KANTAI_ENGINE_REBUILD:-}" != 1 ]]; then echo "$dir/bin"; return 0; fi
  mkdir -p "$ENGINE_ROOT"
  exec 8>"$ENGINE_ROOT/.lock-$name"
  flock 8
  if [[ -f "$dir/.complete" && "${KANTAI_ENGINE_REBUILD:-}" != 1 ]]; then echo "$dir/bin"; return 0; fi
  tmp="$dir/build.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/src" "$tmp/bin"
  cp -R "$T_MOD"/. "$tmp/src/"
  say "building $name into $dir (cold Go caches: minutes, see docs/how-to/engine.md)"
  t0=$(date +%s)
  (
    cd "$tmp/src"
    if [[ -n "$T_PREP" ]]; then "$T_PREP"; fi
    # one main package in the module root ("."): Go would name the binary after the module's
    # last path element (tools/kubernetes-provider -> kubernetes-provider), so name it here
    local out="$tmp/bin/"
    if [[ "$T_PKGS" == "." ]]; then out="$tmp/bin/$T_BINS"; fi
    # shellcheck disable=SC2086 # T_PKGS is a list of packages
    nice -n 10 go build -trimpath -ldflags "$T_LDFLAGS" -o "$out" $T_PKGS
  ) >&2 || die "building $name failed (the log above is Go's)"
  t1=$(date +%s)
  for b in $T_BINS; do [[ -x "$tmp/bin/$b" ]] || die "building $name produced no $b"; done
  rm -rf "${dir:?}/bin" && mv "$tmp/bin" "$dir/bin" && rm -rf "$tmp"
  printf '{"tool":"%s","go":"%s","seconds":%d,"builtAt":"%s"}\n' "$name" "$(go env GOVERSION)" $((t1 - t0)) "$(date -u +%FT%TZ)" >"$dir/build.json"
  touch "$dir/.complete"
  say "$name built in $((t1 - t0))s"
  echo "$dir/bin"
}

cmd="${1:-build}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  build)
    ensure
    echo "$BIN"
    ;;
  env)
    ensure
    print_env
    ;;
  pulumi)
    ensure
    eval "$(print_env)"
    export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$REPO}"
    export PULUMI_HOME="${PULUMI_HOME:-$ENGINE_ROOT/pulumi-home}"
    exec "$BIN/pulumi" "$@"
    ;;
  info)
    echo "mode:           $MODE"
    echo "repo:           $REPO"
    echo "cache:          $KEYDIR"
    if [[ "$MODE" == built ]]; then
      echo "pulumi CLI:     $CLI_VERSION (github.com/pulumi/pulumi/pkg/v3)"
      echo "language host:  $LH_VERSION (github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)"
    else
      echo "pulumi CLI:     $("$BIN/pulumi" version) ($BIN, the normal install)"
    fi
    echo "stand-ins:      ${STANDIN_NAMES[*]}"
    echo "go:             $GO_VERSION"
    if built; then echo "built:          yes"; cat "$KEYDIR/build.json"; else echo "built:          no"; fi
    ;;
  clean)
    if [[ "$MODE" == built ]]; then rm -rf "$KEYDIR"; fi
    ;;
  tool)
    [[ $# -ge 1 ]] || die "usage: engine.sh tool k8s|kwok|kubernetes-provider|envoy-validate"
    build_tool "$1"
    ;;
  tool-dir)
    # where `tool NAME` builds (or finds) NAME, without building it
    [[ $# -ge 1 ]] || die "usage: engine.sh tool-dir k8s|kwok|kubernetes-provider|envoy-validate"
    tool_dir "$1"
    ;;
  *)
    die "unknown command '$cmd' (build | env | pulumi | info | clean | tool NAME)"
    ;;
esac
