#!/usr/bin/env bash
# Builds local/kube (one kube-apiserver + embedded etcd in a single binary,
# which also runs kube-controller-manager as its "controller-manager"
# subcommand) into a cache outside the repo and prints the binary's path on
# stdout.
# Progress goes to stderr. If the binary for the current sources already
# exists it is printed at once without invoking Go.
#
# Env: LIFEBOAT_CACHE (default ~/.cache/lifeboat), GO (default: go on PATH,
# else /usr/local/go/bin/go), KUBE_BUILD_PARALLEL (go build -p, default 2).
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/kube" && pwd)"
cache="${LIFEBOAT_CACHE:-$HOME/.cache/lifeboat}"

k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$src/go.mod")"
if [[ ! "$k8s_version" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  echo "build-kube: cannot find a k8s.io/kubernetes release in $src/go.mod" >&2
  exit 1
fi
major="${BASH_REMATCH[1]}"
minor="${BASH_REMATCH[2]}"

hash="$(cd "$src" && cat go.mod go.sum $(LC_ALL=C ls *.go) | sha256sum | cut -c1-12)"
out_dir="$cache/kube-$k8s_version-$hash"
bin="$out_dir/kube-cluster"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
mkdir -p "$out_dir"
tmp="$(mktemp "$out_dir/.kube-cluster.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version"
  ldflags+=" -X $pkg.gitMajor=$major"
  ldflags+=" -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit="
  ldflags+=" -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

echo "build-kube: building kube-cluster ($k8s_version) -> $bin" >&2
echo "build-kube: first build takes several minutes; later runs are cached" >&2
start=$SECONDS
(
  cd "$src"
  CGO_ENABLED=0 "$go_bin" build -trimpath -buildvcs=false \
    -p "${KUBE_BUILD_PARALLEL:-2}" -ldflags "$ldflags" -o "$tmp" .
) >&2
chmod 755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "build-kube: done in $((SECONDS - start))s" >&2
echo "$bin"
