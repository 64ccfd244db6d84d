/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support: the host services of the guest self-tests (convert,
 * badreq, smp), answered on the doorbell (abi.h's GMEM_ABI_OP_CHECK_*,
 * PIN, UNPIN).  Give them to a run with
 *	cfg.services = &harness_services;
 * the VMM offers them only to the self-tests that use them.
 *
 *   CHECK_PATTERN, CHECK_ZERO  the host view of [gpa, gpa + len) holds
 *              gmem_abi_pattern(arg, ...) words (or zeros): 0, -EIO with the
 *              first bad address as result, -EINVAL (not 8-byte aligned or
 *              empty), -ERANGE, -EOVERFLOW, or gmem_pin_ptr()'s errno
 *              (-EACCES: a private page)
 *   CHECK_PRIVATE  every page faults in the host view: 0, -EFAULT with the
 *              number of accessible pages as result, or the range's errno
 *   PIN, UNPIN pins owned by the guest (GMEM_PIN_GUEST): an UNPIN never drops
 *              a pin of the VMM or of a device; -ENOENT when no guest pin
 */
#ifndef GMEMKIT_HARNESS_SERVICES_H
#define GMEMKIT_HARNESS_SERVICES_H

#include "gmemkit/vm.h"

extern const struct vmm_services harness_services;

#endif /* GMEMKIT_HARNESS_SERVICES_H */
