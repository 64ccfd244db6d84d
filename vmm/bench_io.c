// SPDX-License-Identifier: GPL-2.0
/*
 * One guest I/O run (gmemkit/bench_io.h): VM + virtio-blk device + the guest's
 * GMEM_ABI_TEST_IO workload.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "gmemkit/adapt.h"
#include "gmemkit/bench_io.h"
#include "gmemkit/platform.h"
#include "vm_internal.h"

static const char *const mode_names[GMEM_ABI_IO_MODE_MAX] = {
#define MODE_NAME(id, value, name, swept)	[GMEM_ABI_IO_##id] = (name),
	GMEM_ABI_IO_MODES(MODE_NAME)
#undef MODE_NAME
};

const char *const bench_io_sweep_names[BENCH_IO_SWEEP_MODES] = {
#define SWEEP_NAME(id, value, name, swept)	\
	BENCH_IO_IF_SWEPT_##swept([BENCH_IO_SWEEP_##id] = (name),)
	GMEM_ABI_IO_MODES(SWEEP_NAME)
#undef SWEEP_NAME
};

static const char *const rw_names[GMEM_ABI_IO_RW_MAX] = {
	[GMEM_ABI_IO_READ] = "read",
	[GMEM_ABI_IO_WRITE] = "write",
	[GMEM_ABI_IO_RANDREAD] = "randread",
	[GMEM_ABI_IO_RANDWRITE] = "randwrite",
	[GMEM_ABI_IO_RANDRW] = "randrw",
};

int bench_io_mode_from_name(const char *name, enum gmem_abi_io_mode *out)
{
	int i;

	for (i = 1; name && out && i < GMEM_ABI_IO_MODE_MAX; i++)
		if (!strcmp(name, mode_names[i])) {
			*out = (enum gmem_abi_io_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *bench_io_mode_name(enum gmem_abi_io_mode m)
{
	return (int)m > 0 && m < GMEM_ABI_IO_MODE_MAX ? mode_names[m] : "?";
}

int bench_io_rw_from_name(const char *name, enum gmem_abi_io_rw *out)
{
	int i;

	for (i = 1; name && out && i < GMEM_ABI_IO_RW_MAX; i++)
		if (!strcmp(name, rw_names[i])) {
			*out = (enum gmem_abi_io_rw)i;
			return 0;
		}
	return -EINVAL;
}

const char *bench_io_rw_name(enum gmem_abi_io_rw rw)
{
	return (int)rw > 0 && rw < GMEM_ABI_IO_RW_MAX ? rw_names[rw] : "?";
}

enum vmm_transport bench_io_transport(const struct bench_io_config *c)
{
	if (c->transport != VMM_TRANSPORT_AUTO)
		return c->transport;
	/* the platform's call path: pkvm and cca through the queue (no
	 * userspace exit), tdx and snp through an exit (hypercall or doorbell,
	 * as AUTO resolves); ideal keeps AUTO (its exitless form is an
	 * explicit queue transport) */
	return c->platform != PLAT_IDEAL && plat_exitless((enum plat)c->platform) ?
	       VMM_TRANSPORT_QUEUE : VMM_TRANSPORT_AUTO;
}

bool bench_io_huge_ok(enum gmem_abi_io_mode mode)
{
	/* scatter's pieces and mixed's churn convert 4 KiB pages apart */
	return mode != GMEM_ABI_IO_INPLACE_SCATTER && mode != GMEM_ABI_IO_MIXED;
}

int bench_io_check_workload(const struct bench_io_config *c)
{
	if ((int)c->mode <= 0 || c->mode >= GMEM_ABI_IO_MODE_MAX ||
	    (int)c->rw <= 0 || c->rw >= GMEM_ABI_IO_RW_MAX)
		return -EINVAL;
	if (c->bs < GMEM_ABI_IO_MIN_BS || c->bs > GMEM_ABI_IO_MAX_BS ||
	    (c->bs & (c->bs - 1)))
		return -EINVAL;
	if (!c->qd || c->qd > GMEM_ABI_IO_MAX_QD || !c->vcpus ||
	    c->vcpus > GMEM_ABI_IO_MAX_VCPUS)
		return -EINVAL;
	if (!(c->runtime_s >= 0) || c->runtime_s > 3600 ||
	    (c->flags & ~GMEM_ABI_IOF_ALL) || c->poll_us > 1000000)
		return -EINVAL;
	if ((c->flags & GMEM_ABI_IOF_CHURN) && c->mode != GMEM_ABI_IO_MIXED)
		return -EINVAL;
	if (c->adapt_paths >> ADAPT_PATHS ||
	    (c->adapt_paths && c->mode != GMEM_ABI_IO_ADAPTIVE))
		return -EINVAL;
	if (c->platform >= PLAT_MAX ||
	    (plat_destroys((enum plat)c->platform) && c->mode == GMEM_ABI_IO_MIXED))
		return -EINVAL;
	if (c->conv_model > VMM_CONV_HUGE ||
	    (c->conv_model == VMM_CONV_HUGE && !bench_io_huge_ok(c->mode)))
		return -EINVAL;
	if (gmem_abi_io_has_pool(c->mode) &&
	    !gmem_abi_io_pool_ok(bench_io_pool_size(c), c->bs, c->vcpus))
		return -EINVAL;
	if ((c->mode == GMEM_ABI_IO_PERSISTENT || c->mode == GMEM_ABI_IO_ADAPTIVE) &&
	    (bench_io_persist_size(c) < c->bs || bench_io_persist_size(c) > GMEM_ABI_IO_MAX_BS ||
	     (bench_io_persist_size(c) & (bench_io_persist_size(c) - 1))))
		return -EINVAL;
	return 0;
}

static int check(const struct bench_io_config *c)
{
	int err = bench_io_check_workload(c);

	if (!err && !c->backend && !c->custom)
		err = -EINVAL;
	return err;
}

uint64_t bench_io_pool_size(const struct bench_io_config *c)
{
	return c->pool_size ? c->pool_size : GMEM_ABI_IO_POOL_DEFAULT;
}

uint64_t bench_io_persist_size(const struct bench_io_config *c)
{
	return c->persist_size ? c->persist_size : GMEM_ABI_IO_MAX_BS;
}

/* Device and its wiring into the VM. */
static int attach(struct vmm *vm, struct blk_backend *be,
		  unsigned int poll_us, struct vblk **out)
{
	struct vblk_params p = {
		.mem = vmm_memory(vm),
		.backend = be,
		.queue_num_max = 1024,
		.poll_us = poll_us,
	};
	struct vblk *b;
	int err;

	err = vblk_create(&p, &b);
	if (err)
		return err;
	err = vmm_set_mmio_handler(vm, GMEM_ABI_VIRTIO_MMIO_GPA,
				       GMEM_ABI_VIRTIO_MMIO_SIZE,
				       virtio_mmio_handler, vblk_mmio(b));
	if (!err)
		err = vmm_add_ioeventfd(vm, GMEM_ABI_VIRTIO_MMIO_GPA +
					    VIRTIO_MMIO_QUEUE_NOTIFY, 4,
					    vblk_notify_fd(b));
	if (!err)
		err = vblk_start(b);
	if (err) {
		vblk_destroy(b);	/* destroys the backend too */
		return err;
	}
	*out = b;
	return 0;
}

void bench_io_abi_config(struct gmem_abi_io_config *io, const struct bench_io_config *c)
{
	memset(io, 0, sizeof(*io));
	io->mode = c->mode;
	io->rw = c->rw;
	io->flags = c->flags;
	io->qd = c->qd;
	io->bs = c->bs;
	io->runtime_ns = (uint64_t)llround(c->runtime_s * 1e9);
	io->ios = c->runtime_s > 0 ? 0 : c->ios;
	io->seed = c->seed;
	io->delay_ms = c->delay_ms;
	io->span = c->span;
	if (gmem_abi_io_has_pool(c->mode))
		io->pool_size = bench_io_pool_size(c);
	if (c->mode == GMEM_ABI_IO_PERSISTENT || c->mode == GMEM_ABI_IO_ADAPTIVE)
		io->persist_size = bench_io_persist_size(c);
	io->granule = c->conv_model == VMM_CONV_HUGE ? GMEM_HUGE_PAGE_SIZE : GMEM_PAGE_SIZE;
	io->platform = c->platform;
	io->adapt_paths = c->adapt_paths;
}

int bench_io_run(const struct bench_io_config *c, struct bench_io_result *r)
{
	struct blk_backend *be = c ? c->custom : NULL;
	struct vmm_config vc = { 0 };
	struct gmem_abi_io_config io;
	struct vblk *blk = NULL;
	struct vmm *vm = NULL;
	struct gmem_stats after;
	uint64_t mem;
	int err;

	if (!c || !r) {
		err = -EINVAL;
		goto out_be;
	}
	memset(r, 0, sizeof(*r));
	err = check(c);
	if (err)
		goto out_be;
	bench_io_abi_config(&io, c);
	mem = gmem_abi_io_mem_size(&io, c->vcpus);
	if (mem > GMEM_ABI_MEM_MAX) {
		err = -ENOSPC;
		goto out_be;
	}
	if (!be) {
		err = blk_backend_open(c->backend, &be);
		if (err)
			return err;
	}
	vc.vcpus = c->vcpus;
	vc.mem_size = mem;
	vc.transport = bench_io_transport(c);
	vc.conv_poll_us = c->conv_poll_us;
	vc.conv_no_pin = c->conv_no_pin;
	/* tdx, snp, cca: a conversion destroys the contents (gmem punches
	 * the pages out), and the guest keeps its data with a copy */
	vc.mode = plat_destroys((enum plat)c->platform) ? GMEM_MODE_DESTRUCTIVE :
							   GMEM_MODE_INPLACE;
	vc.conv_model = c->conv_model;
	vc.test = GMEM_ABI_TEST_IO;
	vc.timeout_ms = c->timeout_ms ? c->timeout_ms :
			(unsigned int)(c->runtime_s * 1000) + 120000;
	vc.console = c->console;
	vc.quiet = c->quiet;
	err = vmm_create(&vc, &vm);
	if (err)
		goto out_be;
	vm->boot->io = io;
	snprintf(r->backend, sizeof(r->backend), "%s", be->name ? be->name : "custom");
	snprintf(r->engine, sizeof(r->engine), "%s", be->engine ? be->engine : "");
	r->direct = be->direct;
	r->mem_size = mem;
	r->pool_size = io.pool_size;
	r->persist_pool = gmem_abi_io_persist_pool(&io, c->vcpus);
	r->shared_bytes = gmem_abi_io_shared_size(&io, c->vcpus);
	r->backing = gmem_backing(vmm_memory(vm));
	r->conv_model = c->conv_model;
	r->platform = c->platform;
	r->granule = io.granule;
	err = attach(vm, be, c->poll_us, &blk);
	be = NULL;		/* the device owns it, or destroyed it */
	if (err)
		goto out_vm;
	err = vmm_run(vm, &r->vm);
	vblk_stop(blk);
	vblk_reap(blk, true);
	vblk_get_stats(blk, &r->dev);
	gmem_get_stats(vmm_memory(vm), &r->mem);
	r->io = r->vm.guest.io;
	r->conv_host_ns = r->vm.counters.c[GMEM_ABI_CNT_CONV_HOST_NS];
	r->conv_ok = r->vm.counters.c[GMEM_ABI_CNT_CONV_OK];
	vblk_destroy(blk);
	/* The device's last unpins (rings, at its reset) happened just now. */
	gmem_get_stats(vmm_memory(vm), &after);
	r->mem.unpin_missing = after.unpin_missing;
	if (r->mem.unpin_missing || r->dev.unpin_bugs) {
		r->vm.pass = false;
		snprintf(r->vm.message, sizeof(r->vm.message),
			 "VMM bug: %llu host unpins found no pin (device: %llu)",
			 (unsigned long long)r->mem.unpin_missing,
			 (unsigned long long)r->dev.unpin_bugs);
	}
out_vm:
	vmm_destroy(vm);
out_be:
	if (be)
		blk_backend_destroy(be);
	return err;
}
