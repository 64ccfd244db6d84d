// SPDX-License-Identifier: GPL-2.0
/*
 * Guest runtime: libc subset, console, IDT and exception reports, TSC clock
 * calibrated against host time, results page and checks.
 */
#include "guest.h"

/* ---- libc subset ---------------------------------------------------------- */

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	/* Overlapping, destination above: copy backwards. */
	dp += n - 1;
	sp += n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(dp), "+S"(sp), "+c"(n) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* ---- formatting ----------------------------------------------------------- */

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* Emit s[0..n) padded to width: on the left, or on the right if left. */
static void put_padded(struct out *o, const char *s, int n, int width, char pad,
		       bool left)
{
	int i;

	for (i = n; !left && i < width; i++)
		put(o, pad);
	for (i = 0; i < n; i++)
		put(o, s[i]);
	for (i = n; left && i < width; i++)
		put(o, ' ');
}

static void put_num(struct out *o, uint64_t v, unsigned int base, bool neg,
		    int width, char pad, bool left)
{
	char tmp[24], rev[24];
	int n = 0, i;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (i = 0; i < n; i++)
		rev[i] = tmp[n - 1 - i];
	put_padded(o, rev, n, width, pad, left);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	const char *s;

	for (; *fmt; fmt++) {
		int width = 0, lng = 0;
		bool left = false;
		char pad = ' ';
		uint64_t u;
		int64_t v;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '-') {
			left = true;
			fmt++;
		}
		if (*fmt == '0' && !left)
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0,
				width, pad, left);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, pad, left);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uint64_t)va_arg(ap, void *), 16, false, 0, ' ',
				false);
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_padded(&o, s, (int)strlen(s), width, ' ', left);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '?');
			if (!*fmt)
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- console ---------------------------------------------------------------- */

static void console_write(const char *s, size_t n)
{
	volatile struct gmem_abi_vcpu_page *pg = this_page();
	size_t i;

	if (n > GMEM_ABI_CONSOLE_MAX)
		n = GMEM_ABI_CONSOLE_MAX;
	for (i = 0; i < n; i++)
		pg->console[i] = s[i];
	outl(GMEM_ABI_PORT_CONSOLE, (uint32_t)n);
}

void gprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	console_write(buf, (size_t)n);
}

/* ---- IDT and exceptions ------------------------------------------------------ */

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t guest_exc_table[32];

void idt_init(void)
{
	unsigned int i;

	for (i = 0; i < 32; i++) {
		uint64_t a = guest_exc_table[i];

		idt[i].off0 = (uint16_t)a;
		idt[i].sel = 0x08;
		idt[i].ist = 0;
		idt[i].type = 0x8e;		/* present, DPL 0, interrupt gate */
		idt[i].off1 = (uint16_t)(a >> 16);
		idt[i].off2 = (uint32_t)(a >> 32);
		idt[i].zero = 0;
	}
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void guest_exception(struct exc_frame *f);
void guest_exception(struct exc_frame *f)
{
	uint64_t cr2;
	char buf[200];
	int n;

	/* A PVM-variant host stores CR2 in the vCPU's PVM page ("mov %cr2"
	 * would be one more trapped instruction there). */
	if (boot_info->pvm)
		cr2 = ((volatile struct gmem_abi_pvm_page *)
		       (GMEM_ABI_PVM_PAGE_GPA + this_cpu() * PAGE_SIZE))->cr2;
	else
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	n = snprintf(buf, sizeof(buf),
		     "rip 0x%lx error 0x%lx cr2 0x%lx rsp 0x%lx rax 0x%lx",
		     f->rip, f->error, cr2, f->rsp, f->rax);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	/* Leave the text in the console buffer (NUL terminated) for the
	 * VMM's message; do not print it as console output. */
	for (int i = 0; i <= n; i++)
		this_page()->console[i] = buf[i];
	outl(GMEM_ABI_PORT_PANIC, (uint32_t)f->vector);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- clock ------------------------------------------------------------------ */


/* Host ns and TSC read as close together as possible (midpoint). */
static void sample(uint64_t *tsc, uint64_t *ns)
{
	uint64_t t0 = rdtsc(), h = host_time_ns(), t1 = rdtsc();

	*tsc = t0 + (t1 - t0) / 2;
	*ns = h;
}

uint64_t clock_calibrate(void)
{
	uint64_t t0, h0, t1, h1;

	sample(&t0, &h0);
	do {
		sample(&t1, &h1);
	} while (h1 - h0 < 20000000ULL);	/* 20 ms of host time */
	if (t1 <= t0)
		return 0;
	guest_tsc_khz = (t1 - t0) * 1000000ULL / (h1 - h0);
	return guest_tsc_khz;
}

