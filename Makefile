# Thin wrapper around CMake for the README's commands.
BUILD      ?= build
ASAN_BUILD ?= build-asan
UBSAN_BUILD ?= build-ubsan
BUILD32    ?= build-32
# make test32's flags: -m32, and whatever else a machine needs for it
CFLAGS32   ?= -m32
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build test test32 demo bench asan ubsan valgrind fuzz install clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# 32-bit x86: a build in $(BUILD32) whose tests run natively, or under
# qemu-i386 where the kernel cannot run i386 programs; skipped (exit 0) where
# they can be neither built nor run (tests/test32.sh).
test32:
	./tests/test32.sh $(BUILD32) $(JOBS) $(CC) "$(CFLAGS32)" $(CMAKE_ARGS)

demo: build
	$(abspath $(BUILD))/examples/tour/tour

bench: build
	./bench/run.sh $(BUILD)
	./bench/threads_run.sh $(BUILD)
	./bench/object_run.sh $(BUILD)
	./bench/gc_run.sh $(BUILD)
	@if [ -x $(BUILD)/examples/lua/rcgc-lua ]; then ./examples/lua/bench.sh $(BUILD)/examples/lua/rcgc-lua && \
	 GC=generational ./examples/lua/bench.sh $(BUILD)/examples/lua/rcgc-lua; \
	 else echo "bench: Lua benchmark skipped (rcgc-lua not built: liblua5.4-dev missing)"; fi
	@if [ -x $(BUILD)/examples/sqlite/rcgc-sqlite ]; then ./examples/sqlite/bench.sh $(BUILD)/examples/sqlite/rcgc-sqlite; \
	 else echo "bench: SQLite benchmark skipped (rcgc-sqlite not built: libsqlite3-dev missing)"; fi

asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRCGC_SANITIZE=ON -DRCGC_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# UBSan alone: unlike make asan, heaps keep the block cache's fast paths.
ubsan:
	cmake -S . -B $(UBSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCGC_UBSAN=ON -DRCGC_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(UBSAN_BUILD) -j $(JOBS)
	cd $(UBSAN_BUILD) && UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer harnesses (fuzz/, clang only): each runs FUZZ_SECONDS on its own
# corpus, kept in $(FUZZ_BUILD)/corpus/ from one run to the next; a crash
# stops the target and leaves its input in $(FUZZ_BUILD)/artifacts/.
FUZZ_HARNESSES = fuzz_heap fuzz_types fuzz_heap_fast fuzz_types_fast
fuzz:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DRCGC_FUZZ=ON \
	  -DRCGC_BUILD_TESTS=OFF -DRCGC_BUILD_BENCH=OFF -DRCGC_BUILD_EXAMPLES=OFF $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_HARNESSES)
	mkdir -p $(FUZZ_BUILD)/artifacts
	@set -e; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$h; \
	  echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=30 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$h- $(FUZZ_BUILD)/corpus/$$h; \
	done

valgrind: build
	cd $(BUILD) && ctest --output-on-failure -L valgrind -T memcheck

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(UBSAN_BUILD) $(BUILD32)
