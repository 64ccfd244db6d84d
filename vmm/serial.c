// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART, transmit only: what Linux's 8250 driver needs to find the
 * port (scratch and IER read back, the loopback test of MSR, FIFO bits in
 * IIR) and to send through it by polling (the console) or by the THR-empty
 * interrupt (a tty).  Every byte written to THR goes out at once; nothing
 * is ever received.  The interrupt output is reported on its rising edges.
 */
#include <string.h>

#include "gmemkit/linux.h"

#define RBR_THR	0
#define IER	1
#define IIR_FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

#define LCR_DLAB	0x80
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_FIFO	0xc0
#define FCR_FIFO	0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

void serial_init(struct serial *s, FILE *out, void (*raise)(void *opaque),
		 void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->raise = raise;
	s->opaque = opaque;
}

void serial_flush(struct serial *s)
{
	if (s->len && s->out) {
		fwrite(s->buf, 1, s->len, s->out);
		fflush(s->out);
	}
	s->len = 0;
}

static void tx(struct serial *s, uint8_t c)
{
	s->tx_bytes++;
	if (s->mcr & MCR_LOOP)
		return;			/* loopback: nothing leaves the UART */
	s->buf[s->len++] = (char)c;
	if (c == '\n' || s->len == sizeof(s->buf))
		serial_flush(s);
}

static void update_irq(struct serial *s)
{
	bool line = (s->ier & IER_THRI) && s->thre_pending;

	if (line && !s->line && s->raise)
		s->raise(s->opaque);
	s->line = line;
}

static uint8_t msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return 0xb0;		/* DCD, DSR, CTS: a cable with a peer */
	/* Loopback: DCD = OUT2, RI = OUT1, DSR = DTR, CTS = RTS. */
	return (uint8_t)(((m & MCR_OUT2) ? 0x80 : 0) | ((m & MCR_OUT1) ? 0x40 : 0) |
			 ((m & MCR_DTR) ? 0x20 : 0) | ((m & MCR_RTS) ? 0x10 : 0));
}

static uint8_t read_reg(struct serial *s, unsigned int off)
{
	uint8_t fifo = (s->fcr & FCR_FIFO) ? IIR_FIFO : 0;

	switch (off) {
	case RBR_THR:
		return (s->lcr & LCR_DLAB) ? s->dll : 0;
	case IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case IIR_FCR:
		if ((s->ier & IER_THRI) && s->thre_pending) {
			s->thre_pending = false;	/* taken by reading IIR */
			return fifo | IIR_THRI;
		}
		return fifo | IIR_NO_INT;
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT;
	case MSR:
		return msr(s);
	default:
		return s->scr;
	}
}

static void write_reg(struct serial *s, unsigned int off, uint8_t v)
{
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			tx(s, v);
			s->thre_pending = true;	/* sent: empty again */
		}
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with THR empty interrupts at once. */
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thre_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default:			/* LSR, MSR: read only */
		break;
	}
}

void serial_access(struct serial *s, unsigned int off, uint8_t *data,
		   bool is_write)
{
	off &= 7;
	if (is_write)
		write_reg(s, off, *data);
	else
		*data = read_reg(s, off);
	update_irq(s);
}
