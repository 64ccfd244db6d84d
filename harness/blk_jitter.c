// SPDX-License-Identifier: GPL-2.0
/*
 * Test support: the jitter backend (harness/blk_jitter.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "harness/blk_jitter.h"

#define MAX_HELD	512

struct held {
	struct blk_io *io;
	uint64_t deadline;
};

struct jitter {
	struct blk_backend be;
	int fd;
	uint64_t rng, hold_max_ns;
	struct held held[MAX_HELD];
	unsigned int n;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void arm(struct jitter *j)
{
	struct itimerspec t = { 0 };
	uint64_t min = ~0ULL;
	unsigned int i;

	for (i = 0; i < j->n; i++)
		if (j->held[i].deadline < min)
			min = j->held[i].deadline;
	if (j->n) {
		t.it_value.tv_sec = (time_t)(min / 1000000000ULL);
		t.it_value.tv_nsec = (long)(min % 1000000000ULL);
		if (!t.it_value.tv_sec && !t.it_value.tv_nsec)
			t.it_value.tv_nsec = 1;
	}
	timerfd_settime(j->be.event_fd, TFD_TIMER_ABSTIME, &t, NULL);
}

static int jitter_submit(struct blk_backend *be, struct blk_io *io)
{
	struct jitter *j = (struct jitter *)be;
	uint64_t x = j->rng;

	if (j->n == MAX_HELD)
		return -EAGAIN;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	j->rng = x;
	j->held[j->n].io = io;
	j->held[j->n].deadline = now_ns() + x % j->hold_max_ns;
	j->n++;
	arm(j);
	return 0;
}

static int jitter_kick(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static long transfer(struct jitter *j, struct blk_io *io)
{
	ssize_t n;

	if (io->op == BLK_OP_FLUSH)
		return fdatasync(j->fd) ? -errno : 0;
	if (io->op == BLK_OP_READ)
		n = preadv(j->fd, io->iov, (int)io->niov, (off_t)io->offset);
	else
		n = pwritev(j->fd, io->iov, (int)io->niov, (off_t)io->offset);
	if (n < 0)
		return -errno;
	return (uint64_t)n == io->len ? n : -EIO;
}

static int jitter_reap(struct blk_backend *be, bool wait)
{
	struct jitter *j = (struct jitter *)be;
	unsigned int i, done = 0;
	uint64_t exp, now;

	if (read(be->event_fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	for (;;) {
		now = now_ns();
		for (i = 0; i < j->n;) {
			struct blk_io *io = j->held[i].io;

			if (j->held[i].deadline > now) {
				i++;
				continue;
			}
			j->held[i] = j->held[--j->n];
			be->complete(be, io, transfer(j, io));
			done++;
		}
		if (done || !wait || !j->n)
			break;
		usleep(200);
	}
	arm(j);
	return (int)done;
}

static void jitter_destroy(struct blk_backend *be)
{
	struct jitter *j = (struct jitter *)be;

	close(j->fd);
	close(be->event_fd);
	free(j);
}

static const struct blk_backend_ops jitter_ops = {
	.submit = jitter_submit,
	.kick = jitter_kick,
	.reap = jitter_reap,
	.destroy = jitter_destroy,
};

int blk_jitter_file(const char *path, uint64_t capacity, uint64_t hold_max_ns,
		    struct blk_backend **out)
{
	struct jitter *j;
	int err;

	if (!path || !out || !capacity || !hold_max_ns)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = open(path, O_RDWR | O_CLOEXEC);
	j->be.event_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (j->fd < 0 || j->be.event_fd < 0) {
		err = -errno;
		if (j->fd >= 0)
			close(j->fd);
		if (j->be.event_fd >= 0)
			close(j->be.event_fd);
		free(j);
		return err;
	}
	j->rng = 0x243f6a8885a308d3ULL;
	j->hold_max_ns = hold_max_ns;
	j->be.ops = &jitter_ops;
	j->be.name = "jitter";
	j->be.engine = "timer";
	j->be.capacity = capacity;
	*out = &j->be;
	return 0;
}
