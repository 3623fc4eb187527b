#!/usr/bin/env bash
# Builds Velero and its GCP object-store plugin from the Go module proxy into
# a cache outside the repo and prints the directory holding both binaries
# (velero, velero-plugin-for-gcp) on stdout. Progress goes to stderr. If both
# binaries for the pinned versions already exist the directory is printed at
# once without invoking Go.
#
# Only the Go module proxy is used (no release downloads). Each module is
# built inside a writable copy of its downloaded module directory, since
# Velero's go.mod has a `replace` that `go install mod@version` refuses. Velero
# pins k8s.io/* at a patch release the proxy refuses for some modules
# (k8s.io/cli-runtime v0.33.12), so those pins are raised one patch.
#
# Env: LIFEBOAT_CACHE (default ~/.cache/lifeboat), GO (default: go on PATH,
# else /usr/local/go/bin/go), VELERO_BUILD_PARALLEL (go build -p, default 2).
set -euo pipefail

velero_version=v1.18.3
gcp_plugin_version=v1.14.2
k8s_from=v0.33.12
k8s_to=v0.33.13

cache="${LIFEBOAT_CACHE:-$HOME/.cache/lifeboat}"
# The recipe is part of the key: a change to this script rebuilds.
hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"
out_dir="$cache/velero-$velero_version-$hash"

if [[ -x "$out_dir/velero" && -x "$out_dir/velero-plugin-for-gcp" ]]; then
  echo "$out_dir"
  exit 0
fi

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
mkdir -p "$out_dir"
work="$(mktemp -d "$out_dir/.src.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# Copies module@version out of the module cache into $work/<name> (writable)
# and prints that path.
fetch_module() {
  local module="$1" version="$2" name="$3" dir
  dir="$("$go_bin" mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "build-velero: go mod download of $module@$version gave no module directory" >&2
    exit 1
  fi
  cp -r "$dir" "$work/$name"
  chmod -R u+w "$work/$name"
  echo "$work/$name"
}

# Raises every k8s.io/* requirement pinned at $k8s_from to $k8s_to.
raise_k8s() {
  local dir="$1" mod
  for mod in $(awk -v v="$k8s_from" '$1 ~ /^k8s\.io\// && $2 == v { print $1 }' "$dir/go.mod"); do
    (cd "$dir" && "$go_bin" mod edit -require="$mod@$k8s_to")
  done
}

build() {
  local dir="$1" pkg="$2" bin="$3" tmp
  tmp="$(mktemp "$out_dir/.$(basename "$bin").XXXXXX")"
  (
    cd "$dir"
    GOFLAGS=-mod=mod CGO_ENABLED=0 "$go_bin" build -trimpath -buildvcs=false \
      -p "${VELERO_BUILD_PARALLEL:-2}" -ldflags "$4" -o "$tmp" "$pkg"
  ) >&2
  chmod 755 "$tmp"
  mv -f "$tmp" "$bin"
}

echo "build-velero: building velero $velero_version and velero-plugin-for-gcp $gcp_plugin_version -> $out_dir" >&2
echo "build-velero: first build takes several minutes; later runs are cached" >&2
start=$SECONDS

if [[ ! -x "$out_dir/velero" ]]; then
  src="$(fetch_module github.com/vmware-tanzu/velero "$velero_version" velero)"
  raise_k8s "$src"
  build "$src" ./cmd/velero "$out_dir/velero" \
    "-s -w -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$velero_version -X github.com/vmware-tanzu/velero/pkg/buildinfo.GitTreeState=clean"
fi

if [[ ! -x "$out_dir/velero-plugin-for-gcp" ]]; then
  src="$(fetch_module github.com/vmware-tanzu/velero-plugin-for-gcp "$gcp_plugin_version" plugin-gcp)"
  raise_k8s "$src"
  build "$src" ./velero-plugin-for-gcp "$out_dir/velero-plugin-for-gcp" "-s -w"
fi

echo "build-velero: done in $((SECONDS - start))s" >&2
echo "$out_dir"
