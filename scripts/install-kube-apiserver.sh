#!/usr/bin/env bash
# Builds the real Kubernetes API server that tests/apiserver runs the controller's actuator and
# Lease election against: kube-apiserver and etcd, at the pinned versions below, with `go
# build` from Go modules. (OpenTofu and the Kubernetes provider are not built: the Go module
# proxy serves no provider release with the stacks' `_v1` resources; docs/terraform.md.)
#
# Everything goes to ${TFPROD_TOOLS_CACHE:-$HOME/.cache/tfprod-tools}, one directory per tool
# and version (`<name>-<version>/bin/...`), so a warm machine skips every build; nothing
# lands in the repository. docs/terraform.md says what is built, how long it takes and why.
#
#   bash scripts/install-kube-apiserver.sh          # build what is missing
#   bash scripts/install-kube-apiserver.sh --print  # only print the cache directory
set -euo pipefail

# kube-apiserver: k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with
# ./staging/...; outside its repository they are the published modules of the same release.
KUBERNETES_VERSION=v1.37.2
KUBERNETES_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3
CACHE=${TFPROD_TOOLS_CACHE:-$HOME/.cache/tfprod-tools}
if [[ "${1:-}" == "--print" ]]; then
  echo "$CACHE"
  exit 0
fi

# The machine's 2 cores are shared: build with at most 2 at a time. No cgo: static binaries.
# The Go module and build caches live in the cache too (unless set), so removing it is a cold
# start and keeping it makes a new version's build reuse what the old one compiled.
export GOFLAGS=-mod=mod GOMAXPROCS=${GOMAXPROCS:-2} CGO_ENABLED=0 GOTOOLCHAIN=local
export GOMODCACHE=${GOMODCACHE:-$CACHE/go/mod} GOCACHE=${GOCACHE:-$CACHE/go/build}
BUILD=(go build -p 2 -trimpath)
mkdir -p "$CACHE"

log() { echo "install-kube-apiserver: $*" >&2; }

# Prints a dependency's replace directives for a wrapper module: module-path targets as they
# are, relative ones (its own repository's modules) as the published module at `$2`.
replaces_of() {
  go mod edit -json "$1" | python3 -c '
import json, sys
version = sys.argv[1]
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    left = old["Path"] + (" " + old["Version"] if old.get("Version") else "")
    if new["Path"].startswith("."):
        print("replace", old["Path"], "=>", old["Path"], version)
    else:
        print("replace", left, "=>", new["Path"], new["Version"])
' "$2"
}

# build_wrapped NAME VERSION MODULE REPLACE_VERSION LDFLAGS PACKAGE=BINARY...
# Builds each PACKAGE of MODULE@VERSION into <cache>/NAME-VERSION/bin/BINARY through a
# wrapper module that requires MODULE with MODULE's own replaces.
build_wrapped() {
  local name=$1 version=$2 module=$3 replace_version=$4 ldflags=$5
  shift 5
  local dir=$CACHE/$name-$version
  if [[ -f $dir/.built ]]; then
    log "$name $version: cached in $dir"
    return
  fi
  log "$name $version: building into $dir"
  local start=$SECONDS
  rm -rf "$dir"
  mkdir -p "$dir/wrapper" "$dir/bin"
  local gomod
  gomod=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  local goversion
  goversion=$(go mod edit -json "$gomod" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Go"])')
  {
    echo "module tfprod.local/tools/$name"
    echo
    echo "go $goversion"
    echo
    echo "require $module $version"
    replaces_of "$gomod" "$replace_version"
  } >"$dir/wrapper/go.mod"
  local spec package binary
  for spec in "$@"; do
    package=${spec%=*}
    binary=${spec#*=}
    (cd "$dir/wrapper" && go get "$package@$version" && "${BUILD[@]}" -ldflags="-s -w $ldflags" -o "$dir/bin/$binary" "$package")
  done
  touch "$dir/.built"
  log "$name $version: built in $((SECONDS - start)) s"
}

k8s_version_flags() {
  local pkg=k8s.io/component-base/version minor
  minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  echo "-X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor" \
    "-X $pkg.gitTreeState=clean"
}

build_wrapped etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "" \
  go.etcd.io/etcd/server/v3=etcd
build_wrapped kube-apiserver "$KUBERNETES_VERSION" k8s.io/kubernetes "$KUBERNETES_STAGING_VERSION" \
  "$(k8s_version_flags)" k8s.io/kubernetes/cmd/kube-apiserver=kube-apiserver
# What tests/apiserver/tools.py reads; written last, so it names only binaries that exist.
cat >"$CACHE/tools.json" <<EOF
{
  "etcd": "$CACHE/etcd-$ETCD_VERSION/bin/etcd",
  "kube_apiserver": "$CACHE/kube-apiserver-$KUBERNETES_VERSION/bin/kube-apiserver"
}
EOF
log "ready in $CACHE ($SECONDS s)"
