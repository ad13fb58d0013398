#!/usr/bin/env bash
# release.sh builds samctl for every platform samkit ships, with the version
# stamped and a checksum file, into one directory:
#
#   scripts/release.sh v1.2.0            # into dist/
#   scripts/release.sh v1.2.0 /tmp/out   # elsewhere
#
# It publishes nothing: upload the directory's files to the release. Each
# binary is built with -trimpath (no local paths in it) and CGO off (it
# runs on any Linux), and prints the version with "samctl version".
# Needs nothing but Go and sha256sum (or shasum on macOS).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-}"
out="${2:-dist}"
if [[ ! "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
	echo "usage: scripts/release.sh VERSION [DIR]   (VERSION like v1.2.0 or v1.2.0-rc.1)" >&2
	exit 2
fi
version="v${version#v}"

targets=(linux/amd64 linux/arm64 darwin/arm64 windows/amd64)
ldflags="-s -w -X main.version=$version"
if commit="$(git rev-parse HEAD 2>/dev/null)"; then
	git diff --quiet HEAD 2>/dev/null || commit="$commit-dirty"
	ldflags="$ldflags -X main.commit=$commit"
fi

mkdir -p "$out"
# Only what an earlier run wrote goes: DIR may hold other files.
rm -f "$out"/samctl_* "$out/checksums.txt"
for target in "${targets[@]}"; do
	os="${target%/*}"
	arch="${target#*/}"
	name="samctl_${version#v}_${os}_${arch}"
	[[ "$os" == windows ]] && name="$name.exe"
	echo "building $name" >&2
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" \
		go build -trimpath -ldflags "$ldflags" -o "$out/$name" ./cmd/samctl
done

sum=(sha256sum)
command -v sha256sum >/dev/null || sum=(shasum -a 256)
(cd "$out" && "${sum[@]}" samctl_* >checksums.txt)
echo "wrote $out/checksums.txt:" >&2
cat "$out/checksums.txt" >&2
