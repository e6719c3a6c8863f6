/*
 * The PMU test kernel: checks the lab CPU's branch counter without Xen.
 *
 * It programs PERF_CTL0/PERF_CTR0 (AMD's legacy counter 0), runs the
 * routines of branches.S at CPL 0 or CPL 3 and prints, one line each, what
 * the counter said; xenrr/lab/baremetal/run.py parses the lines and the
 * tests decide what is right.  The command line (multiboot) chooses:
 *   ns=N,N,...   the branch counts of the counting and rdpmc checks
 *   ks=K,K,...   how far below 2^48 the overflow checks preset the counter
 *   margin=M     branches each overflow check runs past its K
 *   bench=I      instead: time I iterations of a loop, counter off...
 *   counting=1   ...or counting its branches (OS, at CPL 0)
 * It ends QEMU through isa-debug-exit: 0x10 when done, 0x11 on a fault
 * it did not expect (QEMU exits with status 33 or 35).
 */

#include <stdint.h>

#include "branches.h"

#define COM1            0x3f8
#define DEBUG_EXIT      0xf4
#define EXIT_DONE       0x10
#define EXIT_FAULT      0x11

#define LAPIC           0xfee00000u
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_LVTPC     0x340
#define LVT_MASKED      (1u << 16)
#define LVT_NMI         (4u << 8)

#define PMI_VECTOR      0xf0
#define SPURIOUS_VECTOR 0xff
#define USER_EXIT       0x80

#define MSR_PERF_CTL0   0xc0010000u
#define MSR_PERF_CTR0   0xc0010004u
#define CTL_USR         (1ull << 16)
#define CTL_OS          (1ull << 17)
#define CTL_INT         (1ull << 20)
#define CTL_EN          (1ull << 22)
#define CTL_GUESTONLY   (1ull << 40)
#define CTL_HOSTONLY    (1ull << 41)
#define EV_BRANCHES     0xd1ull
#define COUNTER_WRAP    (1ull << 48)

#define CR0_MP          (1u << 1)
#define CR0_EM          (1u << 2)
#define CR0_TS          (1u << 3)
#define CR0_NE          (1u << 5)
#define CR4_PCE         (1u << 8)

#define MAX_LIST        16

struct frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error, eip, cs, eflags;
};

struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

/* Shared with branches.S and head.S. */
uint32_t arg_n;
uint64_t pmu_ctl;
uint64_t rdpmc_value;
uint32_t bench_acc;
extern char interrupt_stack_top[];
uint32_t run_user(void (*fn)(void));
__attribute__((noreturn)) void user_return(uint32_t value);

/* ---- port I/O, MSRs, control registers, the local APIC ---- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t read_cr0(void)
{
    uint32_t v;

    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline void write_cr0(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v));
}

static inline uint32_t read_cr4(void)
{
    uint32_t v;

    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void write_cr4(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(LAPIC + reg) = v;
}

/* ---- the serial line ---- */

static void out_char(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) {
    }
    outb(COM1, c);
}

static void out_str(const char *s)
{
    while (*s) {
        out_char(*s++);
    }
}

static void puthex(uint64_t v)
{
    int shift = 60;

    out_str("0x");
    while (shift > 0 && !((v >> shift) & 0xf)) {
        shift -= 4;
    }
    for (; shift >= 0; shift -= 4) {
        out_char("0123456789abcdef"[(v >> shift) & 0xf]);
    }
}

/* " key=0x..." */
static void field(const char *key, uint64_t v)
{
    out_char(' ');
    out_str(key);
    out_char('=');
    puthex(v);
}

static void label(const char *key, const char *v)
{
    out_char(' ');
    out_str(key);
    out_char('=');
    out_str(v);
}

static __attribute__((noreturn)) void finish(uint8_t code)
{
    outb(DEBUG_EXIT, code);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* ---- descriptor tables ---- */

static uint64_t gdt[6];
static uint64_t idt[256];
static uint32_t tss[26];

extern char isr_0[], isr_1[], isr_2[], isr_3[], isr_4[], isr_5[], isr_6[], isr_7[],
    isr_8[], isr_9[], isr_10[], isr_11[], isr_12[], isr_13[], isr_14[], isr_16[],
    isr_17[], isr_18[], isr_19[], isr_128[], isr_240[], isr_255[];

static void set_gate(int vector, char *stub, int dpl)
{
    uint32_t a = (uint32_t)stub;

    idt[vector] = (a & 0xffff) | (0x08u << 16) |
                  ((uint64_t)(0x8e00 | (dpl << 13) | (a & 0xffff0000u)) << 32);
}

static void setup_cpu(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr, idtr;
    uint32_t t = (uint32_t)tss;
    static char *const stubs[] = {
        isr_0, isr_1, isr_2, isr_3, isr_4, isr_5, isr_6, isr_7, isr_8, isr_9,
        isr_10, isr_11, isr_12, isr_13, isr_14, 0, isr_16, isr_17, isr_18, isr_19,
    };
    int i;

    gdt[1] = 0x00cf9a000000ffffull;     /* 0x08 kernel code */
    gdt[2] = 0x00cf92000000ffffull;     /* 0x10 kernel data */
    gdt[3] = 0x00cffa000000ffffull;     /* 0x1b user code */
    gdt[4] = 0x00cff2000000ffffull;     /* 0x23 user data (also ds, es: flat) */
    gdt[5] = (sizeof(tss) - 1) | ((uint64_t)(t & 0xffffff) << 16) |
             (0x89ull << 40) | ((uint64_t)(t >> 24) << 56);
    tss[1] = (uint32_t)interrupt_stack_top;     /* esp0 */
    tss[2] = 0x10;                              /* ss0 */
    tss[25] = sizeof(tss) << 16;                /* no I/O bitmap */
    for (i = 0; i < 20; i++) {
        if (stubs[i]) {
            set_gate(i, stubs[i], 0);
        }
    }
    set_gate(USER_EXIT, isr_128, 3);
    set_gate(PMI_VECTOR, isr_240, 0);
    set_gate(SPURIOUS_VECTOR, isr_255, 0);

    gdtr.limit = sizeof(gdt) - 1;
    gdtr.base = (uint32_t)gdt;
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uint32_t)idt;
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp $0x08, $1f\n"
                     "1:\tmov $0x23, %%ax\n\t"
                     "mov %%ax, %%ds\n\tmov %%ax, %%es\n\t"
                     "mov %%ax, %%fs\n\tmov %%ax, %%gs\n\t"
                     "mov $0x10, %%ax\n\tmov %%ax, %%ss\n\t"
                     "mov $0x28, %%ax\n\tltr %%ax\n\t"
                     "lidt %1"
                     : : "m"(gdtr), "m"(idtr) : "eax", "memory");

    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    outb(0x21, 0xff);                   /* mask both PICs: nothing but PMIs */
    outb(0xa1, 0xff);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    lapic_write(LAPIC_LVTPC, LVT_MASKED | PMI_VECTOR);
}

/* ---- interrupts and faults ---- */

/* A fault the running check provokes on purpose: recorded, then skipped. */
static volatile int expect_fault;
static volatile uint32_t fault_vector;

/* The overflow check's view of its PMIs. */
static volatile int pmi_armed;
static volatile uint32_t pmis, pmi_ecx, pmi_cpl, pmi_vector;
static volatile uint64_t pmi_ctr;

static void pmi(struct frame *f)
{
    if (!pmi_armed) {
        out_str("fatal unexpected PMI");
        field("vector", f->vector);
        out_char('\n');
        finish(EXIT_FAULT);
    }
    if (pmis++ == 0) {
        pmi_ctr = rdmsr(MSR_PERF_CTR0);
        pmi_ecx = f->ecx;
        pmi_cpl = f->cs & 3;
        pmi_vector = f->vector;
    }
    wrmsr(MSR_PERF_CTL0, 0);
}

void isr(struct frame *f)
{
    if (f->vector == PMI_VECTOR) {
        pmi(f);
        lapic_write(LAPIC_EOI, 0);
        return;
    }
    if (f->vector == 2) {
        pmi(f);
        return;
    }
    if (f->vector == SPURIOUS_VECTOR) {
        return;
    }
    if (f->vector == USER_EXIT) {
        user_return(0);
    }
    if (expect_fault) {
        fault_vector = f->vector;
        if (f->cs & 3) {
            user_return(f->vector);
        }
        f->eip += 2;                    /* the faulting rdpmc (0f 33) */
        return;
    }
    out_str("fatal");
    field("vector", f->vector);
    field("error", f->error);
    field("eip", f->eip);
    field("cs", f->cs);
    out_char('\n');
    finish(EXIT_FAULT);
}

/* ---- the command line ---- */

struct params {
    uint32_t ns[MAX_LIST], nr_ns;
    uint32_t ks[MAX_LIST], nr_ks;
    uint32_t margin;
    uint32_t bench;
    uint32_t counting;
};

static const char *parse_list(const char *s, uint32_t *list, uint32_t *nr)
{
    *nr = 0;
    while (*s >= '0' && *s <= '9' && *nr < MAX_LIST) {
        uint32_t v = 0;

        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s++ - '0');
        }
        list[(*nr)++] = v;
        if (*s == ',') {
            s++;
        }
    }
    return s;
}

static int starts(const char *s, const char *prefix)
{
    while (*prefix) {
        if (*s++ != *prefix++) {
            return 0;
        }
    }
    return 1;
}

static void parse(const char *s, struct params *p)
{
    uint32_t one;

    while (*s) {
        if (starts(s, "ns=")) {
            s = parse_list(s + 3, p->ns, &p->nr_ns);
        } else if (starts(s, "ks=")) {
            s = parse_list(s + 3, p->ks, &p->nr_ks);
        } else if (starts(s, "margin=")) {
            s = parse_list(s + 7, &p->margin, &one);
        } else if (starts(s, "bench=")) {
            s = parse_list(s + 6, &p->bench, &one);
        } else if (starts(s, "counting=")) {
            s = parse_list(s + 9, &p->counting, &one);
        } else {
            s++;
        }
    }
}

/* ---- the checks ---- */

static const struct {
    const char *name;
    void (*fn)(void);
} routines[] = {
    { "jcc", r_jcc }, { "jcc-near", r_jcc_near }, { "loop", r_loop },
    { "loopz", r_loopz }, { "loopnz", r_loopnz }, { "jcxz", r_jcxz },
    { "rep", r_rep }, { "fcmov", r_fcmov }, { "jmp", r_jmp },
};
#define NR_ROUTINES (sizeof(routines) / sizeof(routines[0]))

/* Counter 0 counts with ctl while fn runs at cpl; what it counted. */
static uint64_t count(int cpl, void (*fn)(void), uint64_t ctl)
{
    wrmsr(MSR_PERF_CTR0, 0);
    pmu_ctl = ctl;
    if (cpl == 0) {
        count_kernel(fn);
    } else {
        wrmsr(MSR_PERF_CTL0, ctl);
        run_user(fn);
        wrmsr(MSR_PERF_CTL0, 0);
    }
    return rdmsr(MSR_PERF_CTR0);
}

static void check_counts(const struct params *p)
{
    uint32_t i, r;
    int cpl;

    for (cpl = 0; cpl <= 3; cpl += 3) {
        for (r = 0; r < NR_ROUTINES; r++) {
            for (i = 0; i < p->nr_ns; i++) {
                arg_n = p->ns[i];
                out_str("count");
                label("routine", routines[r].name);
                field("cpl", cpl);
                field("n", arg_n);
                field("got", count(cpl, routines[r].fn,
                                   CTL_EN | (cpl ? CTL_USR : CTL_OS) | EV_BRANCHES));
                out_char('\n');
            }
        }
    }
}

static const struct {
    const char *name;
    uint64_t ctl;
} modes[] = {
    { "usr", CTL_EN | CTL_USR | EV_BRANCHES },
    { "os", CTL_EN | CTL_OS | EV_BRANCHES },
    { "usr+os", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES },
    { "disabled", CTL_USR | CTL_OS | EV_BRANCHES },
    { "event-c2", CTL_EN | CTL_USR | CTL_OS | 0xc2 },
    { "event-1d1", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES | (1ull << 32) },
    { "umask-1", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES | 0x100 },
    { "host-only", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES | CTL_HOSTONLY },
    { "guest-only", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES | CTL_GUESTONLY },
    { "host+guest", CTL_EN | CTL_USR | CTL_OS | EV_BRANCHES | CTL_HOSTONLY |
                    CTL_GUESTONLY },
};

/* Each PERF_CTL setting on the same loop at both CPLs. */
static void check_modes(const struct params *p)
{
    uint32_t m;
    int cpl;

    arg_n = p->ns[p->nr_ns - 1];
    for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (cpl = 0; cpl <= 3; cpl += 3) {
            out_str("mode");
            label("mode", modes[m].name);
            field("cpl", cpl);
            field("n", arg_n);
            field("got", count(cpl, r_jcc, modes[m].ctl));
            out_char('\n');
        }
    }
}

/* rdpmc, allowed or not. */
static void check_rdpmc(const struct params *p)
{
    uint32_t i;
    int cpl, pce;

    for (i = 0; i < p->nr_ns; i++) {
        for (cpl = 0; cpl <= 3; cpl += 3) {
            arg_n = p->ns[i];
            write_cr4(read_cr4() | CR4_PCE);
            rdpmc_value = ~0ull;
            count(cpl, r_rdpmc, CTL_EN | (cpl ? CTL_USR : CTL_OS) | EV_BRANCHES);
            out_str("rdpmc");
            field("cpl", cpl);
            field("n", arg_n);
            field("got", rdpmc_value);
            out_char('\n');
        }
    }
    for (cpl = 0; cpl <= 3; cpl += 3) {
        for (pce = 0; pce <= 1; pce++) {
            const struct { void (*fn)(void); const char *name; } cases[] = {
                { r_rdpmc, "counter-0" }, { r_rdpmc_bad, "counter-4" },
            };
            uint32_t c;

            for (c = 0; c < 2; c++) {
                write_cr4(pce ? read_cr4() | CR4_PCE : read_cr4() & ~CR4_PCE);
                arg_n = 1;
                fault_vector = 0;
                expect_fault = 1;
                if (cpl) {
                    run_user(cases[c].fn);
                } else {
                    cases[c].fn();
                }
                expect_fault = 0;
                out_str("rdpmc-fault");
                label("case", cases[c].name);
                field("cpl", cpl);
                field("pce", pce);
                field("vector", fault_vector);
                out_char('\n');
            }
        }
    }
    write_cr4(read_cr4() & ~CR4_PCE);
}

/*
 * Preset counter 0 to 2^48 - k with INT set and run k + margin branches:
 * when the PMI came (branches done, counter value) and how many came.
 */
static void overflow(int cpl, uint32_t k, uint32_t margin, uint32_t lvt, const char *how)
{
    uint64_t ctl = CTL_EN | CTL_INT | (cpl ? CTL_USR : CTL_OS) | EV_BRANCHES;

    lapic_write(LAPIC_LVTPC, lvt);
    pmis = 0;
    pmi_ecx = pmi_cpl = pmi_vector = 0;
    pmi_ctr = 0;
    pmi_armed = 1;
    arg_n = k + margin;
    wrmsr(MSR_PERF_CTR0, COUNTER_WRAP - k);
    pmu_ctl = ctl;
    if (cpl == 0) {
        __asm__ volatile("sti");
        count_kernel(r_jcc);
        __asm__ volatile("cli");
    } else {
        wrmsr(MSR_PERF_CTL0, ctl);
        run_user(r_jcc);
    }
    wrmsr(MSR_PERF_CTL0, 0);
    pmi_armed = 0;
    lapic_write(LAPIC_LVTPC, LVT_MASKED | PMI_VECTOR);
    out_str("pmi");
    label("lvt", how);
    field("cpl", cpl);
    field("k", k);
    field("n", arg_n);
    field("pmis", pmis);
    field("done", pmis ? arg_n - pmi_ecx : 0);
    field("ctr", pmi_ctr);
    field("at_cpl", pmi_cpl);
    field("vector", pmi_vector);
    field("final", rdmsr(MSR_PERF_CTR0));
    out_char('\n');
}

static void check_overflows(const struct params *p)
{
    uint32_t i;
    int cpl;

    for (i = 0; i < p->nr_ks; i++) {
        for (cpl = 0; cpl <= 3; cpl += 3) {
            overflow(cpl, p->ks[i], p->margin, PMI_VECTOR, "fixed");
            overflow(cpl, p->ks[i], p->margin, LVT_NMI, "nmi");
        }
    }
    overflow(3, p->ks[0], p->margin, LVT_MASKED | PMI_VECTOR, "masked");
}

/* A CPU-bound loop with data-dependent branches (r_bench), counted or not. */
static void bench(uint32_t iterations, int counting)
{
    uint64_t start, tsc;

    arg_n = iterations;
    wrmsr(MSR_PERF_CTR0, 0);
    start = rdtsc();
    if (counting) {
        pmu_ctl = CTL_EN | CTL_OS | EV_BRANCHES;
        count_kernel(r_bench);
    } else {
        r_bench();
    }
    tsc = rdtsc() - start;
    out_str("bench");
    field("iterations", iterations);
    field("tsc", tsc);
    field("acc", bench_acc);
    field("counted", rdmsr(MSR_PERF_CTR0));
    out_char('\n');
}

void kmain(struct multiboot_info *mbi)
{
    struct params p = { .margin = 64 };

    setup_cpu();
    if (mbi->flags & 4) {
        parse((const char *)mbi->cmdline, &p);
    }
    out_str("pmu-test start\n");
    if (p.bench) {
        bench(p.bench, p.counting);
    } else {
        if (p.nr_ns) {
            check_counts(&p);
            check_modes(&p);
            check_rdpmc(&p);
        }
        if (p.nr_ks) {
            check_overflows(&p);
        }
    }
    out_str("pmu-test done\n");
    finish(EXIT_DONE);
}
