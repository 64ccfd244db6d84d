/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support: a file backend that holds each I/O for a random time in
 * [0, hold_max_ns) and completes them in deadline order, so completions
 * come out of order (a request submitted earlier is still held when a
 * later one is done).  Synchronous preadv/pwritev when an I/O's time is
 * up; completions reported from reap (its event_fd is a timerfd armed for
 * the earliest deadline).  At most 512 I/Os held: submit answers -EAGAIN
 * beyond that.
 */
#ifndef GMEMKIT_HARNESS_BLK_JITTER_H
#define GMEMKIT_HARNESS_BLK_JITTER_H

#include "gmemkit/virtio_blk.h"

/*
 * blk_jitter_file() - open path (an existing file of at least capacity
 * bytes) as a jitter backend.
 *   0, *out set
 *   -EINVAL  path or out NULL, capacity or hold_max_ns 0
 *   -ENOMEM, or the errno of open() / timerfd_create()
 */
int blk_jitter_file(const char *path, uint64_t capacity, uint64_t hold_max_ns,
		    struct blk_backend **out);

#endif /* GMEMKIT_HARNESS_BLK_JITTER_H */
