/* The workloads (see workloads.h and README.md for what each one shows). */
#include "console.h"
#include "micro.h"
#include "workloads.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Spin between the load and the store of a racy increment.  The window
 * makes the other vCPU's store land inside it often, even under QEMU TCG,
 * where a vCPU may run a whole translation block before another one
 * interleaves.
 */
#define RACE_WINDOW 64

/* counter = counter + 1 as a plain load, a short spin and a plain store. */
static void racy_increment(volatile uint64_t *counter)
{
    uint64_t v = *counter;
    unsigned int i;

    for ( i = 0; i < RACE_WINDOW; i++ )
        __asm__ volatile ("");
    *counter = v + 1;
}

/* race: every vCPU increments one counter without atomics. */

static struct {
    volatile uint64_t counter;
} PAGE_ALIGNED race_page;

static const struct region race_regions[] = {
    { "counter", &race_page, 1, 0 },
};

static void race_run(const struct run *run, unsigned int vcpu)
{
    uint64_t i;

    (void)vcpu;
    for ( i = 0; i < run->iterations; i++ )
        racy_increment(&race_page.counter);
}

static const char *race_check(const struct run *run)
{
    uint64_t expected = run->iterations * run->nr_vcpus;
    uint64_t counter = race_page.counter;

    say("result counter=%lu expected=%lu lost=%lu", counter, expected,
        expected - counter);
    /* Lost updates are the point; more than expected or none is not. */
    if ( counter > expected || counter == 0 )
        return "race counter out of range";
    return 0;
}

/* locked: the same increments under a spinlock on the counter's page. */

static struct {
    uint32_t lock;
    volatile uint64_t counter;
} PAGE_ALIGNED locked_page;

static const struct region locked_regions[] = {
    { "counter", &locked_page, 1, 0 },
};

static void spin_lock(uint32_t *lock)
{
    while ( __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) )
        while ( __atomic_load_n(lock, __ATOMIC_RELAXED) )
            cpu_relax();
}

static void spin_unlock(uint32_t *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static void locked_run(const struct run *run, unsigned int vcpu)
{
    uint64_t i;

    (void)vcpu;
    for ( i = 0; i < run->iterations; i++ )
    {
        spin_lock(&locked_page.lock);
        racy_increment(&locked_page.counter);
        spin_unlock(&locked_page.lock);
    }
}

static const char *locked_check(const struct run *run)
{
    uint64_t expected = run->iterations * run->nr_vcpus;
    uint64_t counter = locked_page.counter;

    say("result counter=%lu expected=%lu", counter, expected);
    if ( counter != expected )
        return "locked counter differs from vcpus x iterations";
    if ( locked_page.lock )
        return "lock still held after the join";
    return 0;
}

/*
 * pingpong: vCPU 0 writes round k into the ping page, vCPU 1 answers with k
 * in the pong page; each side checks the payload the other wrote with it.
 * Other vCPUs sit it out.
 */

#define PAYLOAD_WORDS 7

struct token_page {
    uint64_t token;
    uint64_t payload[PAYLOAD_WORDS];
} PAGE_ALIGNED;

static struct token_page ping_page, pong_page;

static const struct region pingpong_regions[] = {
    { "ping", &ping_page, 1, 0 },
    { "pong", &pong_page, 1, 0 },
};

static uint64_t payload_word(uint64_t round, unsigned int side, unsigned int j)
{
    return (round << 8) | (side << 4) | j;
}

static void send(struct token_page *p, uint64_t round, unsigned int side)
{
    unsigned int j;

    for ( j = 0; j < PAYLOAD_WORDS; j++ )
        p->payload[j] = payload_word(round, side, j);
    __atomic_store_n(&p->token, round, __ATOMIC_RELEASE);
}

/* Wait for round on p and check its payload; 0, or 1 after a failure. */
static int receive(struct token_page *p, uint64_t round, unsigned int side,
                   unsigned int vcpu)
{
    uint64_t seen;
    unsigned int j;

    while ( (seen = __atomic_load_n(&p->token, __ATOMIC_ACQUIRE)) < round )
    {
        if ( workload_aborted() )
            return 1;
        cpu_relax();
    }
    if ( seen != round )
    {
        workload_failed(vcpu, "pingpong token skipped a round");
        return 1;
    }
    for ( j = 0; j < PAYLOAD_WORDS; j++ )
        if ( p->payload[j] != payload_word(round, side, j) )
        {
            workload_failed(vcpu, "pingpong payload differs from its token");
            return 1;
        }
    return 0;
}

static void pingpong_run(const struct run *run, unsigned int vcpu)
{
    uint64_t k;

    for ( k = 1; k <= run->iterations; k++ )
    {
        if ( vcpu == 0 )
        {
            send(&ping_page, k, 0);
            if ( receive(&pong_page, k, 1, vcpu) )
                return;
        }
        else if ( vcpu == 1 )
        {
            if ( receive(&ping_page, k, 0, vcpu) )
                return;
            send(&pong_page, k, 1);
        }
    }
}

static const char *pingpong_check(const struct run *run)
{
    say("result rounds=%lu ping=%lu pong=%lu", run->iterations,
        ping_page.token, pong_page.token);
    if ( ping_page.token != run->iterations ||
         pong_page.token != run->iterations )
        return "pingpong stopped short of its rounds";
    return 0;
}

/* falseshare: each vCPU counts in its own word of one shared page. */

static struct {
    volatile uint64_t word[MICRO_MAX_VCPUS];
} PAGE_ALIGNED falseshare_page;

static const struct region falseshare_regions[] = {
    { "words", &falseshare_page, 1, 0 },
};

static void falseshare_run(const struct run *run, unsigned int vcpu)
{
    uint64_t i;

    for ( i = 0; i < run->iterations; i++ )
        falseshare_page.word[vcpu] = falseshare_page.word[vcpu] + 1;
}

static const char *falseshare_check(const struct run *run)
{
    uint64_t total = 0;
    unsigned int v;
    const char *why = 0;

    for ( v = 0; v < run->nr_vcpus; v++ )
    {
        total += falseshare_page.word[v];
        if ( falseshare_page.word[v] != run->iterations )
            why = "a vCPU's own word lost a write";
    }
    say("result total=%lu expected=%lu", total,
        run->iterations * run->nr_vcpus);
    return why;
}

/*
 * private: each vCPU fills its own pages with the same sequence, so all
 * of them must end identical; no page is shared after the start barrier.
 */

#define PRIVATE_PAGES 2
#define PRIVATE_WORDS (PRIVATE_PAGES * PAGE_SIZE / 8)

static struct {
    uint64_t word[PRIVATE_WORDS];
} PAGE_ALIGNED private_pages[MICRO_MAX_VCPUS];

static const struct region private_regions[] = {
    { "private", private_pages, PRIVATE_PAGES, 1 },
};

static void private_run(const struct run *run, unsigned int vcpu)
{
    uint64_t *w = private_pages[vcpu].word;
    uint64_t i;

    for ( i = 0; i < run->iterations; i++ )
        w[i % PRIVATE_WORDS] = w[i % PRIVATE_WORDS] * 6364136223846793005ull + i;
}

static const char *private_check(const struct run *run)
{
    unsigned int v;

    say("result checksum=%016lx",
        fnv1a64(FNV1A64_INIT, &private_pages[0], sizeof(private_pages[0])));
    for ( v = 1; v < run->nr_vcpus; v++ )
        if ( memcmp(&private_pages[v], &private_pages[0],
                    sizeof(private_pages[0])) )
            return "private pages of two vCPUs differ";
    return 0;
}

/*
 * compute: a long register-only loop (xorshift64*), then one store of the
 * result; a vCPU that rarely enters Xen and barely touches memory.
 */

static struct {
    volatile uint64_t value[MICRO_MAX_VCPUS];
} PAGE_ALIGNED compute_page;

static const struct region compute_regions[] = {
    { "results", &compute_page, 1, 0 },
};

static void compute_run(const struct run *run, unsigned int vcpu)
{
    uint64_t x = 0x9e3779b97f4a7c15ull, i;

    for ( i = 0; i < run->iterations; i++ )
    {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x *= 0x2545f4914f6cdd1dull;
    }
    compute_page.value[vcpu] = x;
}

static const char *compute_check(const struct run *run)
{
    unsigned int v;

    say("result value=%016lx", compute_page.value[0]);
    for ( v = 1; v < run->nr_vcpus; v++ )
        if ( compute_page.value[v] != compute_page.value[0] )
            return "two vCPUs computed different values";
    return 0;
}

/*
 * branches: each vCPU stores one word into its own "before" page, retires
 * exactly `iterations` conditional branches, then stores one word into its
 * own "after" page.  Both stores are the first touch of their page, so
 * Xen sees one fault at each and logs the vCPU's position there; between
 * the two, the guest retires the loop's branches and nothing else.  The
 * whole sequence is one asm block, so the compiler can add nothing to it:
 *
 *   micro_branches_before:  movq %n, (%before)   rcx = iterations
 *   1:                      decq %rcx
 *                           jnz  1b              iterations Jcc, taken or not
 *   micro_branches_after:   movq %n, (%after)    rcx = 0
 *
 * The two global labels are the rips of the two faulting stores (the ELF is
 * linked at its run address); the check prints them.
 */

static struct {
    volatile uint64_t word;
} PAGE_ALIGNED branches_before[MICRO_MAX_VCPUS], branches_after[MICRO_MAX_VCPUS];

static const struct region branches_regions[] = {
    { "before", branches_before, 1, 1 },
    { "after", branches_after, 1, 1 },
};

extern const char micro_branches_before[], micro_branches_after[];

/*
 * One copy only: the labels are global, so a second copy of the asm would
 * not assemble.  n >= 1 (the command line refuses 0): rcx counts it down
 * to 0, one jnz per step, the last one not taken.
 */
static void __attribute__((noinline, noclone))
branches_between(volatile uint64_t *before, volatile uint64_t *after,
                 uint64_t n)
{
    uint64_t rcx = n;

    __asm__ volatile (
        ".globl micro_branches_before\n"
        "micro_branches_before:\n\t"
        "movq %[n], (%[before])\n"
        "1:\n\t"
        "decq %[rcx]\n\t"
        "jnz 1b\n"
        ".globl micro_branches_after\n"
        "micro_branches_after:\n\t"
        "movq %[n], (%[after])"
        : [rcx] "+&c" (rcx)
        : [before] "r" (before), [after] "r" (after), [n] "r" (n)
        : "cc", "memory");
}

static void branches_run(const struct run *run, unsigned int vcpu)
{
    branches_between(&branches_before[vcpu].word, &branches_after[vcpu].word,
                     run->iterations);
}

static const char *branches_check(const struct run *run)
{
    unsigned int v;

    say("result branches=%lu before_rip=0x%lx after_rip=0x%lx",
        run->iterations, (uint64_t)micro_branches_before,
        (uint64_t)micro_branches_after);
    for ( v = 0; v < run->nr_vcpus; v++ )
        if ( branches_before[v].word != run->iterations ||
             branches_after[v].word != run->iterations )
            return "a vCPU's before or after word differs from iterations";
    return 0;
}

/*
 * tsc: each vCPU reads the time stamp counter `iterations` times. What it
 * reads decides how long it spins before the next read (up to 63 pauses)
 * and goes into a digest of its own; every read is followed by a racy
 * increment of one shared counter. Both the digests and the counter depend
 * on when the vCPUs ran, so the outcome differs from run to run; a replay
 * must give every read the value it had when recorded. A vCPU's TSC never
 * goes back (Xen emulates it for a recorded domain).
 */

static struct {
    volatile uint64_t digest[MICRO_MAX_VCPUS];
    volatile uint64_t counter;
} PAGE_ALIGNED tsc_page;

static const struct region tsc_regions[] = {
    { "reads", &tsc_page, 1, 0 },
};

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((uint64_t)hi << 32) | lo;
}

static void tsc_run(const struct run *run, unsigned int vcpu)
{
    uint64_t h = FNV1A64_INIT, last = 0, i, t, spin;

    for ( i = 0; i < run->iterations; i++ )
    {
        t = read_tsc();
        if ( t < last )
        {
            workload_failed(vcpu, "the TSC went back");
            return;
        }
        h = fnv1a64(h, &t, sizeof(t));
        for ( spin = t & 63; spin; spin-- )
            cpu_relax();
        racy_increment(&tsc_page.counter);
        last = t;
    }
    tsc_page.digest[vcpu] = h;
}

static const char *tsc_check(const struct run *run)
{
    uint64_t expected = run->iterations * run->nr_vcpus;
    uint64_t counter = tsc_page.counter;

    say("result reads=%016lx counter=%lu expected=%lu",
        fnv1a64(FNV1A64_INIT, (const void *)tsc_page.digest,
                sizeof(tsc_page.digest)), counter, expected);
    if ( counter > expected || counter == 0 )
        return "tsc counter out of range";
    return 0;
}

#define WORKLOAD(name, min_vcpus, iterations) \
    { #name, min_vcpus, iterations, name##_regions, \
      ARRAY_SIZE(name##_regions), name##_run, name##_check },

static const struct workload workloads[] = {
    MICRO_WORKLOADS(WORKLOAD)
};

const struct workload *workload_find(const char *name, unsigned long len)
{
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(workloads); i++ )
        if ( strlen(workloads[i].name) == len &&
             !memcmp(workloads[i].name, name, len) )
            return &workloads[i];
    return 0;
}
