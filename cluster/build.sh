#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) from the Go module proxy, pinned by cluster/go.mod, into a cache folder outside the repo.
# A folder that already holds every binary is reused, so CI and developers build once per machine.
#   cluster/build.sh            build (or reuse) and print the bin folder
#   cluster/build.sh --print    print the bin folder only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The cache key is the hash of go.mod + go.sum: a version bump gets a fresh folder.
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)"
bin="${AUTOSTACK_CLUSTER_CACHE:-$HOME/.cache/autostack-cluster}/$key/bin"
tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
pkgs=(go.etcd.io/etcd/server/v3 k8s.io/kubernetes/cmd/kube-apiserver
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  sigs.k8s.io/kwok/cmd/kwok)

if [[ "${1:-}" == "--print" ]]; then
  echo "$bin"
  exit 0
fi

complete=1
for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || complete=0; done
if ((complete)); then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "cluster/build.sh: Go is not installed (needs go >= 1.26)" >&2; exit 3; }
mkdir -p "$bin.partial"
start=$SECONDS
cd "$here"
for i in "${!tools[@]}"; do
  t="${tools[$i]}"
  [[ -x "$bin.partial/$t" ]] && continue
  echo "building $t (${pkgs[$i]})" >&2
  # -trimpath and no VCS stamping keep the build independent of where the repo is checked out;
  # -s -w drop debug info the tests never need (about half the link time and size).
  CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags='-s -w' -o "$bin.partial/$t" "${pkgs[$i]}"
done
rm -rf "$bin"
mv "$bin.partial" "$bin"
echo "built ${tools[*]} in $((SECONDS - start))s" >&2
echo "$bin"
