/*
 * vCPU bring-up and the two points where all vCPUs meet, both counters in
 * the control page: the start barrier and the join (each other vCPU counts
 * itself out, then takes itself down). The join is through memory, not
 * through Xen (VCPUOP_is_up until the others are down): how often vCPU 0
 * asked Xen would depend on when the others got there, an input xenrr does
 * not log yet, where a counter in a shared page is ordered by CREW and so
 * replayed.
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

/* vCPU 0: wait until every other of the nr vCPUs has counted itself out. */
void smp_join(const uint32_t *left, unsigned int nr);

/* Any vCPU but 0: count itself out at *left, then leave for good (VCPUOP_down). */
void smp_exit(uint32_t *left, unsigned int id) __attribute__((noreturn));

#endif /* MICRO_SMP_H */
