#!/usr/bin/env bash
# Re-runs the truth measurement of docs/truth.md: fluxvet on real Flux repositories it was not
# developed against, one table row per repository (commit, findings by code, time), and every
# finding written out so each can be read against the files by hand.
#
# Usage: scripts/truth-measure.sh [-b BINARY] [-o OUTDIR] REPOS_DIR
#   REPOS_DIR  a directory holding one checked-out repository per sub-directory
#              (e.g. `git clone https://github.com/carpenike/k8s-gitops REPOS_DIR/carpenike+k8s-gitops`,
#              then `git -C ... checkout COMMIT` with the commit of docs/truth.md's table)
#   -b BINARY  the fluxvet binary (default: target/release/fluxvet)
#   -o OUTDIR  where each repository's JSON report and findings list go (default: a temporary dir)
#
# Exit status: 0 when every repository was checked, 1 when fluxvet crashed (status 2 or a
# signal) or took longer than 60 s on one of them.
set -euo pipefail

binary=target/release/fluxvet
out=""
while getopts "b:o:" opt; do
  case $opt in
    b) binary=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { sed -n '2,14p' "$0"; exit 2; }
repos=$1
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
[ -x "$binary" ] || { echo "no fluxvet binary at $binary (cargo build --release)" >&2; exit 2; }
out=${out:-$(mktemp -d)}
mkdir -p "$out"
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 2; }

failed=0
printf '| repository | commit | clusters | errors | warnings | infos | findings by code | seconds |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for dir in "$repos"/*/; do
  name=$(basename "$dir")
  commit=$(git -C "$dir" rev-parse --short=10 HEAD 2>/dev/null || echo "?")
  start=$(date +%s.%N)
  status=0
  (cd "$dir" && timeout 60 "$binary" check . --format json --no-timing) \
    >"$out/$name.json" 2>"$out/$name.stderr" || status=$?
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  # 0: no errors, 1: errors found; anything else is a crash, a usage problem or the timeout.
  if [ "$status" -gt 1 ]; then
    failed=1
    printf '| %s | %s | | | | | fluxvet exited %s: %s | %.2f |\n' "$name" "$commit" "$status" \
      "$(head -c 200 "$out/$name.stderr" | tr '\n' ' ')" "$seconds"
    continue
  fi
  clusters=$(jq -r '[.clusters[]?.name] | join(", ")' "$out/$name.json")
  summary=$(jq -r '.summary | "\(.errors) | \(.warnings) | \(.infos)"' "$out/$name.json")
  codes=$(jq -r '[.diagnostics[].code] | group_by(.) | map("\(.[0])×\(length)") | join(" ")' \
    "$out/$name.json")
  printf '| %s | %s | %s | %s | %s | %.2f |\n' "$name" "$commit" "${clusters:--}" "$summary" \
    "${codes:-none}" "$seconds"
  # One line per finding, to read against the files.
  jq -r '.diagnostics[] | "\(.code) \(.severity) \(.file):\(.line):\(.column) \(.message)"' \
    "$out/$name.json" >"$out/$name.findings"
done
echo
echo "reports and findings lists: $out"
exit $failed
