#!/usr/bin/env bash
# tests/test32.sh — make test32: build the library, its tests and examples
# for 32-bit x86 (i386) and run the tests, natively where the kernel runs
# i386 programs, else under qemu-i386 (ctest's CROSSCOMPILING_EMULATOR).
# Skips, with exit 0, when the compiler cannot link a 32-bit program or
# nothing can run one.
#
#   test32.sh BUILD_DIR JOBS C_COMPILER C_FLAGS [CMAKE_ARGS...]
#
# C_FLAGS are the 32-bit flags (-m32; more if the machine needs them).
set -euo pipefail
BUILD=$1 JOBS=$2 CC=$3 CFLAGS32=$4
shift 4

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The headers and calls the library needs, so that a missing piece of the
# 32-bit C library (gcc-multilib, libc6-dev-i386) shows here, not mid-build.
cat >"$TMP/probe.c" <<'C'
#define _GNU_SOURCE /* as the library: mmap's flags */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
int main(void) {
    _Atomic uint64_t word = 0;
    atomic_fetch_or(&word, 1);
    void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)errno;
    (void)pthread_self();
    return sizeof(void *) == 4 && p != MAP_FAILED && word == 1 ? 0 : 1;
}
C
# shellcheck disable=SC2086  # the flags are words
if ! "$CC" $CFLAGS32 -std=c11 -pthread "$TMP/probe.c" -o "$TMP/probe" 2>"$TMP/cc.log"; then
    echo "test32: skipped: '$CC $CFLAGS32' cannot build a 32-bit program" \
         "(Debian: gcc-multilib), it said:"
    { grep -i -m 3 'error' "$TMP/cc.log" || head -3 "$TMP/cc.log"; } | sed 's/^/  /'
    exit 0
fi

emulator=
if "$TMP/probe" 2>/dev/null; then
    echo "test32: this machine runs i386 programs natively"
elif command -v qemu-i386 >/dev/null 2>&1 && qemu-i386 "$TMP/probe"; then
    emulator=$(command -v qemu-i386)
    echo "test32: running the tests under $emulator"
else
    echo "test32: skipped: this machine cannot run i386 programs, and has no qemu-i386" \
         "(Debian: qemu-user)"
    exit 0
fi

# The flags and the emulator are given at every configure, so that they hold
# in a build-32 configured before too (the CFLAGS variable would only count
# the first time); the compiler and CMAKE_ARGS only at the first, as make
# build does.  The benchmarks are built for their smoke tests, which ctest
# runs with the others.
first=()
[ -f "$BUILD/CMakeCache.txt" ] ||
    first=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$CC" "$@")
cmake -S . -B "$BUILD" ${first[@]+"${first[@]}"} -DCMAKE_C_FLAGS="$CFLAGS32" \
      -DCMAKE_CROSSCOMPILING_EMULATOR="$emulator"
cmake --build "$BUILD" -j "$JOBS"
cd "$BUILD" && ctest --output-on-failure -j "$JOBS"
