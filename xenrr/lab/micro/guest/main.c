/*
 * Boot and the run of one workload: vCPU 0 reads the command line, prints
 * the frames of every page more than one vCPU touches, starts the other
 * vCPUs, runs its share, joins them, checks, prints a digest of the shared
 * pages and shuts the domain down: poweroff on success, crash on failure.
 */
#include <stdarg.h>
#include "console.h"
#include "hypercall.h"
#include "micro.h"
#include "smp.h"
#include "workloads.h"

uint8_t micro_stacks[MICRO_MAX_VCPUS][MICRO_STACK_SIZE]
    __attribute__((aligned(PAGE_SIZE)));
const struct start_info *micro_start_info;

/* Written by vCPU 0 before the others start; the barrier counts in it. */
static struct {
    const struct workload *workload;
    struct run run;
    uint32_t arrived;
    uint32_t left;
    uint32_t abort;
} PAGE_ALIGNED control;

/* Each vCPU's verdict, read by vCPU 0 after the join. */
static struct report {
    const char *why;
} PAGE_ALIGNED reports[MICRO_MAX_VCPUS];

_Static_assert(sizeof(struct report) == PAGE_SIZE, "one report page per vCPU");

uint64_t micro_gfn_of_mfn(uint64_t mfn)
{
    const uint64_t *p2m = (const uint64_t *)micro_start_info->mfn_list;
    uint64_t gfn;

    for ( gfn = 0; gfn < micro_start_info->nr_pages; gfn++ )
        if ( p2m[gfn] == mfn )
            return gfn;
    return ~0ull;
}

void micro_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay("FAIL ", fmt, ap);
    va_end(ap);
    for ( ;; )
        hyp_shutdown(SHUTDOWN_crash);
}

void workload_failed(unsigned int vcpu, const char *why)
{
    reports[vcpu].why = why;
    __atomic_store_n(&control.abort, 1, __ATOMIC_RELEASE);
}

int workload_aborted(void)
{
    return __atomic_load_n(&control.abort, __ATOMIC_ACQUIRE);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * "WORKLOAD [iterations=N]": fills control.workload and control.run or
 * fails, naming what it could not take.
 */
static void parse_cmdline(const char *s)
{
    char word[32];
    unsigned long len = 0;

    while ( *s == ' ' )
        s++;
    for ( ; *s && *s != ' '; s++ )
        if ( len < sizeof(word) - 1 )
            word[len++] = *s;
    word[len] = '\0';
    if ( len == 0 )
        micro_fail("no workload on the command line");
    control.workload = workload_find(word, len);
    if ( !control.workload )
        micro_fail("unknown workload '%s'", word);
    control.run.iterations = control.workload->default_iterations;

    for ( ;; )
    {
        static const char key[] = "iterations=";
        uint64_t n = 0;

        while ( *s == ' ' )
            s++;
        if ( !*s )
            return;
        if ( memcmp(s, key, sizeof(key) - 1) )
            micro_fail("unknown argument '%s'", s);
        s += sizeof(key) - 1;
        if ( !is_digit(*s) )
            micro_fail("iterations needs a number");
        for ( ; is_digit(*s); s++ )
        {
            if ( n > (~0ull - 9) / 10 )
                micro_fail("iterations too large");
            n = n * 10 + (uint64_t)(*s - '0');
        }
        if ( *s && *s != ' ' )
            micro_fail("iterations needs a number");
        if ( n == 0 )
            micro_fail("iterations must be at least 1");
        control.run.iterations = n;
    }
}

static void say_page(const char *region, int vcpu, unsigned int index,
                     const volatile void *va)
{
    if ( vcpu < 0 )
        say("page region=%s index=%u gfn=0x%lx mfn=0x%lx va=0x%lx", region,
            index, micro_gfn(va), micro_mfn(va), (uint64_t)va);
    else
        say("page region=%s vcpu=%d index=%u gfn=0x%lx mfn=0x%lx va=0x%lx",
            region, vcpu, index, micro_gfn(va), micro_mfn(va), (uint64_t)va);
}

/* Call fn on every page of the workload's regions, in a fixed order. */
static void for_each_page(void (*fn)(const struct region *, int vcpu,
                                     unsigned int index,
                                     const volatile uint8_t *page))
{
    const struct workload *w = control.workload;
    unsigned int r, v, i;

    for ( r = 0; r < w->nr_regions; r++ )
    {
        const struct region *reg = &w->regions[r];
        const volatile uint8_t *base = reg->base;

        for ( v = 0; v < (reg->per_vcpu ? control.run.nr_vcpus : 1); v++ )
            for ( i = 0; i < reg->pages; i++ )
                fn(reg, reg->per_vcpu ? (int)v : -1, i,
                   base + ((uint64_t)v * reg->pages + i) * PAGE_SIZE);
    }
}

static void say_region_page(const struct region *reg, int vcpu,
                            unsigned int index, const volatile uint8_t *page)
{
    say_page(reg->name, vcpu, index, page);
}

static uint64_t digest;

static void digest_page(const struct region *reg, int vcpu,
                        unsigned int index, const volatile uint8_t *page)
{
    (void)reg, (void)vcpu, (void)index;
    digest = fnv1a64(digest, (const void *)page, PAGE_SIZE);
}

/* What every vCPU does between the start barrier and the join. */
static void run_share(unsigned int vcpu)
{
    smp_barrier(&control.arrived, control.run.nr_vcpus);
    control.workload->run(&control.run, vcpu);
}

void micro_vcpu_main(unsigned int vcpu)
{
    run_share(vcpu);
    smp_exit(&control.left, vcpu);
}

void micro_main(const struct start_info *si)
{
    const struct workload *w;
    const char *why = 0;
    unsigned int v;
    long rc;

    micro_start_info = si;
    console_init(si);
    parse_cmdline(si->cmd_line);
    w = control.workload;
    control.run.nr_vcpus = smp_count_vcpus();
    if ( control.run.nr_vcpus > MICRO_MAX_VCPUS )
        micro_fail("domain has more than %u vCPUs", MICRO_MAX_VCPUS);
    say("workload name=%s vcpus=%u iterations=%lu", w->name,
        control.run.nr_vcpus, control.run.iterations);
    if ( control.run.nr_vcpus < w->min_vcpus )
        micro_fail("%s needs at least %u vCPUs", w->name, w->min_vcpus);

    say_page("control", -1, 0, &control);
    for ( v = 0; v < control.run.nr_vcpus; v++ )
        say_page("report", (int)v, 0, &reports[v]);
    for_each_page(say_region_page);

    for ( v = 1; v < control.run.nr_vcpus; v++ )
        if ( (rc = smp_start_vcpu(v)) != 0 )
            micro_fail("starting vcpu %u failed: rc=%ld", v, rc);
    run_share(0);
    smp_join(&control.left, control.run.nr_vcpus);

    why = w->check(&control.run);
    digest = FNV1A64_INIT;
    for_each_page(digest_page);
    say("digest fnv1a64=%016lx", digest);
    for ( v = 0; v < control.run.nr_vcpus; v++ )
        if ( reports[v].why )
            micro_fail("vcpu %u: %s", v, reports[v].why);
    if ( why )
        micro_fail("%s", why);
    say("PASS");
    for ( ;; )
        hyp_shutdown(SHUTDOWN_poweroff);
}
