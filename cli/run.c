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

/* gmemkit run --kernel: a stock Linux guest (cli/run_linux.c). */
int cmd_run_linux(int argc, char **argv);

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit run", opts, NULL,
		  "exit status: 0 the guest passed, 1 it failed or faulted, 2 usage or "
		  "setup error\n"
		  "       gmemkit run --kernel BZIMAGE ...: boot a stock Linux kernel "
		  "instead (gmemkit run --help --kernel)");
}

/* 0 to run, 1 after --help, -EINVAL on a bad option. */
static int parse(int argc, char **argv, struct vmm_config *c)
{
	static const char *const modes[] = {
		[GMEM_MODE_INPLACE] = "inplace",
		[GMEM_MODE_DESTRUCTIVE] = "destructive",
	};
	const char *tests[GMEM_ABI_TEST_MAX] = { NULL }, *us_arg = NULL, *mode_arg = NULL;
	unsigned int us = 0, mode = c->mode, test = c->test, plat = c->platform, t;
	const struct cli_opt opts[] = {
		CLI_UINT("--vcpus", &c->vcpus, 1, GMEM_ABI_MAX_VCPUS,
			 .help = "vCPUs (default 1)"),
		CLI_SIZE("--mem", &c->mem_size, GMEM_ABI_MEM_MIN, GMEM_ABI_MEM_MAX,
			 .align = GMEM_ABI_MEM_ALIGN, .help = "guest RAM (default 64M)"),
		CLI_CHOICE("--test", &test, tests, .help = "guest test (default hello)"),
		CLI_TRANSPORT("--transport", &c->transport, .arg = "T",
			      .help = "conversion transport (default auto: probed; queue: "
				      "a ring serviced by a converter thread, no "
				      "userspace exit)"),
		CLI_UINT("--conv-poll-us", &us, 0, VMM_CONV_POLL_US_MAX, .given = &us_arg,
			 .help = "queue: converter busy-polls N us after its last request "
				 "(default " CLI_STR(VMM_CONV_POLL_US_DEFAULT) "; 0: sleeps "
				 "at once, every request kicks)"),
		CLI_CHOICE("--mode", &mode, modes, .given = &mode_arg, .arg = "M",
			   .help = "conversion mode of guest RAM (default inplace; the "
				   "platform's: destructive for tdx, snp and cca)"),
		CLI_PLATFORM("--platform", &plat, .arg = "P", .values_in_help = true,
			     .help = "the guest converts as that platform's calls "
				     "(default ideal: one request; docs/platforms.md): "
				     "pkvm one per 4 KiB page, tdx <= 2 MiB each, snp <= 64 "
				     "pages each, cca the range, the host stopping at 2 MiB "
				     "boundaries; tdx, snp and cca destroy contents (mode "
				     "destructive); transport auto: queue for pkvm and cca "
				     "(exitless)"),
		CLI_UINT("--timeout", &c->timeout_ms, 1, 3600000, .arg = "MS",
			 .help = "watchdog, in milliseconds (default "
				 CLI_STR(VMM_DEFAULT_TIMEOUT_MS) ")"),
		CLI_UINT("--reps", &c->bench_reps, 1, 100000,
			 .help = "samples per series for --test bench (default 100)"),
		{ 0 }
	};
	int err;

	for (t = 1; t < GMEM_ABI_TEST_MAX; t++)
		tests[t] = vmm_test_name((enum gmem_abi_test)t);
	err = cli_parse(argc, argv, opts, usage);
	if (err)
		return err;
	c->test = test;
	if (us_arg)
		c->conv_poll_us = us ? (int)us : VMM_CONV_POLL_OFF;
	/* The platform's contents: destroyed (destructive) or kept (in
	 * place); an explicit --mode must agree with it. */
	c->platform = (enum plat)plat;
	if (c->platform != PLAT_IDEAL) {
		unsigned int want = plat_destroys(c->platform) ? GMEM_MODE_DESTRUCTIVE :
								 GMEM_MODE_INPLACE;

		if (mode_arg && mode != want) {
			cli_err("--mode %s contradicts --platform %s, which %s contents on "
				"conversion (its mode is %s; leave --mode out)\n", mode_arg,
				plat_name(c->platform), plat_destroys(c->platform) ?
				"destroys" : "keeps", modes[want]);
			return -EINVAL;
		}
		mode = want;
		/* its call path: exitless ones through the queue */
		if (c->transport == VMM_TRANSPORT_AUTO && plat_exitless(c->platform))
			c->transport = VMM_TRANSPORT_QUEUE;
	}
	c->mode = mode;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct vmm_config cfg = { .vcpus = 1, .test = GMEM_ABI_TEST_HELLO,
				      .services = &harness_services };
	struct vmm_result res;
	char speed[160];
	struct vmm *vm;
	int err, i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--kernel"))
			return cmd_run_linux(argc, argv);
	err = parse(argc, argv, &cfg);
	if (err)
		return err > 0 ? 0 : 2;
	err = vmm_create(&cfg, &vm);
	if (err == -ENODEV) {
		cli_err("no usable /dev/kvm on this host "
			"(try tools/testvm build/gmemkit run ...)\n");
		return 2;
	}
	if (err == -EOPNOTSUPP && cfg.transport == VMM_TRANSPORT_HYPERCALL) {
		cli_err("--transport hypercall: this KVM does not "
			"offer KVM_HC_MAP_GPA_RANGE exits (KVM_CAP_EXIT_HYPERCALL)\n");
		return 2;
	}
	if (err) {
		cli_err("cannot create the VM: %s\n", strerror(-err));
		return 2;
	}
	if (cfg.transport == VMM_TRANSPORT_AUTO) {
		const char *why = "";

		vmm_probe_hypercall_exit(VMM_PROBE_TIMEOUT_MS, &why);
		fprintf(stderr, "gmemkit run: transport auto: %s\n", why);
	}
	fprintf(stderr, "gmemkit run: test %s, %u vCPU(s), %llu MiB %s (%s), transport %s, "
		"platform %s (%s)\n", vmm_test_name(cfg.test), cfg.vcpus,
		(unsigned long long)((cfg.mem_size ? cfg.mem_size : VMM_DEFAULT_MEM) >> 20),
		gmem_backend_name(vmm_memory(vm)),
		gmem_backing(vmm_memory(vm)) == GMEM_BACKING_GUEST_MEMFD ?
		"guest_memfd" : "memfd",
		vmm_transport_name(vmm_transport(vm)), plat_name(cfg.platform),
		cfg.mode == GMEM_MODE_DESTRUCTIVE ? "destructive" : "in place");
	err = vmm_run(vm, &res);
	vmm_destroy(vm);
	if (err) {
		cli_err("cannot run the VM: %s\n", strerror(-err));
		return 2;
	}
	vmm_speed_describe(&res.speed, speed, sizeof(speed));
	fprintf(stderr, "gmemkit run: guest ran %s\n", speed);
	fprintf(stderr, "gmemkit run: %s: %s\n", vmm_end_name(res.end), res.message);
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
