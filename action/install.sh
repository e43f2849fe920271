#!/usr/bin/env bash
# Installs fluxvet for action.yml. `key` prints the cache key of what would be built; `install`
# builds it unless the cache already restored it, and puts it on PATH.
#   FV_VERSION  a crates.io version, or empty for the action's own checkout
#   FV_ROOT     where the binary goes (`$FV_ROOT/bin/fluxvet`)
set -euo pipefail

action_dir=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}

hash_stdin() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -c1-16
}

case "${1:-}" in
  key)
    if [ -n "${FV_VERSION:-}" ]; then
      key="fluxvet-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-crates-${FV_VERSION}"
    else
      # The action's checkout is not a git repository: hash the sources that make the binary.
      key="fluxvet-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-src-$(cd "$action_dir" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort | xargs cat | hash_stdin)"
    fi
    echo "key=$key" >> "${GITHUB_OUTPUT:-/dev/stdout}"
    ;;
  install)
    root=${FV_ROOT:?FV_ROOT names the install directory}
    if [ ! -x "$root/bin/fluxvet" ]; then
      if ! command -v cargo >/dev/null 2>&1; then
        echo "::error title=fluxvet::cargo is not installed; add a Rust toolchain step (e.g. dtolnay/rust-toolchain@stable) before fluxvet"
        exit 2
      fi
      if [ -n "${FV_VERSION:-}" ]; then
        cargo install fluxvet --version "=${FV_VERSION}" --locked --root "$root"
      else
        cargo install --path "$action_dir" --locked --root "$root"
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
