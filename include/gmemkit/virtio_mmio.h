/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio version 2 transport of a device (vmm/virtio_mmio.c): the
 * guest's register accesses, as KVM_EXIT_MMIO hands them over.
 */
#ifndef GMEMKIT_VIRTIO_MMIO_H
#define GMEMKIT_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_mmio_dev;

/*
 * virtio_mmio_access() - a guest access to the device's MMIO window
 * (offset from the window base, len bytes at data), from KVM_EXIT_MMIO.
 * Registers below VIRTIO_MMIO_CONFIG take aligned 4-byte accesses, the
 * config space aligned 1, 2, 4 or 8 bytes and is read only.  A read fills
 * data (zeros where refused or undefined).  Nothing the guest does makes it
 * fail: a refused access (wrong width, misaligned, running off the window,
 * a write to a read-only register or config) is ignored and counted in
 * stats.bad_access, a refused configuration step in stats.bad_config.
 *   0        done, or refused and counted
 *   -EINVAL  d or data NULL, len 0 or above 8 (caller bugs)
 *   -ERANGE  offset outside the 4 KiB window (the caller routed it wrongly)
 */
int virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, void *data,
		       unsigned int len, bool is_write);

/* The same with opaque = the struct virtio_mmio_dev, shaped like
 * vmm_mmio_fn (gmemkit/vm.h) for vmm_set_mmio_handler(). */
int virtio_mmio_handler(void *opaque, uint64_t offset, void *data,
			uint32_t len, bool is_write);

/*
 * virtio_mmio_set_irqfd() - interrupt the driver: write eventfd fd (a KVM
 * irqfd, edge) whenever InterruptStatus gains a bit (used buffer, config
 * change); -1 (the default) for a driver that polls.  Before the device
 * runs.  fd stays the caller's.  -EINVAL: d NULL or fd below -1.
 * virtio_mmio_irqs() - how many interrupts were raised.
 */
int virtio_mmio_set_irqfd(struct virtio_mmio_dev *d, int fd);
uint64_t virtio_mmio_irqs(struct virtio_mmio_dev *d);

#endif /* GMEMKIT_VIRTIO_MMIO_H */
