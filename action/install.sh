#!/usr/bin/env bash
# Installs fluxvet for action.yml. `key` prints the cache key of what would be installed;
# `install` installs it unless the cache already restored it, and puts it on PATH.
#   FV_VERSION      a released version (e.g. 0.1.0), or empty for the action's own checkout
#   FV_ROOT         where the binary goes (`$FV_ROOT/bin/fluxvet`)
#   FV_ACTION_REF   the ref the action was used at (github.action_ref; default GITHUB_ACTION_REF)
#   FV_RELEASE_URL  where releases are downloaded from (default: this repository's GitHub
#                   releases); `$FV_RELEASE_URL/v$VERSION/fluxvet-$VERSION-$TARGET.tar.gz`
#                   and its `.sha256`, as scripts/release-asset.sh makes them
#
# A version is installed from its release binary for the runner's OS and architecture
# (RUNNER_OS, RUNNER_ARCH), checked against its SHA-256; a checksum that does not match fails
# the step. Only when no release matches (no asset for this platform or version: HTTP 404)
# does it build with `cargo install --locked`. The action's own checkout is a release when it
# was used at the tag of its Cargo.toml version (`uses: fluxvet/fluxvet@v0.1.0`); otherwise it is
# built from source.
set -euo pipefail

action_dir=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
release_url=${FV_RELEASE_URL:-https://github.com/fluxvet/fluxvet/releases/download}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}
hash_stdin() {
  sha256 | cut -c1-16
}

# The release target triple for the runner, or nothing when no release is built for it.
target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) ;;
  esac
}

# The version of the action's checkout when it is a release tag, else nothing.
checkout_release() {
  local v
  v=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)
  if [ -n "$v" ] && [ "${FV_ACTION_REF:-${GITHUB_ACTION_REF:-}}" = "v$v" ]; then echo "$v"; fi
}

# download VERSION ROOT: 0 installed, 3 no release matches, anything else a failure.
download() {
  local version=$1 root=$2 triple name url tmp code expected actual exe
  triple=$(target)
  if [ -z "$triple" ]; then
    echo "fluxvet: no release binary for ${RUNNER_OS:-this OS}/${RUNNER_ARCH:-this architecture}"
    return 3
  fi
  name="fluxvet-${version}-${triple}.tar.gz"
  url="${release_url%/}/v${version}/${name}"
  tmp=$(mktemp -d)
  code=$(curl -sSL --retry 3 -o "$tmp/$name" -w '%{http_code}' "$url") || code=${code:-000}
  if [ "$code" = 404 ]; then
    echo "fluxvet: no release asset $url"
    rm -rf "$tmp"
    return 3
  fi
  if [ "$code" != 200 ]; then
    echo "::error title=fluxvet::could not download $url (HTTP $code)"
    rm -rf "$tmp"
    return 2
  fi
  code=$(curl -sSL --retry 3 -o "$tmp/$name.sha256" -w '%{http_code}' "$url.sha256") || code=${code:-000}
  if [ "$code" != 200 ]; then
    echo "::error title=fluxvet::could not download the checksum $url.sha256 (HTTP $code); refusing an unverified binary"
    rm -rf "$tmp"
    return 2
  fi
  expected=$(cut -d ' ' -f 1 < "$tmp/$name.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
  actual=$(sha256 "$tmp/$name" | cut -d ' ' -f 1)
  if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    echo "::error title=fluxvet::checksum mismatch for $name: expected ${expected:-nothing}, got $actual"
    rm -rf "$tmp"
    return 2
  fi
  case "$triple" in *windows*) exe=fluxvet.exe ;; *) exe=fluxvet ;; esac
  # Called in a `||` list, where `set -e` does not apply: every step checks for itself.
  if ! { tar -xzf "$tmp/$name" -C "$tmp" "$exe" && mkdir -p "$root/bin" \
    && mv -f "$tmp/$exe" "$root/bin/$exe" && chmod 755 "$root/bin/$exe"; }; then
    echo "::error title=fluxvet::$name does not hold $exe"
    rm -rf "$tmp"
    return 2
  fi
  rm -rf "$tmp"
  echo "fluxvet: installed the $version release binary for $triple (sha256 $actual)"
}

need_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "::error title=fluxvet::cargo is not installed; add a Rust toolchain step (e.g. dtolnay/rust-toolchain@stable) before fluxvet"
    exit 2
  fi
}

case "${1:-}" in
  key)
    if [ -n "${FV_VERSION:-}" ]; then
      key="fluxvet-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-release-${FV_VERSION}"
    else
      # The action's checkout is not a git repository: hash the sources that make the binary.
      key="fluxvet-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-src-$(cd "$action_dir" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort | xargs cat | hash_stdin)"
    fi
    echo "key=$key" >> "${GITHUB_OUTPUT:-/dev/stdout}"
    ;;
  install)
    root=${FV_ROOT:?FV_ROOT names the install directory}
    if [ ! -x "$root/bin/fluxvet" ] && [ ! -x "$root/bin/fluxvet.exe" ]; then
      version=${FV_VERSION:-$(checkout_release)}
      status=3 # 3: no release matches, build instead
      if [ -n "$version" ]; then
        status=0
        download "$version" "$root" || status=$?
        if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit 2; fi
      fi
      if [ "$status" -eq 3 ]; then
        need_cargo
        if [ -n "${FV_VERSION:-}" ]; then
          cargo install fluxvet --version "=${FV_VERSION}" --locked --root "$root"
        else
          cargo install --path "$action_dir" --locked --root "$root"
        fi
      fi
    fi
    echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
    "$root/bin/fluxvet" --version
    ;;
  *)
    echo "usage: install.sh key|install" >&2
    exit 2
    ;;
esac
