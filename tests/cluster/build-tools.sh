#!/usr/bin/env bash
# Builds the real engine's parts into a cache, from the Go module proxy (the only source this
# machine has for them): the Pulumi CLI at the SDK's version, etcd, the Kubernetes binaries
# (kube-apiserver, kube-controller-manager, kube-scheduler; for a real node the kubelet and
# kube-proxy; kubectl, which `npm run recover` reads objects with), kwok, Helm (the version the
# Kubernetes provider embeds, for the suites' own renders), CoreDNS and kube-router (the real
# node's cluster DNS and NetworkPolicy enforcer) and local-path-provisioner (its volumes). The Node.js language host is not among them: its
# module is served at no version; the machine's shared folder holds the real one, built from its
# source (tests/cluster/tools.ts unpacks it). Each binary is built once per version; a later run
# finds it and returns in milliseconds. Go's own build cache (GOCACHE) makes a rebuild after a
# cache wipe of this folder take minutes instead of the first build's tens.
#
#   bash tests/cluster/build-tools.sh <cache-dir>        # all of them, in the order they are needed
#   bash tests/cluster/build-tools.sh <cache-dir> pulumi # only some (pulumi | etcd | kwok | kube | helm | coredns | kube-router)
#
# Versions are the ones tests/cluster/versions.json pins; the suite reads the same file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${1:?usage: build-tools.sh <cache-dir> [pulumi|etcd|kwok|kube|helm|coredns|kube-router|local-path-provisioner|oauth2-proxy]...}"
shift
mkdir -p "$cache/bin" "$cache/src" "$cache/logs"
cache="$(cd "$cache" && pwd)"
version() { node -e "process.stdout.write(require('$here/versions.json')['$1'])"; }
PULUMI_V="$(version pulumi)"
K8S_V="$(version kubernetes)"
ETCD_V="$(version etcd)"
KWOK_V="$(version kwok)"
HELM_V="$(version helm)"
COREDNS_V="$(version coredns)"
KUBE_ROUTER_V="$(version kubeRouter)"
LOCAL_PATH_V="$(version localPathProvisioner)"
OAUTH2_PROXY_V="$(version oauth2Proxy)"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
step() { printf '[build-tools] %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# A binary is done when its stamp names the version it was built from.
done_at() { [[ -x "$cache/bin/$1" && "$(cat "$cache/bin/.$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$cache/bin/.$1.version"; }

# Copies a module out of the module cache into a writable source folder of our own.
module_copy() { # <module@version> <dest>
  local dir
  dir="$(go mod download -json "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).Dir))')"
  rm -rf "$2" && mkdir -p "$(dirname "$2")" && cp -r "$dir" "$2" && chmod -R u+w "$2"
}

build_pulumi() {
  if done_at pulumi "$PULUMI_V"; then return; fi
  step "pulumi $PULUMI_V (cold: 11 to 15 min on two cores)"
  local ldflags="-w -s -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_V"
  local pkg="$cache/src/pulumi-pkg"
  module_copy "github.com/pulumi/pulumi/pkg/v3@$PULUMI_V" "$pkg"
  # The published pkg module still points sdk at ../sdk, which a module zip does not hold.
  sed -i '/^replace github.com\/pulumi\/pulumi\/sdk\/v3 => \.\.\/sdk$/d' "$pkg/go.mod"
  (cd "$pkg" && go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$cache/bin/pulumi" ./cmd/pulumi)
  stamp pulumi "$PULUMI_V"
}

build_etcd() {
  if done_at etcd "$ETCD_V"; then return; fi
  step "etcd $ETCD_V (a wrapper module: the server module's go.mod has ../ replaces)"
  local src="$cache/src/etcd"
  rm -rf "$src" && mkdir -p "$src"
  cat >"$src/main.go" <<'GO'
// The etcd server's own main, as go.etcd.io/etcd/v3's main.go has it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$src" && go mod init local/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_V" "go.etcd.io/etcd/api/v3@$ETCD_V" \
      "go.etcd.io/etcd/client/pkg/v3@$ETCD_V" "go.etcd.io/etcd/client/v3@$ETCD_V" "go.etcd.io/etcd/pkg/v3@$ETCD_V" &&
    go mod tidy && go build -trimpath -ldflags "-s -w" -o "$cache/bin/etcd" .)
  stamp etcd "$ETCD_V"
}

build_kwok() {
  if done_at kwok "$KWOK_V"; then return; fi
  step "kwok $KWOK_V"
  GOBIN="$cache/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_V"
  # Its stages (pod-ready, pod-complete, ...) ship as YAML in the module, not in the binary.
  local dir
  dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_V" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).Dir))')"
  rm -rf "$cache/src/kwok-stage" && cp -r "$dir/kustomize/stage" "$cache/src/kwok-stage" && chmod -R u+w "$cache/src/kwok-stage"
  stamp kwok "$KWOK_V"
}

build_kube() {
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl) missing=() b
  for b in "${bins[@]}"; do done_at "$b" "$K8S_V+version" || missing+=("$b"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  step "${missing[*]} $K8S_V (cold: 10 to 25 min on two cores)"
  local src="$cache/src/kubernetes"
  if [[ "$(cat "$src/.version" 2>/dev/null)" != "$K8S_V" ]]; then
  module_copy "k8s.io/kubernetes@$K8S_V" "$src"
  # The module zip has no staging/: use the published k8s.io/<name> v0.<minor>.<patch> instead.
  local staged="v0${K8S_V#v1}"
  (cd "$src" && rm -f go.work go.work.sum &&
    node -e '
      const fs = require("fs");
      let mod = fs.readFileSync("go.mod", "utf8");
      mod = mod.replace(/\nreplace \(\n(\s*k8s\.io\/[^\n]*=> \.\/staging[^\n]*\n)+\)\n?/, "\n");
      mod = mod.replace(/^(\s*k8s\.io\/[a-z0-9-]+) v0\.0\.0$/gm, `$1 ${process.argv[1]}`);
      fs.writeFileSync("go.mod", mod);' "$staged" &&
    go mod tidy -e >/dev/null 2>&1 || true)
  echo "$K8S_V" >"$src/.version"
  fi
  # The version the servers report (and Helm checks a chart's kubeVersion against): without it,
  # they say v0.0.0-master and every chart with a kubeVersion constraint refuses to install.
  local minor="${K8S_V#v1.}"; minor="${minor%%.*}"
  local v="k8s.io/component-base/version" cv="k8s.io/client-go/pkg/version"
  local ldflags="-s -w -X $v.gitVersion=$K8S_V -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  ldflags+=" -X $cv.gitVersion=$K8S_V -X $cv.gitMajor=1 -X $cv.gitMinor=$minor -X $cv.gitTreeState=clean"
  # One invocation for all of them: the package graph is loaded and checked once, and the links
  # run side by side (separate invocations cost minutes on two cores).
  local pkgs=() out="$cache/src/kube-bin"
  for b in "${missing[@]}"; do pkgs+=("./cmd/$b"); done
  rm -rf "$out" && mkdir -p "$out"
  (cd "$src" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "all=$ldflags" -o "$out/" "${pkgs[@]}")
  for b in "${missing[@]}"; do
    mv "$out/$b" "$cache/bin/$b"
    stamp "$b" "$K8S_V+version"
  done
}

# A binary `go install` makes of <package>@<version>, into the cache once per version.
go_install() { # <name> <version> <package> [extra ldflags]
  if done_at "$1" "$2"; then return; fi
  step "$1 $2"
  GOBIN="$cache/bin" go install -trimpath -ldflags "-s -w${4:+ $4}" "$3@$2"
  stamp "$1" "$2"
}

build_helm() {
  go_install helm "$HELM_V" helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_V"
}

build_coredns() {
  go_install coredns "$COREDNS_V" github.com/coredns/coredns
}

# Only its NetworkPolicy firewall is used (the real node's enforcer); v2.1.0 is the one version the
# proxy serves.
build_kube-router() {
  go_install kube-router "$KUBE_ROUTER_V" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
    "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_V"
}

# The real node's volumes: the provisioner kind ships (local-path-provisioner), out of the cluster.
build_local-path-provisioner() {
  go_install local-path-provisioner "$LOCAL_PATH_V" github.com/rancher/local-path-provisioner
}

# The login in front of Dagster's webserver (dagsterLogin): the end-to-end suite runs it, the real
# node's image holds it. Static (CGO_ENABLED=0), as upstream's image (distroless static) has it.
build_oauth2-proxy() {
  go_install oauth2-proxy "$OAUTH2_PROXY_V" github.com/oauth2-proxy/oauth2-proxy/v7 \
    "-X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$OAUTH2_PROXY_V"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(pulumi etcd kwok kube helm coredns kube-router local-path-provisioner oauth2-proxy)
for t in "${targets[@]}"; do
  start=$(date +%s)
  "build_$t"
  step "$t ready ($(($(date +%s) - start)) s)"
done
