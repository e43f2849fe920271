#!/usr/bin/env bash
# A small mutation check: does the test suite notice deliberate breakages?
#
# Copies this checkout (working tree, without .git and target/) to a scratch directory, with a
# copy of target/debug so dependencies are not rebuilt, checks that the chosen tests pass there
# unmutated, then applies each breakage below alone, runs the tests meant to catch it, and
# restores the file. A breakage is CAUGHT when its tests compile and fail. Not part of
# `cargo test`: run it by hand (a few minutes on two cores).
#
#   scripts/mutation-check.sh            # scratch directory under $TMPDIR, removed afterwards
#   MUTATION_DIR=/tmp/mut scripts/mutation-check.sh   # kept, and reused by the next run
#
# Exit status: 0 when every breakage was caught, 1 when one was missed, 2 on a setup problem.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${MUTATION_DIR:-}" ]]; then
  scratch="$MUTATION_DIR"
  keep=1
else
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/fluxvet-mutation.XXXXXX")"
  keep=0
fi
work="$scratch/src"
export CARGO_TARGET_DIR="$scratch/target"
export CARGO_NET_OFFLINE=true
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$scratch"; fi; }
trap cleanup EXIT

echo "mutation check: copying $src to $work"
mkdir -p "$work" "$CARGO_TARGET_DIR"
find "$work" -mindepth 1 -delete
# -m: every file gets the current time, so cargo rebuilds whatever a previous run left built
# from a mutated file (its fingerprints compare modification times).
tar -C "$src" --exclude=./target --exclude=./.git -cf - . | tar -C "$work" -xmf -
if [[ ! -d "$CARGO_TARGET_DIR/debug/deps" && -d "$src/target/debug/deps" ]]; then
  # Compiled dependencies only: the incremental cache of fluxvet itself is keyed by its path.
  mkdir -p "$CARGO_TARGET_DIR/debug"
  for d in deps build .fingerprint; do
    cp -a "$src/target/debug/$d" "$CARGO_TARGET_DIR/debug/"
  done
fi
cd "$work"

# Each breakage: a name, the file, a perl substitution (applied with -0pi) and the arguments of
# the `cargo test` meant to catch it.
names=() files=() substs=() tests=()
mutation() { names+=("$1"); files+=("$2"); substs+=("$3"); tests+=("$4"); }
mutation "SARIF columns in bytes" src/emit/sarif.rs \
  's/"startColumn": s\.column, "endLine": e\.line, "endColumn": e\.column/"startColumn": span.start as usize - f.line_starts()[s.line - 1] as usize + 1, "endLine": e.line, "endColumn": span.end as usize - f.line_starts()[e.line - 1] as usize + 1/' \
  "--test it -- cli::"
mutation "FV001 never reported" src/suppress.rs \
  's/if !enabled\(unused\) \{/if true || !enabled(unused) {/' \
  "--lib -- suppress::"
mutation "JSON line off by one" src/emit/json.rs \
  's/"line": start\.line,/"line": start.line + 1,/' \
  "--test it -- cli::"
mutation "duplicate-key check skipped" src/yaml/parse.rs \
  's/if let Some\(\(first, name\)\) = dup \{/if let Some((first, name)) = dup.filter(|_| false) {/' \
  "--lib"
mutation "FV805 severity info instead of warning" src/rules/preview/release_reinstall.rs \
  's/severity: Severity::Warning,/severity: Severity::Info,/' \
  "--lib -- diff::"
mutation "duplicate keys found by a linear scan of every earlier key (quadratic)" src/yaml/parse.rs \
  's/entries\.len\(\) >= DUPLICATE_SCAN_LIMIT/entries.len() >= usize::MAX/' \
  "--test it -- hostile::wide_mapping_stays_linear"

log="$scratch/log"
mkdir -p "$log"

echo "baseline: the chosen tests must pass unmutated (the first build takes a while)"
declare -A seen=()
for args in "${tests[@]}"; do
  [[ -n "${seen[$args]:-}" ]] && continue
  seen[$args]=1
  read -r -a argv <<<"$args"
  if ! cargo test -q "${argv[@]}" >"$log/baseline.txt" 2>&1; then
    echo "baseline failed: cargo test $args (see $log/baseline.txt)" >&2
    tail -20 "$log/baseline.txt" >&2
    keep=1
    exit 2
  fi
done

caught=0
missed=()
for i in "${!names[@]}"; do
  name="${names[$i]}" file="${files[$i]}" args="${tests[$i]}"
  read -r -a argv <<<"$args"
  n=$((i + 1))
  cp "$file" "$log/original"
  perl -0pi -e "${substs[$i]}" "$file"
  if cmp -s "$file" "$log/original"; then
    echo "[$n] $name: NOT APPLIED (the pattern no longer matches $file)"
    missed+=("$name (not applied)")
    continue
  fi
  if ! cargo test -q --no-run "${argv[@]}" >"$log/$n.txt" 2>&1; then
    echo "[$n] $name: DOES NOT COMPILE (fix the mutation; see $log/$n.txt)"
    missed+=("$name (does not compile)")
  elif cargo test -q "${argv[@]}" >"$log/$n.txt" 2>&1; then
    echo "[$n] $name: MISSED (\`cargo test $args\` passed)"
    missed+=("$name")
  else
    failing="$(grep -E '^    [A-Za-z0-9_:]+$' "$log/$n.txt" | tr -d ' ' | sort -u | paste -sd, - || true)"
    echo "[$n] $name: caught by \`cargo test $args\` (failing: ${failing:-see $log/$n.txt})"
    caught=$((caught + 1))
  fi
  cp "$log/original" "$file"
done

echo "mutation check: caught $caught of ${#names[@]}"
for m in "${missed[@]}"; do echo "  missed: $m"; done
[[ $caught == "${#names[@]}" ]]
