/* What every part of the micro-guest shares: limits, frames, failure. */
#ifndef MICRO_H
#define MICRO_H

#include "workloads.gen.h"       /* MICRO_MAX_VCPUS, from workloads.py */

#define PAGE_SIZE          4096
#define MICRO_STACK_SIZE   16384

#ifndef __ASSEMBLER__

#include <stdint.h>
#include "xen.h"

/*
 * Put after a struct's closing brace: its objects start a page and fill
 * whole pages, so no other object shares a page with them.
 */
#define PAGE_ALIGNED __attribute__((aligned(PAGE_SIZE)))

/* One stack per vCPU; vCPU 0 moves onto micro_stacks[0] in head.S. */
extern uint8_t micro_stacks[MICRO_MAX_VCPUS][MICRO_STACK_SIZE];

/* What the domain builder handed vCPU 0 (boot.c). */
extern const struct start_info *micro_start_info;

/*
 * Frames of a guest address.  The image is linked with virt_base 0, so the
 * builder maps pfn p at address p << 12 and start_info's mfn_list gives the
 * machine frame a 64-bit PV guest actually sees.
 */
static inline uint64_t micro_gfn(const volatile void *va)
{
    return (uint64_t)va >> 12;
}

static inline uint64_t micro_mfn(const volatile void *va)
{
    return ((const uint64_t *)micro_start_info->mfn_list)[micro_gfn(va)];
}

/* The guest frame holding machine frame mfn, or ~0 if the domain has none. */
uint64_t micro_gfn_of_mfn(uint64_t mfn);

/* Print "micro: FAIL <why>" and end the domain with SHUTDOWN_crash (vCPU 0). */
void micro_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static inline void cpu_relax(void)
{
    __asm__ volatile ("pause" ::: "memory");
}

/* Library routines gcc may call even in a freestanding build (lib.c). */
void *memset(void *dst, int c, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);
unsigned long strlen(const char *s);

/* FNV-1a, 64-bit: the digest the guest prints of its shared pages. */
#define FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t fnv1a64(uint64_t h, const void *data, unsigned long len);

#endif /* __ASSEMBLER__ */
#endif /* MICRO_H */
