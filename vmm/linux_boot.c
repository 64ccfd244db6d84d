// SPDX-License-Identifier: GPL-2.0
/*
 * The x86 Linux boot protocol (Documentation/arch/x86/boot.rst), 64-bit
 * entry: check a bzImage, place kernel, initrd and command line in guest
 * RAM, and write boot_params, the GDT, identity page tables and the ACPI
 * tables.  No KVM here: all of it can be checked on a plain buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "le.h"
#include "gmemkit/linux.h"

#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_LOADFLAGS		0x211
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_MIN_LEN		0x264	/* through init_size (2.10+) */

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01
#define PROTO_MIN		0x020c	/* xloadflags: 2.12 */
#define PROTO_RSDP		0x020e	/* acpi_rsdp_addr: 2.14 */

#define PTE_P			0x001ULL
#define PTE_RW			0x002ULL
#define PTE_PS			0x080ULL

int linux_image_parse(const void *data, size_t size, struct linux_image *img,
		      char *why, size_t len)
{
	const uint8_t *d = data;
	unsigned int sects;

	if (!data || !img || !why)
		return -EINVAL;
	memset(img, 0, sizeof(*img));
	if (size < 1024) {
		snprintf(why, len, "not a bzImage: %zu bytes, too short for a "
			 "boot sector and setup header", size);
		return -ENOEXEC;
	}
	if (le_get16(d + HDR_BOOT_FLAG) != 0xaa55 || memcmp(d + HDR_MAGIC, "HdrS", 4)) {
		snprintf(why, len, "not a bzImage: no boot flag 0xaa55 and \"HdrS\" "
			 "setup header (found 0x%04x and bytes %02x %02x %02x %02x)",
			 le_get16(d + HDR_BOOT_FLAG), d[HDR_MAGIC],
			 d[HDR_MAGIC + 1], d[HDR_MAGIC + 2], d[HDR_MAGIC + 3]);
		return -ENOEXEC;
	}
	img->version = le_get16(d + HDR_VERSION);
	if (img->version < PROTO_MIN) {
		snprintf(why, len, "boot protocol %u.%02u is too old: a 64-bit "
			 "entry needs 2.12 or later", img->version >> 8,
			 img->version & 0xff);
		return -EPROTONOSUPPORT;
	}
	img->xloadflags = le_get16(d + HDR_XLOADFLAGS);
	if (!(img->xloadflags & XLF_KERNEL_64)) {
		snprintf(why, len, "boot protocol %u.%02u but no 64-bit entry point "
			 "(xloadflags 0x%04x lacks XLF_KERNEL_64)",
			 img->version >> 8, img->version & 0xff, img->xloadflags);
		return -EPROTONOSUPPORT;
	}
	if (!(d[HDR_LOADFLAGS] & LOADED_HIGH)) {
		snprintf(why, len, "a zImage (loadflags 0x%02x lacks LOADED_HIGH): "
			 "only a bzImage loads at 1 MiB or above", d[HDR_LOADFLAGS]);
		return -EPROTONOSUPPORT;
	}
	sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
	img->setup_size = ((size_t)sects + 1) * 512;
	img->hdr_len = (size_t)(HDR_JUMP + 2 + d[HDR_JUMP + 1]) - HDR_SETUP_SECTS;
	if (img->setup_size >= size || img->hdr_len < HDR_MIN_LEN - HDR_SETUP_SECTS ||
	    HDR_SETUP_SECTS + img->hdr_len > img->setup_size) {
		snprintf(why, len, "not a bzImage: setup of %u sectors (header %zu "
			 "bytes) does not fit a %zu-byte file", sects, img->hdr_len,
			 size);
		return -ENOEXEC;
	}
	img->data = d;
	img->size = size;
	img->pref_address = le_get64(d + HDR_PREF_ADDRESS);
	img->init_size = le_get32(d + HDR_INIT_SIZE);
	img->cmdline_max = le_get32(d + HDR_CMDLINE_SIZE);
	img->initrd_addr_max = le_get32(d + HDR_INITRD_ADDR_MAX);
	img->kernel_alignment = le_get32(d + HDR_KERNEL_ALIGNMENT);
	if (img->pref_address < LINUX_HIGH_RAM || img->pref_address & 0xfff ||
	    img->pref_address >= LINUX_MEM_MAX) {
		snprintf(why, len, "bzImage pref_address 0x%llx is not a page "
			 "between 1 MiB and 3 GiB", (unsigned long long)img->pref_address);
		return -ENOEXEC;
	}
	if (img->init_size < size - img->setup_size) {
		snprintf(why, len, "bzImage init_size 0x%x is smaller than its "
			 "protected-mode part (0x%zx bytes)", img->init_size,
			 size - img->setup_size);
		return -ENOEXEC;
	}
	return 0;
}

int linux_boot_plan(const struct linux_image *img, uint64_t mem_size,
		    uint64_t initrd_size, const char *cmdline,
		    struct linux_layout *lay, char *why, size_t len)
{
	uint64_t top;
	size_t n;

	if (!img || !img->data || !cmdline || !lay || !why)
		return -EINVAL;
	memset(lay, 0, sizeof(*lay));
	if (mem_size < LINUX_MEM_MIN || mem_size > LINUX_MEM_MAX) {
		snprintf(why, len, "guest RAM %llu MiB outside %llu MiB..%llu MiB",
			 (unsigned long long)(mem_size >> 20),
			 LINUX_MEM_MIN >> 20, LINUX_MEM_MAX >> 20);
		return -EINVAL;
	}
	n = strlen(cmdline);
	if (n > img->cmdline_max || n >= LINUX_LOW_RAM_END - LINUX_CMDLINE_GPA) {
		snprintf(why, len, "command line of %zu bytes is too long: this "
			 "kernel takes at most %u", n, img->cmdline_max);
		return -E2BIG;
	}
	lay->mem_size = mem_size;
	lay->cmdline_len = n;
	lay->kernel_gpa = img->pref_address;
	lay->kernel_end = img->pref_address + img->init_size;
	lay->entry = lay->kernel_gpa + 0x200;
	if (lay->kernel_end > mem_size) {
		snprintf(why, len, "the kernel needs RAM up to 0x%llx (load address "
			 "0x%llx + init_size 0x%x): more than the %llu MiB of guest RAM",
			 (unsigned long long)lay->kernel_end,
			 (unsigned long long)lay->kernel_gpa, img->init_size,
			 (unsigned long long)(mem_size >> 20));
		return -ENOMEM;
	}
	if (!initrd_size)
		return 0;
	top = mem_size;
	if (img->initrd_addr_max && (uint64_t)img->initrd_addr_max + 1 < top)
		top = (uint64_t)img->initrd_addr_max + 1;
	if (initrd_size > top || ((top - initrd_size) & ~0xfffULL) < lay->kernel_end) {
		snprintf(why, len, "initrd of %llu bytes does not fit: %llu bytes free "
			 "between the kernel (up to 0x%llx) and 0x%llx",
			 (unsigned long long)initrd_size,
			 (unsigned long long)(top > lay->kernel_end ? top - lay->kernel_end : 0),
			 (unsigned long long)lay->kernel_end, (unsigned long long)top);
		return -ENOSPC;
	}
	lay->initrd_gpa = (top - initrd_size) & ~0xfffULL;
	lay->initrd_size = initrd_size;
	return 0;
}

static unsigned int e820_add(uint8_t *bp, unsigned int n, uint64_t addr,
			     uint64_t size, uint32_t type)
{
	uint8_t *e = bp + LINUX_BP_E820_TABLE + n * 20;

	le_put64(e, addr);
	le_put64(e + 8, size);
	le_put32(e + 16, type);
	return n + 1;
}

int linux_boot_write(void *ram, const struct linux_image *img,
		     const struct linux_layout *lay, const void *initrd,
		     const char *cmdline, unsigned int vcpus)
{
	static const uint64_t gdt[4] = {
		0, 0,
		0x00af9b000000ffffULL,	/* 0x10 __BOOT_CS: 64-bit code */
		0x00cf93000000ffffULL,	/* 0x18 __BOOT_DS: flat data */
	};
	static const uint8_t reset_stub[] = {
		0xba, LINUX_RESET_PORT & 0xff, LINUX_RESET_PORT >> 8,	/* mov dx, port */
		0xb0, LINUX_RESET_VALUE,				/* mov al, value */
		0xee,							/* out dx, al */
		0xf4,							/* hlt */
		0xeb, 0xfd,						/* jmp hlt */
	};
	struct acpi_params ap = {
		.vcpus = vcpus, .base_gpa = LINUX_ACPI_GPA,
		.virtio_gpa = LINUX_VIRTIO_GPA, .virtio_size = LINUX_VIRTIO_SIZE,
		.virtio_gsi = LINUX_VIRTIO_GSI, .serial = true,
	};
	uint8_t *m = ram, *bp;
	unsigned int i, n = 0;
	long acpi;

	if (!ram || !img || !img->data || !lay || !cmdline ||
	    (lay->initrd_size && !initrd) || lay->kernel_end > lay->mem_size ||
	    lay->initrd_gpa + lay->initrd_size > lay->mem_size ||
	    strlen(cmdline) != lay->cmdline_len)
		return -EINVAL;

	/* Kernel: the protected-mode part, at its load address. */
	memcpy(m + lay->kernel_gpa, img->data + img->setup_size,
	       img->size - img->setup_size);
	if (lay->initrd_size)
		memcpy(m + lay->initrd_gpa, initrd, lay->initrd_size);
	memcpy(m + LINUX_CMDLINE_GPA, cmdline, lay->cmdline_len + 1);

	/* ACPI tables in the BIOS area, RSDP first. */
	memset(m + LINUX_ACPI_GPA, 0, LINUX_ACPI_MAX);
	acpi = acpi_build(m + LINUX_ACPI_GPA, LINUX_ACPI_MAX, &ap);
	if (acpi < 0)
		return (int)acpi;

	/*
	 * A BIOS reboot (reboot=b, or where Linux falls back to it) jumps to
	 * f000:fff0 in real mode: a stub there writes the ACPI reset
	 * register, so every reset method ends the run as a reset.
	 */
	memcpy(m + LINUX_RESET_STUB_GPA, reset_stub, sizeof(reset_stub));

	/* boot_params: zero page with the kernel's own setup header. */
	bp = m + LINUX_BOOT_PARAMS_GPA;
	memset(bp, 0, 4096);
	memcpy(bp + LINUX_BP_HDR, img->data + LINUX_BP_HDR, img->hdr_len);
	bp[LINUX_BP_TYPE_OF_LOADER] = 0xff;		/* undefined loader */
	bp[LINUX_BP_LOADFLAGS] |= CAN_USE_HEAP;
	le_put16(bp + LINUX_BP_HEAP_END, 0xfe00);
	le_put32(bp + LINUX_BP_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_GPA);
	le_put32(bp + LINUX_BP_RAMDISK_IMAGE, (uint32_t)lay->initrd_gpa);
	le_put32(bp + LINUX_BP_RAMDISK_SIZE, (uint32_t)lay->initrd_size);
	if (img->version >= PROTO_RSDP)
		le_put64(bp + LINUX_BP_ACPI_RSDP, LINUX_ACPI_GPA);
	n = e820_add(bp, n, 0, LINUX_LOW_RAM_END, LINUX_E820_RAM);
	n = e820_add(bp, n, LINUX_LOW_RAM_END, LINUX_HIGH_RAM - LINUX_LOW_RAM_END,
		     LINUX_E820_RESERVED);
	n = e820_add(bp, n, LINUX_HIGH_RAM, lay->mem_size - LINUX_HIGH_RAM,
		     LINUX_E820_RAM);
	bp[LINUX_BP_E820_ENTRIES] = (uint8_t)n;

	memcpy(m + LINUX_GDT_GPA, gdt, sizeof(gdt));

	/* Identity map of the first 4 GiB in 2 MiB pages: PML4, PDPT, 4 PDs. */
	memset(m + LINUX_PML4_GPA, 0, 6 * 4096);
	le_put64(m + LINUX_PML4_GPA, (LINUX_PML4_GPA + 0x1000) | PTE_P | PTE_RW);
	for (i = 0; i < 4; i++)
		le_put64(m + LINUX_PML4_GPA + 0x1000 + 8 * i,
		      (LINUX_PML4_GPA + 0x2000 + 0x1000ULL * i) | PTE_P | PTE_RW);
	for (i = 0; i < 4 * 512; i++)
		le_put64(m + LINUX_PML4_GPA + 0x2000 + 8ULL * i,
		      ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS);
	return 0;
}
