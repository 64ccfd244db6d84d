// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit run: boot the embedded guest, print its console, exit with its
 * verdict (0 passed, 1 failed or faulted, 2 bad usage or no VM).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/vm.h"
#include "harness/services.h"

static void usage(FILE *f)
{
	int t;

	fprintf(f,
		"usage: gmemkit run [--vcpus N] [--mem SIZE] [--test NAME]\n"
		"                   [--transport auto|hypercall|doorbell|queue]\n"
		"                   [--conv-poll-us N] [--mode inplace|destructive]\n"
		"                   [--timeout MS] [--reps N]\n"
		"  --vcpus N      vCPUs, 1..%d (default 1)\n"
		"  --mem SIZE     guest RAM, multiple of 2M, 32M..3G (default 64M)\n"
		"  --test NAME    guest test (default hello):",
		GMEM_ABI_MAX_VCPUS);
	for (t = 1; t < GMEM_ABI_TEST_MAX; t++)
		fprintf(f, " %s", gmem_vm_test_name((enum gmem_abi_test)t));
	fprintf(f, "\n"
		"  --transport    conversion transport (default auto: probed; queue: a ring\n"
		"                 serviced by a converter thread, no userspace exit)\n"
		"  --conv-poll-us queue: converter busy-polls N us after its last request\n"
		"                 (default %d; 0: sleeps at once, every request kicks)\n"
		"  --mode         conversion mode of guest RAM (default inplace)\n"
		"  --timeout MS   watchdog (default %u)\n"
		"  --reps N       samples per series for --test bench (default 100)\n"
		"exit status: 0 the guest passed, 1 it failed or faulted, 2 usage or setup error\n",
		GMEM_VM_CONV_POLL_US_DEFAULT, GMEM_VM_DEFAULT_TIMEOUT_MS);
}

static int parse(int argc, char **argv, struct gmem_vm_config *c)
{
	uint64_t mem;
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!v) {
			fprintf(stderr, "gmemkit run: unknown option or missing value: '%s'\n", o);
			return -1;
		}
		i++;
		if (!strcmp(o, "--vcpus")) {
			if (cli_parse_uint(o, v, 1, GMEM_ABI_MAX_VCPUS, &c->vcpus))
				return -1;
		} else if (!strcmp(o, "--mem")) {
			if (cli_parse_size(o, v, &mem))
				return -1;
			if (mem < GMEM_ABI_MEM_MIN || mem > GMEM_ABI_MEM_MAX ||
			    mem % GMEM_ABI_MEM_ALIGN) {
				fprintf(stderr, "gmemkit run: --mem: '%s' must be a multiple of "
					"2M between 32M and 3G\n", v);
				return -1;
			}
			c->mem_size = mem;
		} else if (!strcmp(o, "--test")) {
			if (gmem_vm_test_from_name(v, &c->test)) {
				fprintf(stderr, "gmemkit run: --test: unknown test '%s'\n", v);
				return -1;
			}
		} else if (!strcmp(o, "--transport")) {
			if (gmem_vm_transport_from_name(v, &c->transport)) {
				fprintf(stderr, "gmemkit run: --transport: '%s' is not auto, "
					"hypercall, doorbell or queue\n", v);
				return -1;
			}
		} else if (!strcmp(o, "--conv-poll-us")) {
			unsigned int us;

			if (cli_parse_uint(o, v, 0, GMEM_VM_CONV_POLL_US_MAX, &us))
				return -1;
			c->conv_poll_us = us ? (int)us : GMEM_VM_CONV_POLL_OFF;
		} else if (!strcmp(o, "--mode")) {
			if (!strcmp(v, "inplace")) {
				c->mode = GMEM_MODE_INPLACE;
			} else if (!strcmp(v, "destructive")) {
				c->mode = GMEM_MODE_DESTRUCTIVE;
			} else {
				fprintf(stderr, "gmemkit run: --mode: '%s' is not inplace or "
					"destructive\n", v);
				return -1;
			}
		} else if (!strcmp(o, "--timeout")) {
			if (cli_parse_uint(o, v, 1, 3600000, &c->timeout_ms))
				return -1;
		} else if (!strcmp(o, "--reps")) {
			if (cli_parse_uint(o, v, 1, 100000, &c->bench_reps))
				return -1;
		} else {
			fprintf(stderr, "gmemkit run: unknown option '%s'\n", o);
			return -1;
		}
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct gmem_vm_config cfg = { .vcpus = 1, .test = GMEM_ABI_TEST_HELLO,
				      .services = &harness_services };
	struct gmem_vm_result res;
	char speed[160];
	struct gmem_vm *vm;
	int err;

	err = parse(argc, argv, &cfg);
	if (err)
		return err > 0 ? 0 : 2;
	err = gmem_vm_create(&cfg, &vm);
	if (err == -ENODEV) {
		fprintf(stderr, "gmemkit run: no usable /dev/kvm on this host "
			"(try tools/testvm build/gmemkit run ...)\n");
		return 2;
	}
	if (err == -EOPNOTSUPP && cfg.transport == GMEM_TRANSPORT_HYPERCALL) {
		fprintf(stderr, "gmemkit run: --transport hypercall: this KVM does not "
			"offer KVM_HC_MAP_GPA_RANGE exits (KVM_CAP_EXIT_HYPERCALL)\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "gmemkit run: cannot create the VM: %s\n", strerror(-err));
		return 2;
	}
	if (cfg.transport == GMEM_TRANSPORT_AUTO) {
		const char *why = "";

		gmem_vm_probe_hypercall_exit(GMEM_VM_PROBE_TIMEOUT_MS, &why);
		fprintf(stderr, "gmemkit run: transport auto: %s\n", why);
	}
	fprintf(stderr, "gmemkit run: test %s, %u vCPU(s), %llu MiB %s (%s), transport %s\n",
		gmem_vm_test_name(cfg.test), cfg.vcpus,
		(unsigned long long)((cfg.mem_size ? cfg.mem_size : GMEM_VM_DEFAULT_MEM) >> 20),
		gmem_backend_name(gmem_vm_memory(vm)),
		gmem_backing(gmem_vm_memory(vm)) == GMEM_BACKING_GUEST_MEMFD ?
		"guest_memfd" : "memfd",
		gmem_vm_transport_name(gmem_vm_transport(vm)));
	err = gmem_vm_run(vm, &res);
	gmem_vm_destroy(vm);
	if (err) {
		fprintf(stderr, "gmemkit run: cannot run the VM: %s\n", strerror(-err));
		return 2;
	}
	gmem_vm_speed_describe(&res.speed, speed, sizeof(speed));
	fprintf(stderr, "gmemkit run: guest ran %s\n", speed);
	fprintf(stderr, "gmemkit run: %s: %s\n", gmem_vm_end_name(res.end), res.message);
	fprintf(stderr, "gmemkit run: exits %llu, doorbells %llu, hypercalls %llu, "
		"conversions %llu, bad requests: range %llu align %llu overflow %llu "
		"op %llu busy %llu; test services refused %llu, unpins refused %llu\n",
		(unsigned long long)res.counters.exits,
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_DOORBELLS],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_HYPERCALLS],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_CONV_OK],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_BAD_RANGE],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_BAD_ALIGN],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_BAD_OVERFLOW],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_BAD_OP],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_BUSY],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_SERVICE_REFUSED],
		(unsigned long long)res.counters.c[GMEM_ABI_CNT_UNPIN_REFUSED]);
	if (res.queue.active) {
		fprintf(stderr, "gmemkit run: queue: %llu requests, %llu wakeups by a kick, "
			"converter CPU %.3f ms over %.3f ms (poll %u us)\n",
			(unsigned long long)res.queue.requests,
			(unsigned long long)res.queue.wakeups, res.queue.cpu_ns / 1e6,
			res.queue.wall_ns / 1e6, res.queue.poll_us);
		if (res.queue.stopped)
			fprintf(stderr, "gmemkit run: %u queue(s) stopped; first: %s\n",
				res.queue.stopped, res.queue.stop_message);
	}
	return res.pass ? 0 : 1;
}

GMEM_COMMAND("run", cmd_run, "boot the embedded guest and run one of its self-tests");
