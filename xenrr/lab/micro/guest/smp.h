/*
 * vCPU bring-up and the two points where all vCPUs meet: the start barrier
 * (in the control page) and the join (through Xen: each other vCPU takes
 * itself down and vCPU 0 waits until Xen reports it down, so the join
 * touches no shared page).
 */
#ifndef MICRO_SMP_H
#define MICRO_SMP_H

#include <stdint.h>

/* The number of vCPUs the domain was created with (VCPUOP_is_up probing). */
unsigned int smp_count_vcpus(void);

/* Start vCPU id at micro_vcpu_entry (head.S) on its own stack; 0 or -errno. */
long smp_start_vcpu(unsigned int id);

/* Wait until all nr vCPUs have arrived at *arrived (one use per counter). */
void smp_barrier(uint32_t *arrived, unsigned int nr);

/* vCPU 0: wait until every other vCPU has taken itself down. */
void smp_join(unsigned int nr);

/* Any vCPU but 0: leave for good (VCPUOP_down on itself). */
void smp_exit(unsigned int id) __attribute__((noreturn));

#endif /* MICRO_SMP_H */
