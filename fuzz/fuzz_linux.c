// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what a stock Linux guest and its image hand the VMM.
 *
 * The first byte picks the part:
 *   even: the 16550 (vmm/serial.c), the guest's side: each 2-byte record is
 *         one access (register, read or write) and a value.  The UART must
 *         keep its invariants whatever the sequence: IER holds 4 bits, LSR
 *         always reads THR empty, the interrupt output is high exactly when
 *         THRI is enabled and a THR-empty event is pending, an edge is only
 *         reported on a rise, nothing is sent in loopback.
 *   odd:  the rest is a bzImage (vmm/linux_boot.c): parse it; when it
 *         parses, plan and write the boot into a 64 MiB RAM buffer with an
 *         initrd and command line sized from the input.  Parse must never
 *         read past the image, plan and write never past RAM (ASan), and a
 *         parsed image must satisfy what the writer relies on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/linux.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_linux: %s:%d: %s\n", __FILE__,	\
			__LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static unsigned int edges;

static void raise_cb(void *opaque)
{
	(void)opaque;
	edges++;
}

static void fuzz_serial(const uint8_t *d, size_t n)
{
	static FILE *sink;
	struct serial s;
	uint64_t sent = 0;
	size_t i;

	if (!sink)
		sink = fopen("/dev/null", "w");
	edges = 0;
	serial_init(&s, sink, raise_cb, NULL);
	for (i = 0; i + 2 <= n; i += 2) {
		unsigned int off = d[i] & 7;
		bool wr = d[i] & 8, was = s.line, loop = s.mcr & 0x10;
		unsigned int before = edges;
		uint8_t v = d[i + 1];

		if (wr && off == 0 && !(s.lcr & 0x80) && !loop)
			sent++;
		serial_access(&s, off, &v, wr);
		CHECK(s.ier <= 0x0f);
		CHECK(s.line == ((s.ier & 0x02) && s.thre_pending));
		CHECK(edges == before + (!was && s.line));
		if (!wr && off == 5)
			CHECK(v == 0x60);
		CHECK(s.len < sizeof(s.buf));
	}
	CHECK(s.tx_bytes >= sent);
	serial_flush(&s);
}

static void fuzz_image(const uint8_t *d, size_t n)
{
	static uint8_t *ram, initrd[65536];
	struct linux_layout lay;
	struct linux_image img;
	char why[256], cmdline[4096];
	uint8_t *copy;
	size_t clen, ilen;

	if (!ram)
		ram = malloc(LINUX_MEM_MIN);
	/* An exact-size copy: ASan sees a read past the image. */
	copy = malloc(n ? n : 1);
	memcpy(copy, d, n);
	if (linux_image_parse(copy, n, &img, why, sizeof(why)) == 0) {
		CHECK(img.setup_size < n && img.hdr_len >= 0x264 - 0x1f1);
		CHECK(0x1f1 + img.hdr_len <= img.setup_size);
		CHECK(img.init_size >= n - img.setup_size);
		clen = n > 0x300 ? copy[0x2ff] * 9u : 0;
		ilen = n > 0x300 ? (size_t)copy[0x2fe] * 257u : 0;
		memset(cmdline, 'a', clen);
		cmdline[clen] = '\0';
		if (linux_boot_plan(&img, LINUX_MEM_MIN, ilen, cmdline, &lay, why,
				    sizeof(why)) == 0) {
			CHECK(lay.kernel_end <= LINUX_MEM_MIN);
			CHECK(lay.initrd_gpa + lay.initrd_size <= LINUX_MEM_MIN);
			CHECK(!ilen || lay.initrd_gpa >= lay.kernel_end);
			CHECK(linux_boot_write(ram, &img, &lay, initrd, cmdline, 1) == 0);
		}
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		fuzz_image(data + 1, size - 1);
	else
		fuzz_serial(data + 1, size - 1);
	return 0;
}
