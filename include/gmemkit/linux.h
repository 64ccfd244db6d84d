/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stock Linux kernel as a guest (vmm/linux_*.c, vmm/acpi.c,
 * vmm/serial.c): the x86 bzImage boot protocol (64-bit entry), ACPI tables
 * that describe gmemkit's virtio-mmio virtio-blk device (LNRO0005) and a
 * 16550 UART, an in-kernel irqchip, and the device's used-buffer
 * notifications as interrupts (an irqfd on a GSI).  Linux's own virtio-blk
 * driver (and, with swiotlb=force, Linux's own swiotlb) then drive the same
 * device gmemkit's guest drives.  docs/linux-guest.md says why ACPI and
 * virtio-mmio, and what a kernel needs.
 *
 * All guest RAM is shared for such a guest: a stock kernel never converts.
 *
 * Split in two: what can be checked without KVM (the image, the layout, the
 * tables: linux_boot_*(), acpi_build()) and the VM (linux_vm_*()).  A bad
 * input is refused before anything is started, with a message naming it.
 */
#ifndef GMEMKIT_LINUX_H
#define GMEMKIT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gmemkit/virtio_blk.h"

/* ---- guest physical layout ---------------------------------------------- */

#define LINUX_GDT_GPA		0x1000ULL
#define LINUX_BOOT_PARAMS_GPA	0x7000ULL
#define LINUX_PML4_GPA		0x9000ULL	/* then PDPT, 4 PDs: 0xa000..0xefff */
#define LINUX_CMDLINE_GPA	0x20000ULL
#define LINUX_LOW_RAM_END	0x9f000ULL	/* e820: RAM below, reserved above */
#define LINUX_ACPI_GPA		0xe0000ULL	/* RSDP first (the BIOS area) */
#define LINUX_ACPI_MAX		0x20000ULL
#define LINUX_RESET_STUB_GPA	0xffff0ULL	/* f000:fff0: writes the reset port */
#define LINUX_HIGH_RAM		0x100000ULL
#define LINUX_VIRTIO_GPA	0xd0000000ULL	/* the device's 4 KiB window */
#define LINUX_VIRTIO_SIZE	0x1000ULL
#define LINUX_VIRTIO_GSI	5		/* edge, active high */
#define LINUX_SERIAL_PORT	0x3f8
#define LINUX_SERIAL_GSI	4
#define LINUX_SLEEP_CTL_PORT	0x600		/* ACPI sleep control (S5: off) */
#define LINUX_SLEEP_STS_PORT	0x601
#define LINUX_RESET_PORT	0x604		/* ACPI reset register */
#define LINUX_RESET_VALUE	0x01

#define LINUX_DEFAULT_MEM	(256ULL << 20)
#define LINUX_MEM_MIN		(64ULL << 20)
#define LINUX_MEM_MAX		0xc0000000ULL	/* below the device window */
#define LINUX_MAX_VCPUS		8
#define LINUX_DEFAULT_TIMEOUT_MS	120000
#define LINUX_KERNEL_MAX	(128ULL << 20)	/* bzImage file size */

/* ---- the image and the boot layout (no KVM) ------------------------------ */

struct linux_image {
	const uint8_t *data;		/* the whole bzImage (caller's) */
	size_t size;
	uint16_t version;		/* boot protocol, 0x020f = 2.15 */
	size_t setup_size;		/* (setup_sects + 1) * 512 */
	size_t hdr_len;			/* setup header bytes from 0x1f1 */
	uint64_t pref_address;		/* load address */
	uint32_t init_size;		/* memory the kernel needs from there */
	uint32_t cmdline_max;		/* longest command line, NUL excluded */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint16_t xloadflags;
};

/*
 * linux_image_parse() - check a bzImage and read its setup header.
 *   -ENOEXEC          not a bzImage: too short, no 0xaa55 boot flag or
 *                     no "HdrS" header, setup beyond the file
 *   -EPROTONOSUPPORT  boot protocol older than 2.12, or no 64-bit entry
 *                     point (xloadflags XLF_KERNEL_64), or not loadable high
 *   -EINVAL           NULL arguments
 * why (len bytes) says which, naming the value found.
 */
int linux_image_parse(const void *data, size_t size, struct linux_image *img,
		      char *why, size_t len);

/* Where the pieces go in guest RAM (linux_boot_plan()). */
struct linux_layout {
	uint64_t mem_size;
	uint64_t kernel_gpa, kernel_end;	/* end: load + init_size */
	uint64_t initrd_gpa, initrd_size;	/* 0, 0: none */
	size_t cmdline_len;
	uint64_t entry;				/* 64-bit entry: load + 0x200 */
};

/*
 * linux_boot_plan() - place the kernel, initrd and command line in mem_size
 * bytes of RAM, or say why they do not fit.
 *   -E2BIG   command line longer than the kernel's cmdline_size
 *   -ENOSPC  the initrd does not fit between the kernel's init_size and the
 *            end of RAM (or initrd_addr_max)
 *   -ENOMEM  the kernel's load address + init_size is beyond RAM
 *   -EINVAL  NULL arguments, mem_size not within LINUX_MEM_MIN..MAX
 */
int linux_boot_plan(const struct linux_image *img, uint64_t mem_size,
		    uint64_t initrd_size, const char *cmdline,
		    struct linux_layout *lay, char *why, size_t len);

/*
 * linux_boot_write() - write everything into guest RAM (ram: mem_size bytes,
 * GPA 0 at ram[0]): the protected-mode kernel, the initrd, the command line,
 * boot_params (setup header, e820 map, RSDP address), the GDT, identity page
 * tables for the first 4 GiB, and the ACPI tables for vcpus CPUs.
 * 0, or -EINVAL (NULL arguments, a layout not from linux_boot_plan()), or
 * acpi_build()'s error.
 */
int linux_boot_write(void *ram, const struct linux_image *img,
		     const struct linux_layout *lay, const void *initrd,
		     const char *cmdline, unsigned int vcpus);

/* boot_params offsets used by the writer (and the tests). */
#define LINUX_BP_ACPI_RSDP	0x070
#define LINUX_BP_E820_ENTRIES	0x1e8
#define LINUX_BP_HDR		0x1f1
#define LINUX_BP_TYPE_OF_LOADER	0x210
#define LINUX_BP_LOADFLAGS	0x211
#define LINUX_BP_RAMDISK_IMAGE	0x218
#define LINUX_BP_RAMDISK_SIZE	0x21c
#define LINUX_BP_HEAP_END	0x224
#define LINUX_BP_CMD_LINE_PTR	0x228
#define LINUX_BP_E820_TABLE	0x2d0
#define LINUX_E820_RAM		1
#define LINUX_E820_RESERVED	2

/* ---- ACPI (vmm/acpi.c) --------------------------------------------------- */

struct acpi_params {
	unsigned int vcpus;		/* local APICs 0..vcpus-1 */
	uint64_t base_gpa;		/* where buf lies in guest memory */
	uint64_t virtio_gpa;		/* LNRO0005 window */
	uint32_t virtio_size;
	uint32_t virtio_gsi;
	bool serial;			/* a PNP0501 COM1 at 0x3f8, GSI 4 */
};

/*
 * acpi_build() - RSDP (at buf), XSDT, FADT (hardware-reduced, sleep
 * control/status and reset registers on LINUX_*_PORT), MADT (local APICs,
 * one I/O APIC at 0xfec00000, GSI base 0), DSDT (COM1, the virtio-mmio
 * device, \_S5) into buf (len bytes), checksums filled.
 * Returns the bytes used, or -EINVAL (NULL, vcpus 0 or above
 * LINUX_MAX_VCPUS), -ENOSPC (len too small).
 */
long acpi_build(void *buf, size_t len, const struct acpi_params *p);

/* ---- 16550 UART (vmm/serial.c) ------------------------------------------- */

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;		/* THR empty interrupt not yet taken */
	bool line;			/* interrupt output now */
	void (*raise)(void *opaque);	/* a rising edge of the output */
	void *opaque;
	FILE *out;			/* what the guest transmits */
	char buf[256];			/* one line */
	size_t len;
	uint64_t tx_bytes;
};

void serial_init(struct serial *s, FILE *out, void (*raise)(void *opaque),
		 void *opaque);
/* One byte access at register off (0..7); a read fills *data. */
void serial_access(struct serial *s, unsigned int off, uint8_t *data,
		   bool is_write);
/* Write out a partial line. */
void serial_flush(struct serial *s);

/* ---- the VM (vmm/linux_vm.c) --------------------------------------------- */

struct linux_config {
	const char *kernel;		/* bzImage path */
	const char *initrd;		/* NULL: none */
	const char *cmdline;		/* NULL: "" */
	uint64_t mem_size;		/* 0: LINUX_DEFAULT_MEM; multiple of 2 MiB */
	unsigned int vcpus;		/* 0: 1; at most LINUX_MAX_VCPUS */
	unsigned int timeout_ms;	/* 0: LINUX_DEFAULT_TIMEOUT_MS */
	const char *disk;		/* blk_backend_open() spec; NULL: no disk */
	FILE *console;			/* the UART's output; NULL: stdout */
};

enum linux_end {
	LINUX_END_POWEROFF = 0,		/* ACPI S5 */
	LINUX_END_REBOOT,		/* ACPI reset, 8042 or 0xcf9 reset */
	LINUX_END_SHUTDOWN,		/* triple fault */
	LINUX_END_TIMEOUT,		/* watchdog */
	LINUX_END_ERROR,		/* KVM_RUN failed, internal error */
};

struct linux_result {
	enum linux_end end;
	char message[256];
	uint64_t exits, io_exits, mmio_exits;
	uint64_t unknown_io, unknown_mmio;	/* answered all-ones, ignored */
	uint64_t irqs;				/* device interrupts raised */
	uint64_t serial_bytes;
	bool has_disk;
	struct vblk_stats disk;
	const char *disk_backend;		/* "null", "file" ... */
	uint64_t disk_capacity;
	uint64_t wall_ns;
};

struct linux_vm;

/*
 * linux_vm_create() - read and check the kernel and initrd, plan the
 * layout, open the disk, then (and only then) create the VM.  why (len
 * bytes) names what is wrong:
 *   -ENOEXEC, -EPROTONOSUPPORT, -E2BIG, -ENOSPC, -ENOMEM  as above
 *   -ENOENT etc.   a file cannot be read (errno of open/read)
 *   -EFBIG         kernel above LINUX_KERNEL_MAX, initrd above RAM
 *   -EINVAL        bad config (vcpus, mem_size), bad disk spec
 *   -ENODEV        no usable /dev/kvm
 *   -EOPNOTSUPP    a PVM-variant KVM: a stock kernel cannot run natively
 *   or the errno of a KVM ioctl, gmem or the backend.
 * Every error up to -EINVAL above comes before /dev/kvm is opened.
 */
int linux_vm_create(const struct linux_config *cfg, struct linux_vm **out,
		    char *why, size_t len);
/* Run until the guest powers off, resets or the watchdog fires. */
int linux_vm_run(struct linux_vm *vm, struct linux_result *res);
void linux_vm_destroy(struct linux_vm *vm);

const char *linux_end_name(enum linux_end e);
/* The guest RAM backing, as gmem names it ("guest_memfd", "memfd"). */
const char *linux_vm_backing(const struct linux_vm *vm);
uint64_t linux_vm_mem_size(const struct linux_vm *vm);

#endif /* GMEMKIT_LINUX_H */
