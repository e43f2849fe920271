#!/usr/bin/env bash
# A short fuzz pass over both targets; not part of CI. Needs a nightly toolchain and
# cargo-fuzz (installed here from crates.io when missing).
#   fuzz/run.sh [seconds per target, default 60]
# Crashes and timeouts land in fuzz/artifacts/<target>/; reproduce one with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for target in yaml_parse check_one_file; do
  mkdir -p "fuzz/corpus/$target"
  # New inputs go to fuzz/corpus (ignored by git); fuzz/seeds keeps the few committed seeds,
  # inputs that once crashed among them.
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
done
