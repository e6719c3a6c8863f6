/*
 * fpu_isolation: do a vCPU's AVX registers survive Xen switching another
 * vCPU onto its physical CPU?
 *
 * One process per dom0 vCPU, each pinned to its vCPU, loads its own pattern
 * into xmm0-xmm3 with VEX-encoded (AVX) instructions and then spins on integer work only, comparing the
 * registers with its pattern every few microseconds. The test pins all of
 * dom0's vCPUs to one physical CPU first, so Xen switches between them
 * constantly: a process sees another's pattern (or zeros) exactly when a
 * switch leaves its AVX registers as the other vCPU left them. Xen's lazy
 * FPU switching relies on CR0.TS making the first FPU instruction trap
 * (#NM); QEMU 7.2's TCG does not raise #NM for VEX-encoded instructions,
 * so in the lab only eager switching keeps the registers apart.
 *
 * Prints one line: "switches-seen=N checks=M seconds=S".
 */
#include "harness.h"   /* the lab guest's workloads' pin_to(), from xenrr/lab/guest */

#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#define SPIN 20000

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((target("avx")))
static void load(const uint64_t *pattern)
{
    asm volatile ( "vmovdqu (%0), %%xmm0\n\t"
                   "vmovdqu 16(%0), %%xmm1\n\t"
                   "vmovdqu (%0), %%xmm2\n\t"
                   "vmovdqu 16(%0), %%xmm3"
                   : : "r" (pattern) : "xmm0", "xmm1", "xmm2", "xmm3" );
}

/* All four registers still hold pattern?  Spins first, touching no FPU state. */
__attribute__((target("avx")))
static int intact(const uint64_t *pattern)
{
    unsigned int mask;
    long i;

    for ( i = 0; i < SPIN; i++ )
        asm volatile ( "" : : "r" (i) );
    asm volatile ( "vmovdqu (%1), %%xmm4\n\t"
                   "vmovdqu 16(%1), %%xmm7\n\t"
                   "vpcmpeqq %%xmm4, %%xmm0, %%xmm5\n\t"
                   "vpcmpeqq %%xmm7, %%xmm1, %%xmm6\n\t"
                   "vpand %%xmm5, %%xmm6, %%xmm5\n\t"
                   "vpcmpeqq %%xmm4, %%xmm2, %%xmm6\n\t"
                   "vpand %%xmm5, %%xmm6, %%xmm5\n\t"
                   "vpcmpeqq %%xmm7, %%xmm3, %%xmm6\n\t"
                   "vpand %%xmm5, %%xmm6, %%xmm5\n\t"
                   "vpmovmskb %%xmm5, %0"
                   : "=r" (mask) : "r" (pattern) : "xmm4", "xmm5", "xmm6", "xmm7" );
    return mask == 0xffff;
}

static void worker(int cpu, double seconds, int out)
{
    uint64_t pattern[4];
    long checks = 0, seen = 0;
    double end;
    int i;

    pin_to(cpu);
    for ( i = 0; i < 4; i++ )
        pattern[i] = 0x0101010101010101ull * (0x10 + cpu) + i;
    end = now() + seconds;
    while ( now() < end )
    {
        /* Library calls may use xmm0-7 freely: load after each. */
        load(pattern);
        for ( i = 0; i < 256; i++ )
        {
            checks++;
            if ( !intact(pattern) )
            {
                seen++;
                load(pattern);
            }
        }
    }
    dprintf(out, "%ld %ld\n", seen, checks);
    exit(0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN), seen = 0, checks = 0, s, c;
    int fds[2], i;
    FILE *in;

    if ( seconds <= 0 )
    {
        fprintf(stderr, "usage: %s SECONDS (a positive number)\n", argv[0]);
        return 2;
    }
    if ( !__builtin_cpu_supports("avx") )
    {
        fprintf(stderr, "fpu_isolation: this CPU has no AVX\n");
        return 2;
    }
    if ( pipe(fds) != 0 )
    {
        perror("pipe");
        return 2;
    }
    for ( i = 0; i < cpus; i++ )
        if ( fork() == 0 )
            worker(i, seconds, fds[1]);
    close(fds[1]);
    in = fdopen(fds[0], "r");
    for ( i = 0; i < cpus; i++ )
    {
        if ( fscanf(in, "%ld %ld", &s, &c) != 2 )
        {
            fprintf(stderr, "fpu_isolation: a worker died\n");
            return 2;
        }
        seen += s;
        checks += c;
    }
    while ( wait(NULL) > 0 )
        ;
    printf("switches-seen=%ld checks=%ld seconds=%g\n", seen, checks, seconds);
    return 0;
}
