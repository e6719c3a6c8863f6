/* The workloads (see workloads.h and README.md for what each one shows). */
#include "console.h"
#include "events.h"
#include "hypercall.h"
#include "micro.h"
#include "smp.h"
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

/*
 * timers: asynchronous inputs.  Each vCPU binds VIRQ_TIMER and an IPI port
 * to itself (events.c), runs a 1 ms periodic timer and loops: a unit of
 * work (TIMERS_WORK increments of its own counter, each a load, a spin and
 * a store), every TIMERS_SEND_EVERY iterations an IPI to the next vCPU in
 * the ring, every TIMERS_KICK_EVERY a one-shot timer set in the past (Xen
 * fires VIRQ_TIMER as soon as it can), every TIMERS_WAIT_EVERY a wait,
 * blocked in Xen, until the vCPU before it has come as far.  Its upcall
 * hashes each event's kind with the iteration it came in, so the hash
 * says when every event arrived and differs from run to run.  The
 * counters must end at iterations x TIMERS_WORK: an upcall that lands
 * between an increment's load and its store must give back every register
 * it found.
 *
 * No vCPU reads Xen's clock (the pvclock, the wallclock): xenrr does not
 * log them yet, and a value that decided a branch would make a replay
 * diverge.
 *
 * Waiting cannot hang.  Before each IPI it sends, a vCPU publishes in the
 * ring page how far it has come (TIMERS_DONE once it leaves its loop,
 * followed by a last IPI), and TIMERS_SEND_EVERY divides TIMERS_WAIT_EVERY:
 * a vCPU waits only for one that is behind it, so they cannot all wait at
 * once, and the IPI that follows the progress it waits for wakes it.  It
 * looks at that progress with its upcalls masked, so an IPI that comes
 * after the look is pending and SCHEDOP_block returns at once.  Nothing
 * else wakes it: Xen stops a vCPU's periodic timer while it is blocked.
 */

#define TIMERS_PERIOD_NS  1000000ull    /* the shortest period Xen takes */
#define TIMERS_WORK       4
#define TIMERS_SEND_EVERY 4
#define TIMERS_KICK_EVERY 64
#define TIMERS_WAIT_EVERY 16
#define TIMERS_DONE       (~0ull)

_Static_assert(TIMERS_WAIT_EVERY % TIMERS_SEND_EVERY == 0,
               "a vCPU publishes its progress where it waits");

enum { TIMERS_TICK, TIMERS_IPI };

/* Each vCPU's page: its loop, its upcalls and what vCPU 0 checks. */
static struct timers_vcpu {
    volatile uint64_t iteration;    /* the loop's, read by the upcall */
    volatile uint64_t counter;
    volatile uint64_t hash;         /* of (kind, iteration) of each event */
    volatile uint64_t ticks, ipis, blocks;
    uint32_t timer_port, ipi_port;
    long rc;                        /* of the first hypercall that failed */
} PAGE_ALIGNED timers_vcpus[MICRO_MAX_VCPUS];

/* What the vCPUs tell each other. */
static struct {
    uint32_t mapped;                /* vCPU 0 mapped the shared info page */
    uint32_t turn;                  /* the vCPU whose turn it is to bind */
    uint32_t bound;                 /* barrier: vCPUs done with setup */
    uint32_t ipi_port[MICRO_MAX_VCPUS];
    uint64_t progress[MICRO_MAX_VCPUS];
} PAGE_ALIGNED timers_ring;

static const struct region timers_regions[] = {
    { "ring", &timers_ring, 1, 0 },
    { "state", timers_vcpus, 1, 1 },
};

/* A hypercall's rc: nonzero fails the workload, the first one kept. */
static int timers_failed(unsigned int vcpu, const char *why, long rc)
{
    if ( rc == 0 )
        return 0;
    if ( timers_vcpus[vcpu].rc == 0 )
    {
        timers_vcpus[vcpu].rc = rc;
        workload_failed(vcpu, why);
    }
    return 1;
}

static void timers_event(unsigned int vcpu, uint32_t port)
{
    struct timers_vcpu *me = &timers_vcpus[vcpu];
    unsigned int kind = port == me->ipi_port ? TIMERS_IPI : TIMERS_TICK;

    if ( kind == TIMERS_IPI )
        me->ipis++;
    else
        me->ticks++;
    me->hash = me->hash * 31 + ((me->iteration << 1) | kind);
}

/*
 * vCPU 0 maps the shared info page; each binds its ports in turn, vCPU
 * order: which port a bind returns depends on the binds before it, which
 * nothing would order otherwise (xenrr does not log the numbers Xen gives
 * out). 1 if all went.
 */
static int timers_setup(unsigned int vcpu)
{
    struct timers_vcpu *me = &timers_vcpus[vcpu];
    struct vcpu_set_periodic_timer period = { .period_ns = TIMERS_PERIOD_NS };
    int bound;

    if ( vcpu == 0 )
    {
        if ( timers_failed(vcpu, "mapping the shared info page failed",
                           events_init()) )
            return 0;
        __atomic_store_n(&timers_ring.mapped, 1, __ATOMIC_RELEASE);
    }
    while ( !__atomic_load_n(&timers_ring.mapped, __ATOMIC_ACQUIRE) )
    {
        if ( workload_aborted() )
            return 0;
        cpu_relax();
    }
    while ( __atomic_load_n(&timers_ring.turn, __ATOMIC_ACQUIRE) != vcpu )
    {
        if ( workload_aborted() )
            return 0;
        cpu_relax();
    }
    bound = !timers_failed(vcpu, "HYPERVISOR_set_callbacks failed",
                           events_register(vcpu, timers_event)) &&
            !timers_failed(vcpu, "EVTCHNOP_bind_virq failed",
                           events_bind_virq(vcpu, VIRQ_TIMER,
                                            &me->timer_port)) &&
            !timers_failed(vcpu, "EVTCHNOP_bind_ipi failed",
                           events_bind_ipi(vcpu, &me->ipi_port));
    /* The next vCPU's turn, whatever happened: none may wait for ever. */
    __atomic_store_n(&timers_ring.turn, vcpu + 1, __ATOMIC_RELEASE);
    if ( !bound )
        return 0;
    timers_ring.ipi_port[vcpu] = me->ipi_port;
    return !timers_failed(vcpu, "VCPUOP_set_periodic_timer failed",
                          hyp_vcpu_op(VCPUOP_set_periodic_timer, vcpu,
                                      &period));
}

/* Publish how far vcpu has come, then wake the next vCPU: 1 on failure. */
static int timers_send(unsigned int vcpu, uint32_t port, uint64_t progress)
{
    __atomic_store_n(&timers_ring.progress[vcpu], progress, __ATOMIC_RELEASE);
    return timers_failed(vcpu, "EVTCHNOP_send failed", hyp_evtchn_send(port));
}

/* Wait until the vCPU before vcpu has come to iteration i: 1 on failure. */
static int timers_wait(unsigned int vcpu, unsigned int prev, uint64_t i)
{
    for ( ;; )
    {
        events_disable(vcpu);
        if ( __atomic_load_n(&timers_ring.progress[prev],
                             __ATOMIC_ACQUIRE) >= i )
        {
            events_enable(vcpu);
            return 0;
        }
        timers_vcpus[vcpu].blocks++;
        if ( timers_failed(vcpu, "SCHEDOP_block failed", events_block(vcpu)) )
            return 1;
    }
}

static void timers_loop(const struct run *run, unsigned int vcpu)
{
    struct timers_vcpu *me = &timers_vcpus[vcpu];
    unsigned int prev = (vcpu + run->nr_vcpus - 1) % run->nr_vcpus;
    uint32_t next_ipi = timers_ring.ipi_port[(vcpu + 1) % run->nr_vcpus];
    unsigned int j;
    uint64_t i;

    events_enable(vcpu);
    for ( i = 1; i <= run->iterations && !workload_aborted(); i++ )
    {
        me->iteration = i;
        for ( j = 0; j < TIMERS_WORK; j++ )
            racy_increment(&me->counter);
        if ( i % TIMERS_SEND_EVERY == 0 && timers_send(vcpu, next_ipi, i) )
            break;
        if ( i % TIMERS_KICK_EVERY == 0 &&
             timers_failed(vcpu, "set_timer_op failed", hyp_set_timer_op(1)) )
            break;
        if ( i % TIMERS_WAIT_EVERY == 0 && timers_wait(vcpu, prev, i) )
            break;
    }
    timers_send(vcpu, next_ipi, TIMERS_DONE);
}

/* Nothing may arrive after the workload: both timers off, upcalls masked. */
static void timers_stop(unsigned int vcpu)
{
    timers_failed(vcpu, "VCPUOP_stop_periodic_timer failed",
                  hyp_vcpu_op(VCPUOP_stop_periodic_timer, vcpu, 0));
    timers_failed(vcpu, "set_timer_op failed", hyp_set_timer_op(0));
    events_disable(vcpu);
}

static void timers_run(const struct run *run, unsigned int vcpu)
{
    int ready = timers_setup(vcpu);

    /*
     * Every vCPU comes, ready or not: the loop needs the next vCPU's port,
     * and none may wait for one whose setup failed.
     */
    smp_barrier(&timers_ring.bound, run->nr_vcpus);
    if ( !ready )
        return;
    if ( !workload_aborted() )
        timers_loop(run, vcpu);
    timers_stop(vcpu);
}

static const char *timers_check(const struct run *run)
{
    uint64_t hash = FNV1A64_INIT, ticks = 0, ipis = 0, h;
    const char *why = 0;
    unsigned int v;

    for ( v = 0; v < run->nr_vcpus; v++ )
    {
        const struct timers_vcpu *t = &timers_vcpus[v];

        say("result ticks%u=%lu ipis%u=%lu blocks%u=%lu rc%u=%ld", v,
            t->ticks, v, t->ipis, v, t->blocks, v, t->rc);
        h = t->hash;
        hash = fnv1a64(hash, &h, sizeof(h));
        ticks += t->ticks;
        ipis += t->ipis;
        if ( t->counter != run->iterations * TIMERS_WORK )
            why = "a vCPU's counter differs from iterations x work";
        else if ( !t->ticks )
            why = "a vCPU took no timer tick";
        else if ( !t->ipis )
            why = "a vCPU received no IPI";
    }
    say("result hash=%016lx ticks=%lu ipis=%lu", hash, ticks, ipis);
    return why;
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
