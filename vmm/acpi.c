// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables for a stock Linux guest: how it finds the virtio-mmio device
 * (a DSDT device with _HID "LNRO0005", as QEMU microvm and Firecracker
 * describe theirs), its interrupt (MADT: local APICs and one I/O APIC),
 * the UART (PNP0501), and how it powers off and resets (a hardware-reduced
 * FADT: sleep control/status and reset registers on I/O ports the VMM
 * traps, \_S5 in the DSDT).  Tables per ACPI 6.x; AML written by hand.
 */
#include <errno.h>
#include <string.h>

#include "le.h"
#include "gmemkit/linux.h"

#define RSDP_OFF	0x000
#define XSDT_OFF	0x040
#define FADT_OFF	0x100
#define MADT_OFF	0x240
#define DSDT_OFF	0x400
#define AML_MAX		1024

#define FADT_LEN	276
#define FADT_HW_REDUCED	(1U << 20)
#define FADT_RESET_REG	(1U << 10)
#define BOOT_NO_VGA	(1U << 2)
#define BOOT_NO_CMOS	(1U << 5)

#define LAPIC_GPA	0xfee00000U
#define IOAPIC_GPA	0xfec00000U

struct aml {
	uint8_t b[AML_MAX];
	size_t n;
	bool overflow;
};

static void aml_bytes(struct aml *a, const void *p, size_t len)
{
	if (a->overflow || a->n + len > sizeof(a->b)) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->n, p, len);
	a->n += len;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

static void aml_dword(struct aml *a, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	aml_bytes(a, b, 4);
}

/* PkgLength (ACPI 20.2.4) for content bytes that follow it. */
static void aml_pkglen(struct aml *a, size_t content)
{
	size_t total;

	if (content + 1 <= 0x3f) {
		aml_byte(a, (uint8_t)(content + 1));
	} else if (content + 2 <= 0xfff) {
		total = content + 2;
		aml_byte(a, (uint8_t)(0x40 | (total & 0xf)));
		aml_byte(a, (uint8_t)(total >> 4));
	} else {
		total = content + 3;
		aml_byte(a, (uint8_t)(0x80 | (total & 0xf)));
		aml_byte(a, (uint8_t)(total >> 4));
		aml_byte(a, (uint8_t)(total >> 12));
	}
}

/* op PkgLength [name] inner: Scope, Device, Buffer, Package bodies. */
static void aml_wrap(struct aml *a, const uint8_t *op, size_t oplen,
		     const struct aml *inner)
{
	if (inner->overflow)
		a->overflow = true;
	aml_bytes(a, op, oplen);
	aml_pkglen(a, inner->n);
	aml_bytes(a, inner->b, inner->n);
}

static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, 0x08);		/* NameOp */
	aml_bytes(a, seg, strlen(seg));
}

static void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);		/* StringPrefix */
	aml_bytes(a, s, strlen(s) + 1);
}

static void aml_integer(struct aml *a, uint32_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00);	/* ZeroOp */
	} else if (v == 1) {
		aml_byte(a, 0x01);	/* OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_byte(a, (uint8_t)v);
	} else {
		aml_byte(a, 0x0c);
		aml_dword(a, v);
	}
}

/* Name(_CRS, Buffer() { resource template bytes, end tag }) */
static void aml_crs(struct aml *a, const struct aml *res)
{
	static const uint8_t end[2] = { 0x79, 0x00 };
	struct aml buf = { .n = 0 };
	static const uint8_t op = 0x11;		/* BufferOp */

	aml_integer(&buf, (uint32_t)(res->n + sizeof(end)));
	aml_bytes(&buf, res->b, res->n);
	aml_bytes(&buf, end, sizeof(end));
	if (res->overflow)
		buf.overflow = true;
	aml_name(a, "_CRS");
	aml_wrap(a, &op, 1, &buf);
}

/* Device(name) { body } */
static void aml_device(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[2] = { 0x5b, 0x82 };	/* DeviceOp */
	struct aml in = { .n = 0 };

	aml_bytes(&in, name, 4);
	aml_bytes(&in, body->b, body->n);
	if (body->overflow)
		in.overflow = true;
	aml_wrap(a, op, 2, &in);
}

static void build_dsdt_aml(struct aml *top, const struct acpi_params *p)
{
	static const uint8_t scope_op = 0x10, pkg_op = 0x12;
	struct aml sb = { .n = 0 }, dev, res, s5 = { .n = 0 };

	if (p->serial) {
		/* COM1: IO(Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags() {4} */
		static const uint8_t com1[] = {
			0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
			0x22, 1 << LINUX_SERIAL_GSI, 0x00,
		};

		dev = (struct aml){ .n = 0 };
		res = (struct aml){ .n = 0 };
		aml_name(&dev, "_HID");
		aml_byte(&dev, 0x0c);			/* EisaId("PNP0501") */
		aml_dword(&dev, 0x0105d041);
		aml_name(&dev, "_UID");
		aml_integer(&dev, 0);
		aml_bytes(&res, com1, sizeof(com1));
		aml_crs(&dev, &res);
		aml_device(&sb, "COM1", &dev);
	}

	/* virtio-mmio: Memory32Fixed(ReadWrite, base, size),
	 * Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) { gsi } */
	dev = (struct aml){ .n = 0 };
	res = (struct aml){ .n = 0 };
	aml_name(&dev, "_HID");
	aml_string(&dev, "LNRO0005");
	aml_name(&dev, "_UID");
	aml_integer(&dev, 0);
	aml_byte(&res, 0x86);
	aml_byte(&res, 0x09);
	aml_byte(&res, 0x00);
	aml_byte(&res, 0x01);				/* read-write */
	aml_dword(&res, (uint32_t)p->virtio_gpa);
	aml_dword(&res, p->virtio_size);
	aml_byte(&res, 0x89);
	aml_byte(&res, 0x06);
	aml_byte(&res, 0x00);
	aml_byte(&res, 0x03);				/* consumer, edge, high */
	aml_byte(&res, 0x01);
	aml_dword(&res, p->virtio_gsi);
	aml_crs(&dev, &res);
	aml_device(&sb, "VR00", &dev);

	{
		struct aml scope = { .n = 0 };

		aml_bytes(&scope, "\\_SB_", 5);
		aml_bytes(&scope, sb.b, sb.n);
		if (sb.overflow)
			scope.overflow = true;
		aml_wrap(top, &scope_op, 1, &scope);
	}

	/* Name(_S5_, Package() { 5, 0 }): SLP_TYP 5 for power-off. */
	aml_byte(&s5, 2);
	aml_integer(&s5, 5);
	aml_integer(&s5, 0);
	aml_name(top, "_S5_");
	aml_wrap(top, &pkg_op, 1, &s5);
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)-s;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "GMEMKT", 6);
	memcpy(t + 16, "GMEMKIT ", 8);
	le_put32(t + 24, 1);
	memcpy(t + 28, "GMKT", 4);
	le_put32(t + 32, 1);
}

static void sdt_finish(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
		       (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;

	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure: one byte in system I/O space. */
static void gas_port(uint8_t *g, uint16_t port)
{
	g[0] = 1;		/* SystemIO */
	g[1] = 8;		/* bit width */
	g[2] = 0;
	g[3] = 1;		/* byte access */
	le_put64(g + 4, port);
}

long acpi_build(void *buf, size_t len, const struct acpi_params *p)
{
	uint8_t *b = buf, *t;
	struct aml aml = { .n = 0 };
	uint32_t madt_len;
	unsigned int i;

	if (!buf || !p || !p->vcpus || p->vcpus > LINUX_MAX_VCPUS)
		return -EINVAL;
	build_dsdt_aml(&aml, p);
	madt_len = 44 + 8 * p->vcpus + 12;
	if (aml.overflow || len < DSDT_OFF + 36 + aml.n ||
	    MADT_OFF + madt_len > DSDT_OFF)
		return -ENOSPC;
	memset(b, 0, DSDT_OFF + 36 + aml.n);

	/* DSDT */
	t = b + DSDT_OFF;
	sdt_header(t, "DSDT", (uint32_t)(36 + aml.n), 2);
	memcpy(t + 36, aml.b, aml.n);
	sdt_finish(t);

	/* FADT (revision 6, hardware-reduced) */
	t = b + FADT_OFF;
	sdt_header(t, "FACP", FADT_LEN, 6);
	le_put32(t + 40, (uint32_t)(p->base_gpa + DSDT_OFF));
	le_put16(t + 109, BOOT_NO_VGA | BOOT_NO_CMOS);
	le_put32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG);
	gas_port(t + 116, LINUX_RESET_PORT);
	t[128] = LINUX_RESET_VALUE;
	t[131] = 3;				/* FADT minor version */
	le_put64(t + 140, p->base_gpa + DSDT_OFF);
	gas_port(t + 244, LINUX_SLEEP_CTL_PORT);
	gas_port(t + 256, LINUX_SLEEP_STS_PORT);
	memcpy(t + 268, "GMEMKIT\0", 8);
	sdt_finish(t);

	/* MADT: local APICs, one I/O APIC (GSI 0..23) */
	t = b + MADT_OFF;
	sdt_header(t, "APIC", madt_len, 5);
	le_put32(t + 36, LAPIC_GPA);
	le_put32(t + 40, 0);
	for (i = 0; i < p->vcpus; i++) {
		uint8_t *e = t + 44 + 8 * i;

		e[0] = 0;			/* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;		/* ACPI processor UID */
		e[3] = (uint8_t)i;		/* APIC ID */
		le_put32(e + 4, 1);		/* enabled */
	}
	t += 44 + 8 * p->vcpus;
	t[0] = 1;				/* I/O APIC */
	t[1] = 12;
	t[2] = 0;				/* I/O APIC ID */
	le_put32(t + 4, IOAPIC_GPA);
	le_put32(t + 8, 0);			/* GSI base */
	sdt_finish(b + MADT_OFF);

	/* XSDT: FADT, MADT */
	t = b + XSDT_OFF;
	sdt_header(t, "XSDT", 36 + 2 * 8, 1);
	le_put64(t + 36, p->base_gpa + FADT_OFF);
	le_put64(t + 44, p->base_gpa + MADT_OFF);
	sdt_finish(t);

	/* RSDP (ACPI 2.0+) */
	t = b + RSDP_OFF;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, "GMEMKT", 6);
	t[15] = 2;				/* revision */
	le_put32(t + 20, 36);
	le_put64(t + 24, p->base_gpa + XSDT_OFF);
	t[8] = checksum(t, 20);
	t[32] = checksum(t, 36);
	return (long)(DSDT_OFF + 36 + aml.n);
}
