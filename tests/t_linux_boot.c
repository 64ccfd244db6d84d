// SPDX-License-Identifier: GPL-2.0
/*
 * The stock-Linux boot path without KVM: bzImage checks and their messages,
 * the layout (command line, initrd, kernel size against RAM), what is
 * written into guest RAM (boot_params, e820, GDT, page tables), the ACPI
 * tables (checksums, signatures, the virtio-mmio device in the DSDT) and
 * the 16550's probe-visible behaviour.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gmemkit/linux.h"
#include "tap.h"

#define IMG_SIZE	(64 * 1024)
#define SETUP_SECTS	4

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

/* A synthetic bzImage: setup header of protocol 2.15, 64-bit entry. */
static uint8_t *make_image(void)
{
	uint8_t *d = calloc(1, IMG_SIZE);

	d[0x1f1] = SETUP_SECTS;
	wr16(d + 0x1fe, 0xaa55);
	d[0x200] = 0xeb;
	d[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(d + 0x202, "HdrS", 4);
	wr16(d + 0x206, 0x020f);
	d[0x211] = 0x01;			/* LOADED_HIGH */
	wr32(d + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	wr32(d + 0x230, 0x200000);
	wr16(d + 0x236, 0x0003);		/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	wr32(d + 0x238, 2047);			/* cmdline_size */
	wr32(d + 0x258, 0x1000000);		/* pref_address */
	wr32(d + 0x260, 0x800000);		/* init_size: 8 MiB */
	memset(d + (SETUP_SECTS + 1) * 512, 0xcc, IMG_SIZE - (SETUP_SECTS + 1) * 512);
	return d;
}

static void test_parse(void)
{
	struct linux_image img;
	uint8_t *d = make_image();
	char why[256];
	int err;

	err = linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	ok_eq(err, 0, "a protocol 2.15 bzImage parses");
	ok(img.version == 0x020f && img.setup_size == 2560 && img.pref_address == 0x1000000 &&
	   img.init_size == 0x800000 && img.cmdline_max == 2047,
	   "setup header read: version 0x%x, setup %zu, load 0x%llx",
	   img.version, img.setup_size, (unsigned long long)img.pref_address);

	err = linux_image_parse(d, 512, &img, why, sizeof(why));
	ok(err == -ENOEXEC && strstr(why, "512 bytes"), "a short file: -ENOEXEC, %s", why);

	memcpy(d + 0x202, "HdrX", 4);
	err = linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	ok(err == -ENOEXEC && strstr(why, "not a bzImage"), "no HdrS: %s", why);
	memcpy(d + 0x202, "HdrS", 4);

	wr16(d + 0x206, 0x020b);
	err = linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	ok(err == -EPROTONOSUPPORT && strstr(why, "2.11 is too old"),
	   "protocol 2.11: -EPROTONOSUPPORT naming it: %s", why);
	wr16(d + 0x206, 0x020f);

	wr16(d + 0x236, 0x0002);
	err = linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	ok(err == -EPROTONOSUPPORT && strstr(why, "XLF_KERNEL_64"),
	   "no 64-bit entry: %s", why);
	wr16(d + 0x236, 0x0003);

	d[0x1f1] = 200;				/* setup beyond the file */
	err = linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	ok(err == -ENOEXEC && strstr(why, "200 sectors"), "setup beyond the file: %s", why);
	free(d);
}

static void test_plan(void)
{
	struct linux_layout lay;
	struct linux_image img;
	uint8_t *d = make_image();
	char why[256], *line;
	int err;

	linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	err = linux_boot_plan(&img, 64 << 20, 4 << 20, "console=ttyS0", &lay, why,
			      sizeof(why));
	ok(err == 0 && lay.entry == 0x1000200 && lay.kernel_end == 0x1800000 &&
	   lay.initrd_gpa == (64 << 20) - (4 << 20) && lay.initrd_size == 4 << 20,
	   "layout: entry 0x%llx, initrd at 0x%llx", (unsigned long long)lay.entry,
	   (unsigned long long)lay.initrd_gpa);

	line = malloc(2049);
	memset(line, 'x', 2048);
	line[2048] = '\0';
	err = linux_boot_plan(&img, 64 << 20, 0, line, &lay, why, sizeof(why));
	ok(err == -E2BIG && strstr(why, "2048 bytes") && strstr(why, "2047"),
	   "command line too long: %s", why);
	line[2047] = '\0';
	err = linux_boot_plan(&img, 64 << 20, 0, line, &lay, why, sizeof(why));
	ok_eq(err, 0, "a command line of exactly cmdline_size fits");
	free(line);

	err = linux_boot_plan(&img, 64 << 20, 41 << 20, "", &lay, why, sizeof(why));
	ok(err == -ENOSPC && strstr(why, "42991616 bytes"),
	   "initrd above the free RAM: -ENOSPC: %s", why);
	err = linux_boot_plan(&img, 64 << 20, 40 << 20, "", &lay, why, sizeof(why));
	ok(err == 0 && lay.initrd_gpa == 0x1800000, "an initrd that just fits");

	wr32(d + 0x260, 0x4000000);		/* init_size 64 MiB */
	linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	err = linux_boot_plan(&img, 64 << 20, 0, "", &lay, why, sizeof(why));
	ok(err == -ENOMEM && strstr(why, "init_size"), "kernel beyond RAM: %s", why);
	err = linux_boot_plan(&img, 32 << 20, 0, "", &lay, why, sizeof(why));
	ok(err == -EINVAL, "RAM below LINUX_MEM_MIN: %s", why);
	free(d);
}

static bool table_ok(const uint8_t *t, const char *sig)
{
	uint32_t len = rd32(t + 4), i;
	uint8_t s = 0;

	for (i = 0; i < len; i++)
		s = (uint8_t)(s + t[i]);
	return !memcmp(t, sig, 4) && s == 0;
}

static bool contains(const uint8_t *p, size_t len, const void *what, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(p + i, what, n))
			return true;
	return false;
}

static void test_write(void)
{
	uint64_t mem = LINUX_MEM_MIN;
	struct linux_layout lay;
	struct linux_image img;
	uint8_t *d = make_image(), *ram = calloc(1, mem), *bp, *a, *fadt, *madt, *dsdt;
	uint8_t initrd[8192], sum = 0;
	static const uint8_t irq5[] = { 0x89, 0x06, 0x00, 0x03, 0x01, 5, 0, 0, 0 };
	char why[256];
	int err, i;

	memset(initrd, 0x5a, sizeof(initrd));
	linux_image_parse(d, IMG_SIZE, &img, why, sizeof(why));
	linux_boot_plan(&img, mem, sizeof(initrd), "console=ttyS0", &lay, why, sizeof(why));
	err = linux_boot_write(ram, &img, &lay, initrd, "console=ttyS0", 2);
	ok_eq(err, 0, "boot write");
	bp = ram + LINUX_BOOT_PARAMS_GPA;
	ok(ram[lay.kernel_gpa] == 0xcc && ram[lay.initrd_gpa] == 0x5a &&
	   !strcmp((char *)ram + LINUX_CMDLINE_GPA, "console=ttyS0"),
	   "kernel, initrd and command line in place");
	ok(rd32(bp + LINUX_BP_CMD_LINE_PTR) == LINUX_CMDLINE_GPA &&
	   rd32(bp + LINUX_BP_RAMDISK_IMAGE) == lay.initrd_gpa &&
	   rd32(bp + LINUX_BP_RAMDISK_SIZE) == sizeof(initrd) &&
	   bp[LINUX_BP_TYPE_OF_LOADER] == 0xff && (bp[LINUX_BP_LOADFLAGS] & 0x81) == 0x81 &&
	   !memcmp(bp + 0x202, "HdrS", 4),
	   "boot_params: setup header copied, cmdline, ramdisk, loader, heap");
	ok(bp[LINUX_BP_E820_ENTRIES] == 3 &&
	   rd64(bp + LINUX_BP_E820_TABLE + 40) == LINUX_HIGH_RAM &&
	   rd64(bp + LINUX_BP_E820_TABLE + 48) == mem - LINUX_HIGH_RAM &&
	   rd32(bp + LINUX_BP_E820_TABLE + 56) == LINUX_E820_RAM &&
	   rd32(bp + LINUX_BP_E820_TABLE + 36) == LINUX_E820_RESERVED,
	   "e820: low RAM, reserved BIOS area, RAM from 1 MiB to the end");
	ok(rd64(bp + LINUX_BP_ACPI_RSDP) == LINUX_ACPI_GPA, "acpi_rsdp_addr set (2.14+)");
	ok(rd64(ram + LINUX_GDT_GPA + 16) == 0x00af9b000000ffffULL &&
	   rd64(ram + LINUX_GDT_GPA + 24) == 0x00cf93000000ffffULL,
	   "GDT: __BOOT_CS 64-bit code, __BOOT_DS flat data");
	ok((rd64(ram + LINUX_PML4_GPA) & ~0xfffULL) == LINUX_PML4_GPA + 0x1000 &&
	   rd64(ram + LINUX_PML4_GPA + 0x2000 + 8 * 2047) == ((2047ULL << 21) | 0x83),
	   "page tables: identity map through 4 GiB in 2 MiB pages");

	ok(ram[LINUX_RESET_STUB_GPA] == 0xba && ram[LINUX_RESET_STUB_GPA + 1] == 0x04 &&
	   ram[LINUX_RESET_STUB_GPA + 2] == 0x06 && ram[LINUX_RESET_STUB_GPA + 5] == 0xee,
	   "f000:fff0 holds the stub that writes the reset port");
	a = ram + LINUX_ACPI_GPA;
	for (i = 0; i < 20; i++)
		sum = (uint8_t)(sum + a[i]);
	ok(!memcmp(a, "RSD PTR ", 8) && sum == 0 && a[15] == 2,
	   "RSDP: signature, checksum, revision 2");
	ok(table_ok(ram + rd64(a + 24), "XSDT"), "XSDT checksum");
	fadt = ram + rd64(ram + rd64(a + 24) + 36);
	madt = ram + rd64(ram + rd64(a + 24) + 44);
	ok(table_ok(fadt, "FACP") && (rd32(fadt + 112) & (1U << 20)) &&
	   rd64(fadt + 248) == LINUX_SLEEP_CTL_PORT && rd64(fadt + 120) == LINUX_RESET_PORT,
	   "FADT: checksum, hardware-reduced, sleep control and reset ports");
	ok(table_ok(madt, "APIC") && rd32(madt + 4) == 44 + 2 * 8 + 12 &&
	   madt[44 + 8 + 3] == 1 && madt[44 + 16] == 1,
	   "MADT: two local APICs and an I/O APIC");
	dsdt = ram + rd64(fadt + 140);
	ok(table_ok(dsdt, "DSDT") && contains(dsdt, rd32(dsdt + 4), "LNRO0005", 8) &&
	   contains(dsdt, rd32(dsdt + 4), irq5, sizeof(irq5)) &&
	   contains(dsdt, rd32(dsdt + 4), "_S5_", 4),
	   "DSDT: checksum, LNRO0005 with GSI 5 edge, \\_S5");
	free(ram);
	free(d);
}

static int raised;

static void raise_cb(void *opaque)
{
	(void)opaque;
	raised++;
}

static void test_serial(void)
{
	struct serial s;
	FILE *out = tmpfile();
	uint8_t v;
	char buf[16] = "";

	serial_init(&s, out, raise_cb, NULL);
	v = 0x0f;
	serial_access(&s, 1, &v, true);
	v = 0;
	serial_access(&s, 1, &v, false);
	ok(v == 0x0f && raised == 1, "IER reads back; enabling THRI interrupts at once");
	serial_access(&s, 2, &v, false);
	ok(v == 0x02, "IIR: THR empty (0x%02x)", v);
	serial_access(&s, 2, &v, false);
	ok(v == 0x01, "IIR read took the interrupt (0x%02x)", v);
	v = 0x1a;				/* loopback, OUT2, RTS */
	serial_access(&s, 4, &v, true);
	serial_access(&s, 6, &v, false);
	ok(v == 0x90, "loopback MSR 0x%02x (the 8250 probe wants 0x90)", v);
	v = 'x';
	serial_access(&s, 0, &v, true);		/* looped back: not sent out */
	v = 0;
	serial_access(&s, 4, &v, true);
	v = 'h';
	serial_access(&s, 0, &v, true);
	v = '\n';
	serial_access(&s, 0, &v, true);
	serial_flush(&s);
	rewind(out);
	ok(fgets(buf, sizeof(buf), out) && !strcmp(buf, "h\n") && raised >= 2,
	   "THR bytes go out, a new edge per byte sent (%d)", raised);
	serial_access(&s, 5, &v, false);
	ok(v == 0x60, "LSR: THR and transmitter empty");
	fclose(out);
}

int main(void)
{
	tap_plan(33);
	test_parse();
	test_plan();
	test_write();
	test_serial();
	return tap_done();
}
