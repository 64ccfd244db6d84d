// SPDX-License-Identifier: GPL-2.0
/*
 * gmemkit probe: what the host offers and what gmemkit will use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gmemkit/json.h"
#include "gmemkit/probe.h"
#include "gmemkit/vm.h"

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

/* Do KVM_HC_MAP_GPA_RANGE exits really reach userspace?  (A throwaway VM,
 * bounded by a timeout: vmm/transport.c.) */
static int hc_probe;
static const char *hc_why = "";
static int q_probe;
static const char *q_why = "";
static struct vmm_speed speed;
static int speed_err;

static const char *hc_word(void)
{
	if (hc_probe < 0)
		return "not probed";
	return hc_probe == VMM_PROBE_YES ? "yes" :
	       hc_probe == VMM_PROBE_NO ? "no" : "unknown";
}

/* What --transport auto resolves to on this host. */
static const char *auto_transport(void)
{
	return vmm_transport_name(hc_probe == VMM_PROBE_YES ? VMM_TRANSPORT_HYPERCALL :
							      VMM_TRANSPORT_DOORBELL);
}

static void print_transport_text(void)
{
	char desc[200];

	if (hc_probe < 0) {
		printf("  conversion transport %s (hypercall exit probe not run: %s)\n",
		       auto_transport(), hc_why);
		return;
	}
	vmm_speed_describe(&speed, desc, sizeof(desc));
	printf("  guest execution      %s\n", desc);
	if (speed.measured && !speed.native)
		printf("                       (guest figures from this host are functional only, not a verdict)\n");
	printf("  hypercall exits      %s (%s)\n", hc_word(), hc_why);
	printf("  conversion transport %s\n", auto_transport());
	printf("  queue transport      %s (%s; --transport queue: no userspace exit "
	       "per conversion)\n", q_probe == 1 ? "yes" : "no",
	       q_probe == -ENODEV ? "no usable /dev/kvm" : q_why);
}

/* The models usable here, comma separated ("none" if none). */
static const char *models_list(const struct probe_host_caps *c)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s", c->model_lazy ? "lazy" : "",
		 c->model_lazy && c->model_eager ? "," : "", c->model_eager ? "eager" : "",
		 (c->model_lazy || c->model_eager) && c->model_huge ? "," : "",
		 c->model_huge ? "huge" : "");
	if (!buf[0])
		snprintf(buf, sizeof(buf), "none");
	return buf;
}

static void print_model_line(const struct probe_host_caps *c, const char *name,
			     enum probe_model m, bool ok, const char *what)
{
	char why[256];

	probe_model_why(c, m, why, sizeof(why));
	printf("  %-20s %s (%s)%s%s\n", name, yesno(ok), what, ok ? "" : ": ", why);
}

static void print_models_text(const struct probe_host_caps *c)
{
	printf("conversion models (each tried: a region created, a page shared, written, unshared)\n");
	if (c->uffd)
		printf("  userfaultfd          yes (features 0x%llx: SIGBUS mode %s, minor "
		       "faults on shmem %s, on hugetlbfs %s)\n",
		       (unsigned long long)c->uffd_features, yesno(c->uffd_sigbus),
		       yesno(c->uffd_minor_shmem), yesno(c->uffd_minor_hugetlbfs));
	else
		printf("  userfaultfd          no (%s)\n", strerror(c->uffd_errno));
	if (c->huge_2m_total < 0)
		printf("  2 MiB huge pages     none on this kernel\n");
	else
		printf("  2 MiB huge pages     %ld reserved, %ld free, %ld promised to mappings "
		       "(vm.nr_hugepages = %ld, default huge page %ld kB)\n", c->huge_2m_total,
		       c->huge_2m_free, c->huge_2m_resv, c->nr_hugepages, c->huge_default_kb);
	print_model_line(c, "lazy", PROBE_MODEL_LAZY, c->model_lazy,
			 "mprotect of the host view; first touch faults a page in");
	print_model_line(c, "eager", PROBE_MODEL_EAGER, c->model_eager,
			 "memfd, one userfaultfd mapping; a share maps the run");
	print_model_line(c, "huge", PROBE_MODEL_HUGE, c->model_huge,
			 "eager on a hugetlb memfd, 2 MiB granule");
}

static void print_text(const struct probe_host_caps *c)
{
	printf("host\n");
	printf("  kernel               %s\n", c->kernel);
	printf("  cpu                  %s\n", c->cpu_model);
	printf("  emulated             %s%s\n", yesno(c->emulated),
	       c->emulated ? " (numbers from here are functional only, not a verdict)" : "");
	printf("  io_uring             %s\n", yesno(c->io_uring));
	printf("kvm\n");
	if (!c->kvm) {
		printf("  /dev/kvm             no (%s)\n", strerror(c->kvm_errno));
	} else {
		printf("  /dev/kvm             yes (api %d)\n", c->api_version);
		printf("  vm types             0x%llx\n", (unsigned long long)c->vm_types);
		printf("  user_memory2         %s\n", yesno(c->user_memory2));
		printf("  ioeventfd            %s\n", yesno(c->ioeventfd));
		printf("  exit_hypercall       %s (cap mask 0x%llx)\n", yesno(c->exit_hypercall),
		       (unsigned long long)c->hypercall_mask);
		printf("guest_memfd\n");
		printf("  create               %s%s%s\n", yesno(c->guest_memfd),
		       c->guest_memfd ? "" : ": ",
		       c->guest_memfd ? "" : strerror(c->guest_memfd_errno));
		printf("  flags cap            0x%llx\n", (unsigned long long)c->guest_memfd_flags);
		printf("  mmap                 %s\n", yesno(c->guest_memfd_mmap));
		printf("  memslot              %s\n", yesno(c->guest_memfd_slot));
		printf("memory attributes\n");
		printf("  cap                  0x%llx\n", (unsigned long long)c->memory_attributes);
		printf("  set_memory_attributes %s\n", yesno(c->set_memory_attributes));
	}
	print_models_text(c);
	printf("gmemkit will use\n");
	printf("  guest memory         %s\n", probe_backing(c));
	print_transport_text();
	printf("  conversion models    %s (lazy: hostview backend, mprotect of the host view; "
	       "eager: uffd backend, memfd only)%s\n", models_list(c),
	       c->set_memory_attributes ?
	       "; KVM memory attributes available but no backend built" : "");
}

/* key: whether a facility works; err_key: why not ("" when it does). */
static void works_json(struct json_w *w, const char *key, const char *err_key, bool ok,
		       int err)
{
	json_w_bool(w, key, ok);
	json_w_str(w, err_key, ok ? "" : strerror(err));
}

/* The userfaultfd, huge-page and model keys. */
static void print_models_json(struct json_w *w, const struct probe_host_caps *c)
{
	char why[3][256];

	probe_model_why(c, PROBE_MODEL_LAZY, why[0], sizeof(why[0]));
	probe_model_why(c, PROBE_MODEL_EAGER, why[1], sizeof(why[1]));
	probe_model_why(c, PROBE_MODEL_HUGE, why[2], sizeof(why[2]));
	works_json(w, "uffd", "uffd_error", c->uffd, c->uffd_errno);
	json_w_u64(w, "uffd_features", c->uffd_features);
	json_w_bool(w, "uffd_sigbus", c->uffd_sigbus);
	json_w_bool(w, "uffd_minor_shmem", c->uffd_minor_shmem);
	json_w_bool(w, "uffd_minor_hugetlbfs", c->uffd_minor_hugetlbfs);
	json_w_i64(w, "huge_page_default_kb", c->huge_default_kb);
	json_w_i64(w, "nr_hugepages", c->nr_hugepages);
	json_w_i64(w, "huge_2m_total", c->huge_2m_total);
	json_w_i64(w, "huge_2m_free", c->huge_2m_free);
	json_w_i64(w, "huge_2m_resv", c->huge_2m_resv);
	json_w_bool(w, "model_lazy", c->model_lazy);
	json_w_str(w, "model_lazy_why", why[0]);
	json_w_bool(w, "model_eager", c->model_eager);
	json_w_str(w, "model_eager_why", why[1]);
	json_w_bool(w, "model_huge", c->model_huge);
	json_w_bool(w, "model_huge_tried", c->model_huge_tried);
	json_w_str(w, "model_huge_why", why[2]);
	json_w_str(w, "models", models_list(c));
}

/* KVM and guest_memfd: what the host offers. */
static void print_kvm_json(struct json_w *w, const struct probe_host_caps *c)
{
	works_json(w, "kvm", "kvm_error", c->kvm, c->kvm_errno);
	json_w_i64(w, "api_version", c->api_version);
	json_w_u64(w, "vm_types", c->vm_types);
	json_w_bool(w, "user_memory2", c->user_memory2);
	json_w_bool(w, "ioeventfd", c->ioeventfd);
	json_w_bool(w, "exit_hypercall", c->exit_hypercall);
	json_w_u64(w, "hypercall_mask", c->hypercall_mask);
	json_w_bool(w, "guest_memfd", c->guest_memfd);
	json_w_u64(w, "guest_memfd_flags", c->guest_memfd_flags);
	json_w_bool(w, "guest_memfd_mmap", c->guest_memfd_mmap);
	json_w_bool(w, "guest_memfd_memslot", c->guest_memfd_slot);
	json_w_u64(w, "memory_attributes", c->memory_attributes);
	json_w_bool(w, "set_memory_attributes", c->set_memory_attributes);
}

static void print_json(const struct probe_host_caps *c)
{
	struct json_w w;

	json_w_init(&w, stdout);
	json_w_obj(&w, NULL);
	json_w_str(&w, "kernel", c->kernel);
	json_w_str(&w, "cpu", c->cpu_model);
	json_w_bool(&w, "emulated", c->emulated);
	json_w_bool(&w, "io_uring", c->io_uring);
	print_kvm_json(&w, c);
	json_w_str(&w, "backing", c->guest_memfd_mmap ? "guest_memfd" : "memfd");
	json_w_str(&w, "backend", "hostview");
	json_w_i64(&w, "hypercall_exit_probe", hc_probe);
	json_w_str(&w, "hypercall_exits", hc_word());
	json_w_str(&w, "hypercall_exit_why", hc_why);
	json_w_bool(&w, "guest_speed_measured", speed.measured);
	json_w_bool(&w, "guest_native", speed.native);
	json_w_bool(&w, "pvm", speed.pvm);
	json_w_fixed(&w, "guest_cycles_per_iter", speed.guest_mcycles / 1000.0, 3);
	json_w_fixed(&w, "host_cycles_per_iter", speed.host_mcycles / 1000.0, 3);
	json_w_str(&w, "transport", auto_transport());
	json_w_bool(&w, "queue", q_probe == 1);
	json_w_str(&w, "queue_why", q_probe == -ENODEV ? "no usable /dev/kvm" : q_why);
	print_models_json(&w, c);
	json_w_end(&w);
	putchar('\n');
}

static void usage(FILE *f, const struct cli_opt *opts)
{
	cli_usage(f, "gmemkit probe", opts,
		  "what the host offers (KVM, guest_memfd, hypercall exits, the "
		  "conversion queue, guest speed) and what gmemkit will use", NULL);
}

static int cmd_probe(int argc, char **argv)
{
	struct probe_host_caps caps;
	bool json = false;
	const struct cli_opt opts[] = {
		CLI_FLAG("--json", &json, .help = "one JSON object instead of the text"),
		{ 0 }
	};
	int err = cli_parse(argc, argv, opts, usage);

	if (err)
		return err > 0 ? 0 : 2;
	probe_host(&caps);
	hc_probe = vmm_probe_hypercall_exit(VMM_PROBE_TIMEOUT_MS, &hc_why);
	if (hc_probe == -ENODEV)
		hc_why = "no usable /dev/kvm";
	else if (hc_probe < 0 && !hc_why[0])
		hc_why = strerror(-hc_probe);
	speed_err = vmm_probe_guest_speed(&speed);
	(void)speed_err;	/* speed.measured says it all */
	q_probe = vmm_probe_queue(&q_why);
	if (json)
		print_json(&caps);
	else
		print_text(&caps);
	return 0;
}

GMEM_COMMAND("probe", cmd_probe, "what the host offers and what gmemkit will use");
