# gmemkit: guest_memfd conversion vs swiotlb bouncing, measured on KVM.
#
#   make            build build/libgmemkit.a and build/gmemkit
#   make check      build and run every test (TAP, via prove)
#   make check-vm   the same, inside the test VM (tools/testvm)
#   make bench      the verdict's sweep (FULL=1: all of it; QUICK=1: shorter; docs/benchmark.md)
#   make stress     stress the I/O path (STRESS_SECONDS=60, STRESS_ARGS=...)
#   make fuzz       build and run the libFuzzer targets (FUZZ_SECONDS=N each)
#   make check SAN=address,undefined   sanitizer build in build/san-*/
#
# Sources are picked up by directory, so a new file needs no Makefile edit:
#   lib/*.c vmm/*.c   -> libgmemkit.a (the product: guest memory, bounce
#                        pool, VMM, virtio device, backends)
#   harness/*.c       -> libgmemkit-harness.a (test support: stress harness,
#                        fault injector, self-test services, violation probe)
#   cli/*.c           -> gmemkit (links both), one file per command
#   report/*.c        -> the bench's report (report_: report/report.h),
#                        linked into gmemkit
#   tests/t_*.c       -> host tests          tests/kvm_*.c -> KVM tests
#   guest/*.c *.S     -> freestanding guest image, embedded in libgmemkit.a
#   fuzz/*.c          -> libFuzzer targets (clang)

CC	?= gcc
SAN	?=
comma	:= ,
ifeq ($(SAN),)
O	?= build
else
O	?= build/san-$(subst $(comma),-,$(SAN))
endif

CFLAGS_COMMON := -std=gnu11 -g -Wall -Wextra -Werror -Iinclude -I. -D_GNU_SOURCE
# Dependency files live under $(O)/deps/, apart from what is built (so that
# build/tests/ holds only test programs: prove build/tests/t_* works).
DEPFLAGS = -MMD -MP -MF $(O)/deps/$(patsubst $(O)/%,%,$@).d
depdir = @mkdir -p $(@D) $(dir $(O)/deps/$(patsubst $(O)/%,%,$@))
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CFLAGS	?= -O2
CFLAGS	+= $(CFLAGS_COMMON) -pthread -DGMEMKIT_VERSION='"$(VERSION)"' \
	   -DGMEMKIT_BENCH_DIR='"$(CURDIR)/bench"'
LDFLAGS	+= -pthread
LDLIBS	+= -luring -lm
ifneq ($(SAN),)
CFLAGS	+= -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=$(SAN)
endif

.DEFAULT_GOAL := all

LIB_SRCS  := $(wildcard lib/*.c vmm/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
HARNESS_SRCS := $(wildcard harness/*.c)
# The guest's own I/O workload and virtio-blk driver, built for the host
# too (guest.h's hosted runtime: harness/guest_host.c): the stress harness
# runs the very code the guest runs.
HARNESS_GUEST := guest/gblk.c guest/io.c guest/io_request.c guest/io_run.c \
		 guest/pattern.c guest/check.c
HARNESS_OBJS := $(HARNESS_SRCS:%.c=$(O)/%.o) \
		$(patsubst guest/%.c,$(O)/harness/guest_%.o,$(HARNESS_GUEST))
CLI_SRCS  := $(wildcard cli/*.c)
CLI_OBJS  := $(CLI_SRCS:%.c=$(O)/%.o)
REPORT_SRCS := $(wildcard report/*.c)
REPORT_OBJS := $(REPORT_SRCS:%.c=$(O)/%.o)
# GMEMKIT_VERSION is compiled into the command (the report names it): its
# objects are rebuilt when the version changes, not only their sources.
VERSION_STAMP := $(O)/version.stamp
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(CLI_OBJS) $(REPORT_OBJS): $(VERSION_STAMP)
FORCE:
HOST_TESTS := $(patsubst tests/%.c,$(O)/tests/%,$(wildcard tests/t_*.c))
KVM_TESTS  := $(patsubst tests/%.c,$(O)/tests/%,$(wildcard tests/kvm_*.c))

LIB	:= $(O)/libgmemkit.a
HLIB	:= $(O)/libgmemkit-harness.a
BIN	:= $(O)/gmemkit

# ---- freestanding guest image ----------------------------------------------
GUEST_SRCS := $(wildcard guest/*.c guest/*.S)
ifneq ($(GUEST_SRCS),)
GUEST_CFLAGS := $(CFLAGS_COMMON) -O2 -ffreestanding -fno-builtin -nostdlib \
		-fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
		-mcmodel=large -fno-asynchronous-unwind-tables -fcf-protection=none \
		-mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -mno-avx \
		-mno-80387 -mno-fp-ret-in-387 \
		-DGMEM_GUEST -Iguest
# No SSE, x87 or AVX anywhere in the guest (as the kernel builds itself):
# any x86 CPU, emulator or hypervisor can run it (tests/guest_isa.t checks
# the built image).  Code shared by host and guest (freestanding) is
# compiled into both.
GUEST_SHARED := lib/bounce.c lib/adapt.c lib/platform.c
GUEST_OBJS := $(patsubst %,$(O)/guest/%.o,$(notdir $(GUEST_SRCS))) \
	      $(patsubst lib/%.c,$(O)/guest/shared_%.o,$(wildcard $(GUEST_SHARED)))
GUEST_BIN  := $(O)/guest/guest.bin
LIB_OBJS   += $(O)/guest/guest_blob.o

# The guest's flags are part of what it is (no SSE): rebuild on a change.
$(GUEST_OBJS): Makefile

$(O)/guest/%.c.o: guest/%.c
	$(depdir)
	$(CC) $(GUEST_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(O)/guest/%.S.o: guest/%.S
	$(depdir)
	$(CC) $(GUEST_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(O)/guest/shared_%.o: lib/%.c
	$(depdir)
	$(CC) $(GUEST_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(O)/guest/guest.elf: $(GUEST_OBJS) guest/guest.ld
	$(CC) $(GUEST_CFLAGS) -static -Wl,--build-id=none -Wl,-z,noexecstack \
		-T guest/guest.ld -o $@ $(GUEST_OBJS) -lgcc
$(GUEST_BIN): $(O)/guest/guest.elf
	objcopy -O binary $< $@
$(O)/guest/guest_blob.o: $(GUEST_BIN)
	printf '\t.section .rodata\n\t.balign 4096\n\t.globl vmm_guest_image\n'\
'vmm_guest_image:\n\t.incbin "%s"\n\t.globl vmm_guest_image_end\n'\
'vmm_guest_image_end:\n\t.section .note.GNU-stack,"",@progbits\n' \
		$(GUEST_BIN) > $(O)/guest/guest_blob.S
	$(CC) -c -o $@ $(O)/guest/guest_blob.S
endif

# ---- host -------------------------------------------------------------------
all: $(LIB) $(HLIB) $(BIN)

$(O)/%.o: %.c
	$(depdir)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/harness/guest_%.o: guest/%.c
	$(depdir)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Iguest -c -o $@ $<

$(HLIB): $(HARNESS_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(REPORT_OBJS) $(HLIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(REPORT_OBJS) $(HLIB) $(LIB) $(LDLIBS)

$(O)/tests/%: tests/%.c $(HLIB) $(LIB) tests/tap.h
	$(depdir)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $< $(HLIB) $(LIB) $(LDLIBS)

tests: $(HOST_TESTS) $(KVM_TESTS)

# Host tests run natively.  KVM tests run natively where /dev/kvm works and
# inside the test VM (tools/testvm) where it does not: see tools/kvm-tests.
# tests/testvm.t tests the test VM harness itself (skips inside the VM).
# check and bench first install what they need (tools/install-deps), then
# build and run in a sub-make, so that a fresh Debian machine needs nothing
# else.
check:
	@tools/install-deps check
	@$(MAKE) --no-print-directory O=$(O) SAN=$(SAN) check-run

check-run: all tests
	O=$(O) prove -f $(HOST_TESTS) tests/bench.t tests/testvm.t tests/run.t tests/bounce_bench.t \
		tests/convert_bench.t tests/probe.t \
		tests/stress.t tests/guest_isa.t tests/layers.t tests/linux.t
	O=$(O) tools/kvm-tests $(KVM_TESTS)

# The whole suite inside the test VM (Debian 6.12 kernel under QEMU/TCG:
# hypercall exits delivered, no guest_memfd mmap), on any host.  Built on
# the host first; inside, make finds everything up to date and only runs.
CHECK_VM_TIMEOUT ?= 2400
# tests/linux.t skips inside it (an L2 stock kernel hangs beside a second
# vCPU) and runs after it from here, in a 1-vCPU test VM of its own.
check-vm: all tests
	tools/testvm --timeout $(CHECK_VM_TIMEOUT) $(MAKE) O=$(O) SAN=$(SAN) check
	O=$(O) SAN=$(SAN) prove -f tests/linux.t

# make bench: the verdict's sweep; FULL=1 all of it (gmemkit bench --full);
# QUICK=1 the verdict's sweep, shorter.  convert-bench's huge-page points
# and the sweep's 2 MiB-page points (up to 64 MiB buffers per point) hold
# at most BENCH_HUGE_PAGES 2 MiB pages: as root, bench reserves what is
# missing (vm.nr_hugepages) for the run and gives it back after
# (tools/with-hugepages); elsewhere it says so and runs without them.
QUICK ?=
FULL ?=
BENCH_HUGE_PAGES ?= 64
bench:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory O=$(O) all
	tools/with-hugepages $(BENCH_HUGE_PAGES) $(BIN) bench $(if $(QUICK),--quick) $(if $(FULL),--full)

# Stress: host threads run the guest's own I/O workload and driver against
# the real device, gmem and bounce pool (no KVM guest), conversions racing
# in-flight I/O, checked.
STRESS_SECONDS ?= 60
STRESS_ARGS ?=
stress: all
	$(BIN) stress --seconds $(STRESS_SECONDS) $(STRESS_ARGS)

# ---- fuzzing (clang, libFuzzer) ----------------------------------------------
FUZZ_CC      ?= clang
FUZZ_O       := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(CFLAGS_COMMON) -O1 -pthread $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst fuzz/%.c,$(FUZZ_O)/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_O)/%.o,$(wildcard lib/*.c vmm/*.c harness/*.c))

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_O)/libgmemkit-fuzz.a: $(FUZZ_LIB_OBJS) $(if $(GUEST_SRCS),$(O)/guest/guest_blob.o)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_O)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(FUZZ_O)/libgmemkit-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_O)/libgmemkit-fuzz.a -luring -lm

fuzz-build: $(FUZZ_TARGETS)
fuzz:
	@tools/install-deps fuzz
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t); mkdir -p $(FUZZ_O)/corpus/$$n; \
		echo "== $$n ($(FUZZ_SECONDS) s)"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_O)/corpus/$$n $$( [ -d fuzz/corpus/$$n ] && echo fuzz/corpus/$$n ); \
	done

clean:
	rm -rf build

.PHONY: FORCE all tests check check-run check-vm bench stress fuzz fuzz-run fuzz-build clean
.SECONDARY:

-include $(shell find $(O)/deps $(FUZZ_O) -name '*.d' 2>/dev/null)
