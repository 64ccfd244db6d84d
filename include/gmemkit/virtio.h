/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio ABI shared by the VMM (vmm/virtio_*.c) and the guest driver:
 * virtio-mmio version 2 registers, device status and feature bits, the
 * split virtqueue layout and the virtio-blk request format, per the virtio
 * 1.2 specification (sections 2.1, 2.2, 2.7, 4.2.2 and 5.2).
 *
 * Freestanding: only <stdint.h>, no libc.  Every field is little endian, as
 * virtio 1.x requires; gmemkit runs on x86-64 only, so fields are plain
 * integers (no byte swapping).
 */
#ifndef GMEMKIT_VIRTIO_H
#define GMEMKIT_VIRTIO_H

#include <stdint.h>

/* Version of this header's ABI as gmemkit uses it (bump on any change). */
#define GMEM_VIRTIO_ABI_VERSION		1

/*
 * Size of a gmemkit virtio-mmio window; where the VMM places the window is
 * in gmemkit/abi.h (GMEM_ABI_VIRTIO_MMIO_GPA).
 */
#define GMEM_VIRTIO_MMIO_SIZE		0x1000ULL

/* ---- virtio-mmio registers (virtio 1.2, 4.2.2) ---------------------------- */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000	/* R  "virt" */
#define VIRTIO_MMIO_VERSION		0x004	/* R  2 */
#define VIRTIO_MMIO_DEVICE_ID		0x008	/* R */
#define VIRTIO_MMIO_VENDOR_ID		0x00c	/* R */
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010	/* R */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014	/* W */
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020	/* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024	/* W */
#define VIRTIO_MMIO_QUEUE_SEL		0x030	/* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034	/* R */
#define VIRTIO_MMIO_QUEUE_NUM		0x038	/* W */
#define VIRTIO_MMIO_QUEUE_READY		0x044	/* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050	/* W */
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060	/* R */
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064	/* W */
#define VIRTIO_MMIO_STATUS		0x070	/* RW */
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080	/* W */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084	/* W */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090	/* W  avail ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094	/* W */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0	/* W  used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4	/* W */
#define VIRTIO_MMIO_SHM_SEL		0x0ac	/* W */
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0	/* R */
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4	/* R */
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8	/* R */
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc	/* R */
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0	/* RW */
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc	/* R */
#define VIRTIO_MMIO_CONFIG		0x100	/* RW device config space */

#define VIRTIO_MMIO_MAGIC		0x74726976U	/* "virt" */
#define VIRTIO_MMIO_VERSION_2		2U
#define GMEM_VIRTIO_VENDOR_ID		0x4d454d47U	/* "GMEM" */

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING		(1U << 0)	/* used buffer */
#define VIRTIO_MMIO_INT_CONFIG		(1U << 1)	/* config change */

/* Device IDs (virtio 1.2, 5). */
#define VIRTIO_ID_BLOCK			2U

/* ---- device status (virtio 1.2, 2.1) --------------------------------------- */
#define VIRTIO_STATUS_ACKNOWLEDGE	1U
#define VIRTIO_STATUS_DRIVER		2U
#define VIRTIO_STATUS_DRIVER_OK		4U
#define VIRTIO_STATUS_FEATURES_OK	8U
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64U
#define VIRTIO_STATUS_FAILED		128U

/* ---- feature bits (virtio 1.2, 6) ------------------------------------------ */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_F_ORDER_PLATFORM		36
#define VIRTIO_F_RING_RESET		40

#define VIRTIO_BIT(b)			(1ULL << (b))

/* ---- split virtqueue (virtio 1.2, 2.7) ------------------------------------- */
#define VIRTQ_DESC_F_NEXT		1U
#define VIRTQ_DESC_F_WRITE		2U	/* device writes the buffer */
#define VIRTQ_DESC_F_INDIRECT		4U

#define VIRTQ_AVAIL_F_NO_INTERRUPT	1U
#define VIRTQ_USED_F_NO_NOTIFY		1U

/* Largest queue size the split ring allows; sizes are powers of two. */
#define VIRTQ_SIZE_LIMIT		32768U

/* Required alignments of the three areas (bytes). */
#define VIRTQ_DESC_ALIGN		16U
#define VIRTQ_AVAIL_ALIGN		2U
#define VIRTQ_USED_ALIGN		4U

struct vring_desc {
	uint64_t addr;		/* guest physical address */
	uint32_t len;
	uint16_t flags;		/* VIRTQ_DESC_F_* */
	uint16_t next;		/* index of the next descriptor if F_NEXT */
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;		/* where the driver puts the next entry */
	uint16_t ring[];	/* [queue size], then used_event (EVENT_IDX) */
};

struct vring_used_elem {
	uint32_t id;		/* head index of the completed chain */
	uint32_t len;		/* bytes the device wrote into the chain */
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* [queue size], then avail_event */
};

_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc layout");
_Static_assert(sizeof(struct vring_used_elem) == 8, "used elem layout");

/* Bytes of each area for a queue of n entries (event fields included). */
static inline uint64_t vring_desc_bytes(uint32_t n)
{
	return 16ULL * n;
}

static inline uint64_t vring_avail_bytes(uint32_t n)
{
	return 6ULL + 2ULL * n;
}

static inline uint64_t vring_used_bytes(uint32_t n)
{
	return 6ULL + 8ULL * n;
}

/* ---- virtio-blk (virtio 1.2, 5.2) ------------------------------------------ */
#define VIRTIO_BLK_F_SIZE_MAX		1	/* config.size_max valid */
#define VIRTIO_BLK_F_SEG_MAX		2	/* config.seg_max valid */
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5	/* device is read only */
#define VIRTIO_BLK_F_BLK_SIZE		6	/* config.blk_size valid */
#define VIRTIO_BLK_F_FLUSH		9	/* VIRTIO_BLK_T_FLUSH works */
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_T_IN			0U	/* read */
#define VIRTIO_BLK_T_OUT		1U	/* write */
#define VIRTIO_BLK_T_FLUSH		4U
#define VIRTIO_BLK_T_GET_ID		8U
#define VIRTIO_BLK_T_DISCARD		11U
#define VIRTIO_BLK_T_WRITE_ZEROES	13U

#define VIRTIO_BLK_S_OK			0U
#define VIRTIO_BLK_S_IOERR		1U
#define VIRTIO_BLK_S_UNSUPP		2U

#define VIRTIO_BLK_SECTOR_SHIFT		9
#define VIRTIO_BLK_SECTOR_SIZE		512U
#define VIRTIO_BLK_ID_BYTES		20U

/*
 * A request is a descriptor chain: this header (device readable), the data
 * buffers (device writable for IN and GET_ID, readable for OUT), then one
 * device-writable status byte.  The gmemkit device wants the header alone
 * in the first descriptor and the status byte in the last one, as Linux
 * and Firecracker lay them out.
 */
struct virtio_blk_outhdr {
	uint32_t type;		/* VIRTIO_BLK_T_* */
	uint32_t ioprio;
	uint64_t sector;	/* 512-byte units */
};

_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "blk header layout");

struct virtio_blk_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
};

/* Device configuration space, at VIRTIO_MMIO_CONFIG. */
struct virtio_blk_config {
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t size_max;		/* F_SIZE_MAX: bytes per segment */
	uint32_t seg_max;		/* F_SEG_MAX: data segments per request */
	struct virtio_blk_geometry geometry;
	uint32_t blk_size;		/* F_BLK_SIZE: logical block size */
	struct virtio_blk_topology topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
};

_Static_assert(sizeof(struct virtio_blk_config) == 72, "blk config layout");

#endif /* GMEMKIT_VIRTIO_H */
