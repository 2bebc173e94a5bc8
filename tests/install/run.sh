#!/usr/bin/env bash
# tests/install/run.sh — install the built library into a scratch prefix and
# use it the way a user would: every public header compiles on its own (as C11,
# and as C++ when a C++ compiler is there), pkg-config finds rcgc.pc with the
# project's version, and consumer.c builds from the pkg-config flags alone,
# against the shared library, the static one and the reference-debugging one
# (rcgc-refdebug.pc), and runs; and a CMake project finds the package with
# find_package(rcgc) and builds it too.
#
#   run.sh BUILD_DIR SOURCE_DIR C_COMPILER VERSION [C_FLAGS [EMULATOR]]
#
# C_FLAGS are the build's CMAKE_C_FLAGS (-m32 in make test32), which the
# consumers are compiled with too; EMULATOR, words separated by spaces, runs
# them where the kernel cannot (qemu-i386), and then the libraries a consumer
# needs are read from its dynamic section instead of from ldd.
#
# Exit 77 (ctest's skip code) when pkg-config is not installed.
set -euo pipefail
BUILD=$1 SRC=$2 CC=$3 VERSION=$4 CFLAGS=${5:-} EMU=${6:-}

if ! command -v pkg-config >/dev/null 2>&1; then
    echo "install test skipped: pkg-config is not installed"
    exit 77
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix

fail() { echo "install test FAILED: $*" >&2; exit 1; }
# shellcheck disable=SC2086  # the flags and the emulator are words
cc() { "$CC" $CFLAGS "$@"; }
# shellcheck disable=SC2086
run() { $EMU "$@"; }
# The shared libraries program $1 loads (ldd), or under an emulator the ones
# it names (its NEEDED entries, which LD_LIBRARY_PATH then resolves).
loaded_libs() {
    if [ -z "$EMU" ]; then
        ldd "$1" 2>/dev/null || true
    else
        readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' || true
    fi
}

cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install"; }

PC=$(find "$PREFIX" -name rcgc.pc | head -1)
[ -n "$PC" ] || fail "no rcgc.pc under $PREFIX"
export PKG_CONFIG_PATH=$(dirname "$PC")
LIBDIR=$(pkg-config --variable=libdir rcgc)
INCDIR=$(pkg-config --variable=includedir rcgc)
case "$LIBDIR" in "$PREFIX"/*) ;; *) fail "libdir $LIBDIR is not under the prefix" ;; esac
[ "$(pkg-config --modversion rcgc)" = "$VERSION" ] ||
    fail "pkg-config version $(pkg-config --modversion rcgc), project $VERSION"
case " $(pkg-config --static --libs rcgc) " in *" -lpthread "*) ;; *)
    fail "Libs.private lacks -lpthread" ;;
esac
for f in librcgc.a librcgc.so; do [ -e "$LIBDIR/$f" ] || fail "$f not installed"; done

# Each header alone, in the order a user might include it first.
CXX=$(command -v c++ || command -v g++ || command -v clang++ || true)
for hdr in rcgc.h rcgc/version.h rcgc/heap.h rcgc/object.h rcgc/gc.h rcgc/weakref.h rcgc/types.h; do
    [ -f "$INCDIR/$hdr" ] || fail "$hdr not installed"
    echo "#include <$hdr>" | cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only \
        $(pkg-config --cflags rcgc) -x c - || fail "$hdr does not compile alone as C11"
    if [ -n "$CXX" ]; then
        echo "#include <$hdr>" | "$CXX" -Wall -Wextra -Werror -fsyntax-only \
            $(pkg-config --cflags rcgc) -x c++ - || fail "$hdr does not compile as C++"
    fi
done

# shellcheck disable=SC2046  # pkg-config output is meant to be split
cc -std=c11 -Wall -Wextra -Werror "-DEXPECT_VERSION=\"$VERSION\"" $(pkg-config --cflags rcgc) \
    "$SRC/tests/install/consumer.c" $(pkg-config --libs rcgc) -o "$TMP/consumer_shared" ||
    fail "building against the shared library"
# ldd's output is captured first: with pipefail, `ldd | grep -q` fails at
# random when grep exits at the first match and ldd dies of SIGPIPE.
if [ -z "$EMU" ]; then
    libs=$(loaded_libs "$TMP/consumer_shared")
    case "$libs" in *"$LIBDIR/librcgc.so"*) ;; *)
        libs=$(LD_LIBRARY_PATH=$LIBDIR ldd "$TMP/consumer_shared" 2>&1 || true) ;;
    esac
    case "$libs" in *"$LIBDIR/librcgc.so"*) ;; *)
        fail "the shared consumer does not load the installed librcgc.so: $libs" ;;
    esac
else
    case "$(loaded_libs "$TMP/consumer_shared")" in *librcgc.so*) ;; *)
        fail "the shared consumer does not need librcgc.so" ;;
    esac
fi
LD_LIBRARY_PATH=$LIBDIR run "$TMP/consumer_shared" || fail "the shared consumer"

# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags rcgc) "$SRC/tests/install/consumer.c" \
    "$LIBDIR/librcgc.a" $(pkg-config --static --libs-only-other --libs-only-l rcgc | sed 's/-lrcgc//') \
    -o "$TMP/consumer_static" || fail "building against the static library"
case "$(loaded_libs "$TMP/consumer_static")" in *librcgc*)
    fail "the static consumer still needs librcgc.so" ;;
esac
run "$TMP/consumer_static" || fail "the static consumer"

# The reference-debugging library, from rcgc-refdebug.pc alone.
[ -e "$LIBDIR/librcgc_refdebug.a" ] || fail "librcgc_refdebug.a not installed"
[ "$(pkg-config --modversion rcgc-refdebug)" = "$VERSION" ] || fail "rcgc-refdebug.pc version"
# EXPECT_REF_DEBUG: consumer.c stops the build if the .pc's flags lack the
# define (the archive links either way, so only the define can tell).
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -DEXPECT_REF_DEBUG $(pkg-config --cflags rcgc-refdebug) \
    "$SRC/tests/install/consumer.c" $(pkg-config --libs rcgc-refdebug) -o "$TMP/consumer_refdebug" ||
    fail "building against the reference-debugging library"
run "$TMP/consumer_refdebug" || fail "the refdebug consumer"
# find_package(rcgc): the exported targets, each linked by a CMake project.
mkdir -p "$TMP/cmake-consumer"
cat >"$TMP/cmake-consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(rcgc_consumer C)
find_package(rcgc $VERSION REQUIRED)
add_executable(consumer_static "$SRC/tests/install/consumer.c")
target_link_libraries(consumer_static PRIVATE rcgc::rcgc)
add_executable(consumer_shared "$SRC/tests/install/consumer.c")
target_link_libraries(consumer_shared PRIVATE rcgc::rcgc_shared)
add_executable(consumer_refdebug "$SRC/tests/install/consumer.c")
target_link_libraries(consumer_refdebug PRIVATE rcgc::rcgc_refdebug)
target_compile_definitions(consumer_refdebug PRIVATE EXPECT_REF_DEBUG)
CMAKE
cmake -S "$TMP/cmake-consumer" -B "$TMP/cmake-consumer/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" >"$TMP/cmake.log" 2>&1 &&
    cmake --build "$TMP/cmake-consumer/build" >>"$TMP/cmake.log" 2>&1 ||
    { cat "$TMP/cmake.log" >&2; fail "a CMake project using find_package(rcgc)"; }
run "$TMP/cmake-consumer/build/consumer_static" || fail "the CMake static consumer"
run "$TMP/cmake-consumer/build/consumer_shared" || fail "the CMake shared consumer"
run "$TMP/cmake-consumer/build/consumer_refdebug" || fail "the CMake refdebug consumer"

echo "install test: headers, rcgc.pc $VERSION, find_package(rcgc), shared, static and refdebug consumers all good"
