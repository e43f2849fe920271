#!/usr/bin/env bash
# Packages one release asset as .github/workflows/release.yml uploads it and action/install.sh
# (and cargo-binstall, see [package.metadata.binstall] in Cargo.toml) download it:
#   fluxvet-VERSION-TARGET.tar.gz         the binary (fluxvet, or fluxvet.exe) at the top level
#   fluxvet-VERSION-TARGET.tar.gz.sha256  `<sha256>  <asset name>`, as sha256sum prints it
# Usage: scripts/release-asset.sh VERSION TARGET BINARY OUT_DIR
set -euo pipefail

version=${1:?version}
target=${2:?target triple}
binary=${3:?path to the built binary}
out=${4:?output directory}

name="fluxvet-${version}-${target}.tar.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
case "$target" in
  *windows*) exe=fluxvet.exe ;;
  *) exe=fluxvet ;;
esac
cp "$binary" "$stage/$exe"
chmod 755 "$stage/$exe"
mkdir -p "$out"
# Fixed owner and order, so the same binary gives the same tarball.
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$name" "$exe" 2>/dev/null \
  || tar -C "$stage" -czf "$out/$name" "$exe"
(
  cd "$out"
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$name"; else shasum -a 256 "$name"; fi
) > "$out/$name.sha256"
echo "$out/$name"
