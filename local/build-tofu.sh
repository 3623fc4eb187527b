#!/usr/bin/env bash
# Builds OpenTofu (cmd/tofu, from the github.com/opentofu/opentofu module
# pinned in local/tofu/go.mod, through the Go module proxy) and the small
# hcl2json command next to it, into a cache outside the repo, and prints the
# tofu binary's path on stdout; hcl2json is in the same directory. Progress
# goes to stderr. If both binaries for the current sources already exist the
# path is printed at once without invoking Go.
#
# Env: LIFEBOAT_CACHE (default ~/.cache/lifeboat), GO (default: go on PATH,
# else /usr/local/go/bin/go), TOFU_BUILD_PARALLEL (go build -p, default 2).
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/tofu" && pwd)"
cache="${LIFEBOAT_CACHE:-$HOME/.cache/lifeboat}"

version="$(awk '$1 == "github.com/opentofu/opentofu" { print $2; exit }' "$src/go.mod")"
if [[ ! "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build-tofu: cannot find a github.com/opentofu/opentofu release in $src/go.mod" >&2
  exit 1
fi

# The directory is keyed by the OpenTofu release and a hash of the wrapper's
# sources, so editing hcl2json or go.sum rebuilds instead of reusing a stale
# binary.
hash="$(cd "$src" && cat go.mod go.sum $(LC_ALL=C find . -name '*.go' | LC_ALL=C sort) | sha256sum | cut -c1-12)"
out_dir="$cache/tofu-$version-$hash"

if [[ -x "$out_dir/tofu" && -x "$out_dir/hcl2json" ]]; then
  echo "$out_dir/tofu"
  exit 0
fi

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.tofu-$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "build-tofu: building tofu $version and hcl2json -> $out_dir" >&2
echo "build-tofu: first build takes a few minutes; later runs are cached" >&2
start=$SECONDS
(
  cd "$src"
  # version.dev=no is what OpenTofu's release builds set: `tofu version`
  # then prints the plain release number instead of "-dev".
  CGO_ENABLED=0 "$go_bin" build -trimpath -buildvcs=false \
    -p "${TOFU_BUILD_PARALLEL:-2}" \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$tmp/" github.com/opentofu/opentofu/cmd/tofu ./hcl2json
) >&2
chmod 755 "$tmp/tofu" "$tmp/hcl2json"

# Publish the whole directory with one rename, so a reader never sees half
# of it. If another build won the race, keep its result.
if ! mv -T "$tmp" "$out_dir" 2>/dev/null; then
  if [[ ! -x "$out_dir/tofu" || ! -x "$out_dir/hcl2json" ]]; then
    echo "build-tofu: cannot move the build into $out_dir" >&2
    exit 1
  fi
fi
trap - EXIT
rm -rf "$tmp"
echo "build-tofu: done in $((SECONDS - start))s" >&2
echo "$out_dir/tofu"
