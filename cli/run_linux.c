// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit run --kernel BZIMAGE: boot a stock Linux kernel with gmemkit's
 * virtio-blk device (gmemkit/linux.h), its UART on stdout, and exit with
 * how the guest ended: 0 it powered off, 1 it reset, faulted or the
 * watchdog fired, 2 bad usage or input, or no VM (nothing started).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/linux.h"

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit run", opts, NULL,
		  "The UART (ttyS0) goes to stdout, gmemkit's report to stderr.  "
		  "docs/linux-guest.md says what the kernel needs.\n"
		  "exit status: 0 the guest powered off, 1 it reset, faulted or timed "
		  "out, 2 usage, bad input or no VM");
}

static void report(const struct linux_vm *vm, const struct linux_result *r)
{
	const struct vblk_stats *d = &r->disk;

	fprintf(stderr, "gmemkit run: linux guest: %s: %s (%.1f s)\n",
		linux_end_name(r->end), r->message, r->wall_ns / 1e9);
	fprintf(stderr, "gmemkit run: guest RAM %llu MiB %s, all shared: a stock kernel "
		"never converts, so this run measures no conversion\n",
		(unsigned long long)(linux_vm_mem_size(vm) >> 20), linux_vm_backing(vm));
	fprintf(stderr, "gmemkit run: exits %llu (port I/O %llu, MMIO %llu; unclaimed "
		"ports %llu, unclaimed MMIO %llu), UART %llu bytes\n",
		(unsigned long long)r->exits, (unsigned long long)r->io_exits,
		(unsigned long long)r->mmio_exits, (unsigned long long)r->unknown_io,
		(unsigned long long)r->unknown_mmio, (unsigned long long)r->serial_bytes);
	if (!r->has_disk) {
		fprintf(stderr, "gmemkit run: no disk\n");
		return;
	}
	fprintf(stderr, "gmemkit run: disk %s, %llu MiB: requests %llu (reads %llu, "
		"writes %llu, flushes %llu, get-id %llu), bytes read %llu, written %llu; "
		"ok %llu, ioerr %llu, unsupp %llu, violations %llu, broken %llu, "
		"interrupts %llu, notifies %llu\n",
		r->disk_backend, (unsigned long long)(r->disk_capacity >> 20),
		(unsigned long long)d->requests, (unsigned long long)d->reads,
		(unsigned long long)d->writes, (unsigned long long)d->flushes,
		(unsigned long long)d->get_ids, (unsigned long long)d->bytes_read,
		(unsigned long long)d->bytes_written, (unsigned long long)d->ok,
		(unsigned long long)d->ioerr, (unsigned long long)d->unsupp,
		(unsigned long long)d->violations, (unsigned long long)d->broken,
		(unsigned long long)r->irqs, (unsigned long long)d->notifies);
}

int cmd_run_linux(int argc, char **argv)
{
	struct linux_config cfg = { .vcpus = 1 };
	const struct cli_opt opts[] = {
		CLI_STRING("--kernel", &cfg.kernel, .arg = "BZIMAGE", .required = true,
			   .help = "a Linux bzImage (boot protocol 2.12+, 64-bit entry)"),
		CLI_STRING("--initrd", &cfg.initrd, .arg = "FILE",
			   .help = "initial ramdisk, loaded at the top of guest RAM"),
		CLI_STRING("--append", &cfg.cmdline, .arg = "CMDLINE",
			   .help = "kernel command line "
				   "(e.g. \"console=ttyS0 swiotlb=force\")"),
		CLI_STRING("--disk", &cfg.disk, .arg = "SPEC",
			   .help = "virtio-blk (virtio-mmio, found through ACPI): null[:SIZE] "
				   "or file:PATH[,direct][,ro][,sync] (default: no disk)"),
		CLI_SIZE("--mem", &cfg.mem_size, LINUX_MEM_MIN, LINUX_MEM_MAX,
			 .align = GMEM_ABI_MEM_ALIGN,
			 .help = "guest RAM (default 256M), all of it shared: a stock "
				 "kernel never converts"),
		CLI_UINT("--vcpus", &cfg.vcpus, 1, LINUX_MAX_VCPUS,
			 .help = "vCPUs (default 1)"),
		CLI_UINT("--timeout", &cfg.timeout_ms, 1, 3600000, .arg = "MS",
			 .help = "watchdog, in milliseconds (default "
				 CLI_STR(LINUX_DEFAULT_TIMEOUT_MS) ")"),
		{ 0 }
	};
	struct linux_result res;
	struct linux_vm *vm;
	char why[512];
	int err;

	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err > 0 ? 0 : 2;
	err = linux_vm_create(&cfg, &vm, why, sizeof(why));
	if (err) {
		cli_err("%s\n", why);
		return 2;
	}
	fprintf(stderr, "gmemkit run: linux guest: kernel %s, %u vCPU(s), %llu MiB, "
		"disk %s, command line \"%s\"\n", cfg.kernel, cfg.vcpus ? cfg.vcpus : 1,
		(unsigned long long)(linux_vm_mem_size(vm) >> 20),
		cfg.disk ? cfg.disk : "none", cfg.cmdline ? cfg.cmdline : "");
	fflush(stderr);
	err = linux_vm_run(vm, &res);
	if (err) {
		linux_vm_destroy(vm);
		cli_err("cannot run the VM: %s\n", strerror(-err));
		return 2;
	}
	fflush(stdout);
	report(vm, &res);
	linux_vm_destroy(vm);
	return res.end == LINUX_END_POWEROFF ? 0 : 1;
}
