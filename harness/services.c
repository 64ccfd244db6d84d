// SPDX-License-Identifier: GPL-2.0
/*
 * Test support: the guest self-tests' host services (harness/services.h),
 * through gmem's public API only.
 */
#include <errno.h>

#include "gmemkit/abi.h"
#include "gmemkit/gmem.h"
#include "harness/services.h"
#include "harness/violation.h"

/* A byte range of RAM, 8-byte aligned, for the host-view checks. */
static int check_words(struct gmem *mem, uint64_t gpa, uint64_t len)
{
	if (len > UINT64_MAX - gpa)
		return -EOVERFLOW;
	if (!len || gpa % 8 || len % 8)
		return -EINVAL;
	if (gpa >= gmem_size(mem) || len > gmem_size(mem) - gpa)
		return -ERANGE;
	return 0;
}

/* Compare the host view of [gpa, gpa + len) with the pattern (or zero). */
static int host_compare(struct gmem *mem, uint64_t gpa, uint64_t len,
			bool zero, uint64_t seed, uint64_t *bad)
{
	const volatile uint64_t *w;
	uint64_t i, want;
	void *p;
	int err;

	err = check_words(mem, gpa, len);
	if (err)
		return err;
	err = gmem_pin_ptr(mem, gpa, len, &p);
	if (err)
		return err;
	w = p;
	for (i = 0; i < len / 8; i++) {
		want = zero ? 0 : gmem_abi_pattern(seed, gpa + i * 8);
		if (w[i] != want) {
			*bad = gpa + i * 8;
			err = -EIO;
			break;
		}
	}
	/* Our own pin of a moment ago: failing to find it is a VMM bug, counted
	 * in gmem's unpin_missing and reported at the end of the run. */
	if (gmem_unpin_bytes(mem, gpa, len))
		err = -EIO;
	return err;
}

/* Every page of the range must fault in the host view. */
static int host_check_private(struct gmem *mem, uint64_t gpa, uint64_t len,
			      uint64_t *accessible)
{
	uint64_t off;
	int err;

	err = vmm_check_request(gmem_size(mem), GMEM_ABI_OP_SHARE, gpa, len);
	if (err)
		return err;
	*accessible = 0;
	for (off = gpa; off < gpa + len; off += GMEM_ABI_PAGE_SIZE) {
		err = violation_try_access(mem, off, false);
		if (!err)
			(*accessible)++;
		else if (err != -EFAULT)
			return err;
	}
	return *accessible ? -EFAULT : 0;
}

/* Pins the guest asks for are the guest's: its UNPIN never drops a pin of
 * the VMM or a device (an UNPIN finding no guest pin: -ENOENT, counted by the VMM). */
static int host_pin(struct gmem *mem, bool pin, uint64_t gpa, uint64_t len)
{
	int err = vmm_check_request(gmem_size(mem), GMEM_ABI_OP_SHARE, gpa, len);

	if (err)
		return err;
	if (pin)
		return gmem_pin_as(mem, gpa, len, GMEM_PIN_GUEST);
	return gmem_unpin_as(mem, gpa, len, GMEM_PIN_GUEST);
}

static int handle(struct vmm *vm, uint32_t op, uint64_t gpa, uint64_t len,
		  uint64_t arg, uint64_t *result)
{
	struct gmem *mem = vmm_memory(vm);

	switch (op) {
	case GMEM_ABI_OP_CHECK_PATTERN:
	case GMEM_ABI_OP_CHECK_ZERO:
		return host_compare(mem, gpa, len, op == GMEM_ABI_OP_CHECK_ZERO, arg,
				    result);
	case GMEM_ABI_OP_CHECK_PRIVATE:
		return host_check_private(mem, gpa, len, result);
	case GMEM_ABI_OP_PIN:
	case GMEM_ABI_OP_UNPIN:
		return host_pin(mem, op == GMEM_ABI_OP_PIN, gpa, len);
	default:
		return -EOPNOTSUPP;
	}
}

const struct vmm_services harness_services = {
	.handle = handle,
};
