// SPDX-License-Identifier: GPL-2.0
/*
 * Guest entry: vCPU 0 sets up (bss, IDT, results, clock) and releases the
 * others; every vCPU runs the selected test, reports its status in the
 * results page and on the done port; vCPU 0 reports the overall status
 * once every vCPU has finished.
 */
#include "guest.h"

extern char __bss_start[], __bss_end[];

/* In .data, not .bss: the application processors read them before and
 * while vCPU 0 clears the bss. */
static volatile int ap_go __attribute__((section(".data")));
static volatile unsigned int finished __attribute__((section(".data")));
static volatile unsigned int barrier_count __attribute__((section(".data")));
static volatile unsigned int barrier_gen __attribute__((section(".data")));

void guest_entry(uint64_t cpu, const volatile struct gmem_abi_boot_info *bi);

void smp_barrier(void)
{
	unsigned int gen = __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_ACQ_REL) ==
	    boot_info->nr_vcpus) {
		__atomic_store_n(&barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&barrier_gen, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE) == gen)
		cpu_relax();
}

#define GUEST_TEST_ENTRY(NAME, name, what)	[GMEM_ABI_TEST_##NAME] = test_##name,
static void (*const tests[GMEM_ABI_TEST_MAX])(unsigned int) = {
	GMEM_ABI_TESTS(GUEST_TEST_ENTRY)
};
#undef GUEST_TEST_ENTRY

/* Informational only: a PVM-style host runs us at hardware CPL 3 and
 * shows the real CS selector; nothing depends on it (the VMM tells us
 * what the host is in boot_info.pvm). */
static bool cs_rpl3(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return (cs & 3) == 3;
}

static bool boot_cpu_init(const volatile struct gmem_abi_boot_info *bi)
{
	uint64_t khz;

	memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
	idt_init();
	idt_load();
	results->magic = GMEM_ABI_MAGIC;
	results->status = GMEM_ABI_RES_RUNNING;
	results->flags = cs_rpl3() ? GMEM_ABI_RESF_CPL3 : 0;
	results->speed_mcycles = gmem_abi_speed_measure(GMEM_ABI_SPEED_REPS);
	if (bi->magic != GMEM_ABI_MAGIC || bi->version != GMEM_ABI_VERSION) {
		gprintf("guest: boot info magic 0x%x version %u, want 0x%x version %u\n",
			bi->magic, bi->version, GMEM_ABI_MAGIC, GMEM_ABI_VERSION);
		return false;
	}
	if (bi->nr_vcpus < 1 || bi->nr_vcpus > GMEM_ABI_MAX_VCPUS ||
	    bi->test >= GMEM_ABI_TEST_MAX || !tests[bi->test]) {
		gprintf("guest: bad boot info (vcpus %u test %u)\n", bi->nr_vcpus,
			bi->test);
		return false;
	}
	khz = clock_calibrate();
	results->tsc_khz = khz;
	GUEST_CHECK(khz > 1000, "TSC calibration gave %lu kHz", khz);
	return true;
}

void guest_entry(uint64_t cpu, const volatile struct gmem_abi_boot_info *bi)
{
	uint32_t status;
	bool ok = true;

	if (cpu == 0) {
		ok = boot_cpu_init(bi);
		__atomic_store_n(&ap_go, ok ? 1 : 2, __ATOMIC_RELEASE);
		if (!ok) {
			results->status = GMEM_ABI_RES_FAIL;
			outl(GMEM_ABI_PORT_DONE, GMEM_ABI_RES_FAIL);
			return;
		}
	} else {
		while (!__atomic_load_n(&ap_go, __ATOMIC_ACQUIRE))
			cpu_relax();
		if (ap_go != 1) {
			outl(GMEM_ABI_PORT_DONE, GMEM_ABI_RES_FAIL);
			return;
		}
		idt_load();
	}

	tests[bi->test]((unsigned int)cpu);

	status = guest_cpu_failures() ? GMEM_ABI_RES_FAIL : GMEM_ABI_RES_PASS;
	results->vcpu_status[cpu] = status;
	__atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
	if (cpu == 0) {
		while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) != bi->nr_vcpus)
			cpu_relax();
		results->status = results->failures || !results->checks ?
				  GMEM_ABI_RES_FAIL : GMEM_ABI_RES_PASS;
	}
	outl(GMEM_ABI_PORT_DONE, status);
}
