// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit bench with a (small) guest I/O sweep: the io points reach
 * results.json, report.md, the .dat files behind the plots and the verdict;
 * on an emulated CPU everything says so.  Needs /dev/kvm (natively or in
 * the test VM through tools/kvm-tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "gmemkit/json.h"
#include "tap.h"

static bool kvm_usable(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	if (kvm < 0)
		return false;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return vm >= 0;
}

static bool file_has(const char *path, const char *needle)
{
	char *text = json_slurp(path);	/* any text file */
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

int main(void)
{
	const char *o = getenv("O") ? getenv("O") : "build";
	char dir[] = "/tmp/gmemkit-kvm-bench-XXXXXX", cmd[1024], path[512];
	struct json *res = NULL, *io, *host, *p;
	char *text;
	int rc, good = 0, n = 0, q = 0, db = 0, hc = 0;
	bool emulated;

	if (!kvm_usable())
		tap_skip_all("/dev/kvm not usable here (tools/kvm-tests runs this in the test VM)");
	tap_plan(9);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp failed");
	snprintf(cmd, sizeof(cmd),
		 "%s/gmemkit bench --quick --emulated-ok --modes shared,bounce,inplace "
		 "--bs 4k,64k --qd 4 --vcpus 1 --backends null --reps 2 --io-runtime 0.1 "
		 "--out %s > %s/stdout 2> %s/stderr", o, dir, dir, dir);
	rc = system(cmd);
	ok_eq(rc, 0, "bench with a 6-point guest sweep exits 0");

	snprintf(path, sizeof(path), "%s/results.json", dir);
	text = json_slurp(path);
	res = text ? json_parse(text, NULL) : NULL;
	free(text);
	ok(res != NULL, "results.json parses");
	io = json_get(res, "io");
	for (p = io ? io->child : NULL; p; p = p->next, n++) {
		bool inplace = !strcmp(json_str(p, "mode", ""), "inplace");
		const char *tr = json_str(p, "transport", "");

		good += json_num(p, "iops", 0) > 0 && json_len(json_get(p, "iops_runs")) == 2;
		q += inplace && !strcmp(tr, "queue");
		db += inplace && !strcmp(tr, "doorbell");
		hc += inplace && !strcmp(tr, "hypercall");
	}
	/* 6 points over the default transport; inplace also over each other
	 * usable one: queue, and doorbell where hypercall is the default. */
	ok(n == 6 + 2 * (1 + (hc > 0)) && good == n && q == 2 && db == 2,
	   "%d io points with IOPS and both runs kept (%d good); inplace over queue %d, "
	   "doorbell %d, hypercall %d", n, good, q, db, hc);
	host = json_get(res, "host");
	/* Emulated: the probe guest was measured not to run natively, or the
	 * host CPU itself is an emulator (the test VM). */
	emulated = json_num(host, "emulated", 0) != 0 ||
		   !json_num(host, "guest_native", 0);

	snprintf(path, sizeof(path), "%s/report.md", dir);
	ok(file_has(path, "## End to end") && file_has(path, "| 64 KiB |"),
	   "report.md has the end-to-end table");
	ok(file_has(path, "## In place per conversion transport") &&
	   file_has(path, "inplace / queue") && file_has(path, "| 64 KiB | queue |"),
	   "report.md has the per-transport table and cost split");
	ok(!emulated || file_has(path, "EMULATED GUEST"),
	   "an emulated run is labelled in the verdict (emulated: %s)", emulated ? "yes" : "no");
	snprintf(path, sizeof(path), "%s/io_by_size.dat", dir);
	ok(file_has(path, "# bs_kib"), "io_by_size.dat written for the plots");
	snprintf(path, sizeof(path), "%s/cost_split.dat", dir);
	ok(file_has(path, "\"inplace\" ") && file_has(path, "\"inplace/queue\" "),
	   "cost_split.dat has the in-place bars (default transport and queue)");
	snprintf(path, sizeof(path), "%s/stdout", dir);
	ok(file_has(path, "End to end (virtio-blk from the guest, null backend") &&
	   file_has(path, "qd 4, 1 vCPU"), "the terminal verdict covers the guest sweep");
	if (tap_failed) {
		snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s/stderr | tail -20", dir);
		if (system(cmd))
			diag("no stderr");
	}
	json_free(res);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		diag("could not remove %s", dir);
	return tap_done();
}
