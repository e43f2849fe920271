#!/usr/bin/env bash
# Benchmarks fluxvet against its anchors with hyperfine and prints a table of medians and ratios.
#   bench/compare.sh            (needs ../shared/corpus; installs hyperfine, time and yamllint if missing)
# Builds the scale corpus (ten copies of the two large corpus repositories) outside the checkout
# (SCALE, default $TMPDIR/fluxvet-scale-corpus): fluxvet honours .gitignore, and inside this git
# working tree a git-ignored copy would hold no file it reads.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus}
BIG=("$CORPUS/onedr0p__home-ops" "$CORPUS/bjw-s-labs__home-ops")
SCALE=${SCALE:-${TMPDIR:-/tmp}/fluxvet-scale-corpus}
RUNS=${RUNS:-10}

command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
command -v yamllint >/dev/null || pip install -q yamllint

cargo build --release --quiet
cargo build --release --quiet --example parse_floor
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/fluxvet
FLOOR=$TARGET/release/examples/parse_floor

if [ ! -d "$SCALE" ]; then
  mkdir -p "$SCALE"
  for i in $(seq 1 10); do
    for r in "${BIG[@]}"; do
      mkdir -p "$SCALE/copy$i"
      cp -r "$r" "$SCALE/copy$i/$(basename "$r")"
    done
  done
fi
# Copies carry their .gitignore/.sourceignore; yamllint gets the same file list fluxvet reads.
printf 'extends: default\nrules: {}\nyaml-files: ["*.yaml", "*.yml"]\n' > /tmp/fluxvet-yamllint-off.yaml
sed -i 's/rules: {}/rules: {anchors: disable, braces: disable, brackets: disable, colons: disable, commas: disable, comments: disable, comments-indentation: disable, document-end: disable, document-start: disable, empty-lines: disable, empty-values: disable, float-values: disable, hyphens: disable, indentation: disable, key-duplicates: disable, key-ordering: disable, line-length: disable, new-line-at-end-of-file: disable, new-lines: disable, octal-values: disable, quoted-strings: disable, trailing-spaces: disable, truthy: disable}/' /tmp/fluxvet-yamllint-off.yaml

bytes=$(find "$SCALE" -name '*.y*ml' -not -path '*/.*' -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$SCALE" -name '*.y*ml' -not -path '*/.*' | wc -l)
# The issue sizes its corpora as `du` does (4 KiB blocks per file): the two repositories' 963
# YAML files are "3.9 MB" that way and the scale corpus "40 MB", though they hold 0.76 and 7.6 MB
# of bytes. Both are reported.
du_bytes=$(find "$SCALE" -name '*.y*ml' -not -path '*/.*' -print0 | du -c -B1 --files0-from=- | tail -1 | cut -f1)

median() { # hyperfine JSON -> median seconds
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
run() { # name, command
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "/tmp/fluxvet-bench-$1.json" "$2" >/dev/null 2>&1 || \
  hyperfine --warmup 2 --runs "$RUNS" -i --export-json "/tmp/fluxvet-bench-$1.json" "$2" >/dev/null
  median "/tmp/fluxvet-bench-$1.json"
}

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $cpu, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
f_big=$(run big "$BIN check --color never ${BIG[*]}")
# What schema validation (FV505) costs: the same run without it.
f_big_nosv=$(run big_nofv505 "$BIN check --color never --ignore FV505 ${BIG[*]}")
y_big=$(run yamllint "yamllint -c /tmp/fluxvet-yamllint-off.yaml ${BIG[*]}")
# yq (Debian's, jq over PyYAML) as a second anchor: it parses each file and prints it back.
y_q=0
yq_files=0
if command -v yq >/dev/null; then
  # It stops at the first file PyYAML rejects (a duplicate anchor in the corpus), so it gets
  # the files PyYAML accepts.
  find "${BIG[@]}" -name '*.y*ml' -not -path '*/.*' | /usr/bin/python3 -c '
import sys, yaml
for p in sys.stdin.read().split():
    try:
        list(yaml.safe_load_all(open(p)))
        print(p)
    except Exception:
        pass' > /tmp/fluxvet-bench-files.txt
  yq_files=$(wc -l < /tmp/fluxvet-bench-files.txt)
  y_q=$(run yq "sh -c 'xargs yq . < /tmp/fluxvet-bench-files.txt > /dev/null 2>&1'")
fi
f_ex=$(run example "$BIN check --color never fixtures/example")
# The ratio to the parse floor is taken in alternating rounds: this shared VM drifts between
# fast and slow phases (fresh-page zeroing costs several times more in the slow ones), and
# back-to-back blocks of runs would put the two sides in different phases.
ROUNDS=${ROUNDS:-5}
per_round=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
: > /tmp/fluxvet-bench-scale.times
: > /tmp/fluxvet-bench-floor.times
for _ in $(seq 1 "$ROUNDS"); do
  for side in scale floor; do
    if [ "$side" = scale ]; then cmd="$BIN check --color never $SCALE"; else cmd="$FLOOR $SCALE"; fi
    hyperfine -N --warmup 1 --runs "$per_round" --export-json "/tmp/fluxvet-bench-$side.json" "$cmd" >/dev/null 2>&1
    python3 -c 'import json,sys; print("\n".join(map(str, json.load(open(sys.argv[1]))["results"][0]["times"])))' \
      "/tmp/fluxvet-bench-$side.json" >> "/tmp/fluxvet-bench-$side.times"
  done
done
median_of() { python3 -c 'import statistics,sys; print(statistics.median(float(l) for l in open(sys.argv[1]) if l.strip()))' "$1"; }
f_scale=$(median_of /tmp/fluxvet-bench-scale.times)
floor=$(median_of /tmp/fluxvet-bench-floor.times)
f_scale1=$(run scale1 "$BIN check -j 1 --color never $SCALE")
rss=$( { /usr/bin/time -v "$BIN" check --color never "$SCALE" >/dev/null; } 2>&1 | awk '/Maximum resident/ {print $6}')

python3 - "$f_big_nosv" "$f_big" "$y_big" "$y_q" "$yq_files" "$f_ex" "$f_scale" "$f_scale1" "$floor" "$bytes" "$files" "$rss" "$du_bytes" <<'PY'
import sys
f_big_nosv = float(sys.argv.pop(1))
f_big, y_big, y_q, yq_files, f_ex, f_scale, f_scale1, floor, nbytes, files, rss, du_bytes = map(float, sys.argv[1:])
mb = nbytes / 1e6
du_mb = du_bytes / 1e6
print(f"| measurement | median | target | ratio |")
print(f"|---|---|---|---|")
print(f"| two large corpus repos, fluxvet (all rules) | {f_big*1000:.1f} ms | < 100 ms | |")
print(f"| same, without schema validation (`--ignore FV505`) | {f_big_nosv*1000:.1f} ms | | FV505 adds {(f_big-f_big_nosv)*1000:.1f} ms (target <= 30) |")
print(f"| same, yamllint with every rule off | {y_big*1000:.0f} ms | | fluxvet {y_big/f_big:.1f}x faster (target >= 25x) |")
if y_q:
    print(f"| same, yq (Debian, jq over PyYAML) printing the {yq_files:.0f} files PyYAML accepts | {y_q*1000:.0f} ms | | fluxvet {y_q/f_big:.1f}x faster |")
print(f"| scale corpus ({files:.0f} YAML files: {du_mb:.0f} MB as `du` counts them, the issue's measure; {mb:.1f} MB of bytes), fluxvet | {f_scale*1000:.0f} ms | | {du_mb/f_scale:.0f} MB/s by `du` (target >= 50); {mb/f_scale:.0f} MB/s of bytes, floor {mb/floor:.0f} |")
print(f"| scale corpus, parse floor: same discovery, read and a bare event pass (fast path, saphyr where it declines), same threads and allocator | {floor*1000:.0f} ms | | fluxvet / floor = {f_scale/floor:.2f} (target <= 1.5) |")
print(f"| scale corpus, fluxvet -j 1 | {f_scale1*1000:.0f} ms | | 1 -> {int(__import__('os').cpu_count())} threads: {f_scale1/f_scale:.2f}x |")
print(f"| scale corpus, peak memory | {rss/1024:.0f} MiB | < 150 MiB | |")
print(f"| fixtures/example, start to exit | {f_ex*1000:.1f} ms | < 10 ms | |")
PY
