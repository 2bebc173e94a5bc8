#!/usr/bin/env bash
# bench/model/sweep_coalescing.sh — run churn_coalescing
# (bench/model/churn_coalescing.c) for every POLICY x H x K below and print
# one table, then, where it is built (glibc only), churn_glibc_replay for
# the real glibc with the same cache sizes, fastbins on and off.
#
#   bench/model/sweep_coalescing.sh [BUILD_DIR [STEPS]]   (defaults: build, 20000000)
#
# Model columns: the top's high-water mark in KiB for each POLICY and H,
# then best fit H=8's cache misses per step (as many overflows; the other
# designs differ by under 0.001) and the extra ns per step they cost at
# 20-40 ns per miss or overflow.  glibc columns: the top's high-water mark
# in KiB (mallinfo2's arena - keepcost).  docs/allocator.md ("Small heaps
# and 32 classes") quotes it.  Runs in parallel, one per CPU; 20M steps
# take about two minutes on 2 CPUs, most of it the glibc runs.
set -euo pipefail
build="${1:-build}"
steps="${2:-20000000}"
bin="$build/bench/churn_coalescing"
glibc_bin="$build/bench/churn_glibc_replay"
designs="best:8 best:16 first:8 first:16"
ks="0 4 7 8 10 12 14 16 20 24 32"
tcache_counts="0 4 7 8 16 32"
jobs="$(nproc 2>/dev/null || echo 2)"

if [ ! -x "$bin" ]; then
  echo "sweep_coalescing.sh: no $bin (make build)" >&2
  exit 2
fi

# One line per run, "POLICY H K"; the sh that xargs starts expands $STEPS.
# shellcheck disable=SC2016
for d in $designs; do for k in $ks; do
  echo "${d%:*} ${d#*:} $k"
done; done |
  STEPS="$steps" xargs -P "$jobs" -L 1 sh -c 'exec "$0" "$1" "$2" "$3" "$STEPS"' "$bin" |
  awk -v designs="$designs" -v ks="$ks" -v steps="$steps" '
    {
      for (i = 1; i <= NF; i++) { eq = index($i, "="); v[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
      key = v["policy"] ":" v["H"] " " v["K"]
      peak[key] = v["peak"]; miss[key] = v["miss/step"]; ns[key] = v["extra_ns"]
    }
    END {
      printf "coalescing heap model, churn W=1K, %s steps: peak (top high-water) in KiB\n", steps
      nd = split(designs, D, " "); nk = split(ks, K, " ")
      printf "%3s", "K"
      for (i = 1; i <= nd; i++) { d = D[i]; sub(":", " H=", d); printf " %11s", d }
      printf " | %9s %12s\n", "miss/step", "extra ns"
      for (j = 1; j <= nk; j++) {
        printf "%3s", K[j]
        for (i = 1; i <= nd; i++) printf " %11s", peak[D[i] " " K[j]]
        printf " | %9s %12s\n", miss["best:8 " K[j]], ns["best:8 " K[j]]
      }
    }'

if [ ! -x "$glibc_bin" ]; then
  echo
  echo "(no $glibc_bin: not glibc, no comparison with the real glibc)"
  exit 0
fi
echo
# One line per run, "TCACHE_COUNT MXFAST" ("-": glibc's default).
# shellcheck disable=SC2016
for t in $tcache_counts; do for f in - 0; do
  echo "$t $f"
done; done |
  STEPS="$steps" xargs -P "$jobs" -L 1 sh -c '
    tunables="glibc.malloc.tcache_count=$1"
    if [ "$2" != "-" ]; then tunables="$tunables:glibc.malloc.mxfast=$2"; fi
    out=$(GLIBC_TUNABLES="$tunables" "$0" "$STEPS") || exit 255  # 255: xargs stops
    echo "tcache_count=$1 mxfast=$2 $out"' "$glibc_bin" |
  awk -v tcs="$tcache_counts" -v steps="$steps" '
    {
      for (i = 1; i <= NF; i++) { eq = index($i, "="); v[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
      top[v["tcache_count"] " " v["mxfast"]] = v["top_high_water"]
    }
    END {
      printf "real glibc (churn_glibc_replay), %s steps: top high-water in KiB\n", steps
      printf "%12s %12s %13s\n", "tcache_count", "fastbins on", "fastbins off"
      n = split(tcs, T, " ")
      for (i = 1; i <= n; i++) printf "%12s %12s %13s\n", T[i], top[T[i] " -"], top[T[i] " 0"]
    }'
