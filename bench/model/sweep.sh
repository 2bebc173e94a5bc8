#!/usr/bin/env bash
# bench/model/sweep.sh — run churn_units (bench/model/churn_units.c) over
# its design space and print one table: base (rcgc today), then the unit
# model for every POLICY x K x PICK below, on churn W=1K.
#
#   bench/model/sweep.sh [BUILD_DIR [STEPS]]   (defaults: build, 20000000)
#
# Columns: the per-class caches' slow-path events per step (misses and
# overflows, the same for both picks), then for PICK=full and PICK=low the
# KiB of pages touched and the units taken per step; last, each class
# range's unit size.  docs/allocator.md ("Small heaps and 32 classes")
# quotes it.  Runs in parallel, one per CPU; 20M steps take about a minute
# on 2 CPUs.
set -euo pipefail
build="${1:-build}"
steps="${2:-20000000}"
bin="$build/bench/churn_units"
policies="U=512 U=1024 U=2048 U=4096 per:512:2 per:512:4 per:1024:2 per:1024:4 per:1024:8 per:2048:4"
ks="0 4 8 16 32"

if [ ! -x "$bin" ]; then
  echo "sweep.sh: no $bin (make build)" >&2
  exit 2
fi

"$bin" base "$steps" | awk 'NR == 1 {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "base (16 KiB pools, caches of 16 KiB): touched %s KiB, refill/step %s, overflow/step %s\n\n",
           v["touched_start"], v["refill/step"], v["overflow/step"] }'

# One line per run, "POLICY K PICK"; the sh that xargs starts expands $STEPS.
# shellcheck disable=SC2016
for p in $policies; do for k in $ks; do for pick in full low; do
  echo "$p $k $pick"
done; done; done |
  STEPS="$steps" xargs -P "$(nproc 2>/dev/null || echo 2)" -L 1 sh -c 'exec "$0" unit "$1" "$2" "$3" "$STEPS"' "$bin" |
  awk -v policies="$policies" -v ks="$ks" '
    {
      for (i = 1; i <= NF; i++) { eq = index($i, "="); v[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
      key = v["policy"] " " v["K"] " " v["pick"]
      touched[key] = v["touched"]; acq[key] = v["acq/step"]
      miss[v["policy"] " " v["K"]] = v["miss/step"]; over[v["policy"] " " v["K"]] = v["over/step"]
      units[v["policy"]] = substr($0, index($0, "units: ") + 7)
    }
    END {
      printf "%-11s %2s %9s %9s | %8s %8s | %9s %9s | %s\n", "policy", "K", "miss/step", "over/step",
             "KiB full", "KiB low", "acq full", "acq low", "unit sizes"
      np = split(policies, P, " "); nk = split(ks, K, " ")
      for (i = 1; i <= np; i++)
        for (j = 1; j <= nk; j++) {
          pk = P[i] " " K[j]
          printf "%-11s %2s %9s %9s | %8s %8s | %9s %9s | %s\n", P[i], K[j], miss[pk], over[pk],
                 touched[pk " full"], touched[pk " low"], acq[pk " full"], acq[pk " low"], units[P[i]]
        }
    }'
