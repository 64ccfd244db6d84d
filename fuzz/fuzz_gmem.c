// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: gmem API sequences against a reference model.
 *
 * Each 4-byte record is one call: op (share, unshare, host pin, host
 * unpin, guest pin, guest unpin), first page, page count, mode bits.
 * Offsets and lengths are sometimes skewed off page alignment or past the
 * end so that the bad-input paths are exercised too.  After every call the
 * return code, page state, pin count per owner, the refused-unpin counters
 * and real host accessibility must match the model; any mismatch aborts.
 * A guest unpin can never take a host pin: if it did, the host pin count
 * (and the unshare that must stay -EBUSY) would differ from the model.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/gmem.h"
#include "harness/violation.h"

#define NPAGES	16
#define PG	GMEM_PAGE_SIZE

struct model {
	bool shared[NPAGES];
	int pins[NPAGES];		/* host-owned */
	int gpins[NPAGES];		/* guest-owned */
	bool destructive;
	uint64_t host_refused, guest_refused;
};

static int expect(struct model *m, int op, uint64_t off, uint64_t len)
{
	uint64_t f = off / PG, n = len / PG, i;

	if ((off | len) % PG || !len)
		return -EINVAL;
	if (off + len < off)
		return -EOVERFLOW;
	if (off + len > NPAGES * PG)
		return -ERANGE;
	switch (op) {
	case 0:
	case 1: {
		bool to = op == 0;

		if (m->destructive)
			for (i = f; i < f + n; i++)
				if (m->shared[i] == to)
					return -EALREADY;
		if (!to)
			for (i = f; i < f + n; i++)
				if (m->pins[i] || m->gpins[i])
					return -EBUSY;
		for (i = f; i < f + n; i++)
			m->shared[i] = to;
		return 0;
	}
	case 2:
	case 4: {
		int *p = op == 2 ? m->pins : m->gpins;

		for (i = f; i < f + n; i++) {
			if (!m->shared[i])
				return -EACCES;
			if (op == 4 && p[i] == (int)GMEM_GUEST_PIN_MAX)
				return -EMLINK;
		}
		for (i = f; i < f + n; i++)
			p[i]++;
		return 0;
	}
	default: {
		int *p = op == 3 ? m->pins : m->gpins;

		for (i = f; i < f + n; i++)
			if (!p[i]) {
				if (op == 3)
					m->host_refused++;
				else
					m->guest_refused++;
				return -ENOENT;
			}
		for (i = f; i < f + n; i++)
			p[i]--;
		return 0;
	}
	}
}

static int call(struct gmem *g, int op, uint64_t off, uint64_t len)
{
	switch (op) {
	case 0: return gmem_share(g, off, len);
	case 1: return gmem_unshare(g, off, len);
	case 2: return gmem_pin(g, off, len);
	case 3: return gmem_unpin(g, off, len);
	case 4: return gmem_pin_as(g, off, len, GMEM_PIN_GUEST);
	default: return gmem_unpin_as(g, off, len, GMEM_PIN_GUEST);
	}
}

static void check(struct gmem *g, const struct model *m)
{
	uint64_t i, shared = 0;
	struct gmem_stats st;

	gmem_get_stats(g, &st);
	if (st.unpin_missing != m->host_refused ||
	    st.guest_unpin_refused != m->guest_refused || st.violations)
		abort();
	for (i = 0; i < NPAGES; i++) {
		int want = m->shared[i] ? GMEM_SHARED : GMEM_PRIVATE;

		if (gmem_page_state(g, i * PG) != want ||
		    gmem_page_pins_of(g, i * PG, GMEM_PIN_HOST) != m->pins[i] ||
		    gmem_page_pins_of(g, i * PG, GMEM_PIN_GUEST) != m->gpins[i] ||
		    gmem_page_pins(g, i * PG) != m->pins[i] + m->gpins[i] ||
		    violation_try_access(g, i * PG, i & 1) != (m->shared[i] ? 0 : -EFAULT))
			abort();
		shared += m->shared[i];
	}
	if (gmem_shared_pages(g) != shared)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem_config cfg = { .size = NPAGES * PG, .vm_fd = -1 };
	struct model m = { 0 };
	struct gmem *g;
	size_t k;

	if (size < 1)
		return 0;
	m.destructive = data[0] & 1;
	cfg.mode = m.destructive ? GMEM_MODE_DESTRUCTIVE : GMEM_MODE_INPLACE;
	/* Both conversion models must follow the same model of states. */
	cfg.model = data[0] & 2 ? GMEM_MODEL_EAGER : GMEM_MODEL_LAZY;
	if (gmem_create(&cfg, &g))
		abort();
	for (k = 1; k + 4 <= size; k += 4) {
		int op = data[k] % 6;
		uint64_t off = (uint64_t)(data[k + 1] % (NPAGES + 2)) * PG;
		uint64_t len = (uint64_t)(data[k + 2] % (NPAGES + 1)) * PG;

		if (data[k + 3] & 1)
			off += data[k + 3] >> 1;	/* misaligned */
		if (data[k + 3] & 0x80)
			len = UINT64_MAX - (data[k + 3] & 0x7f) * PG + 1; /* wraps */
		if (call(g, op, off, len) != expect(&m, op, off, len))
			abort();
		check(g, &m);
	}
	gmem_destroy(g);
	return 0;
}
