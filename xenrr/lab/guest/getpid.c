/*
 * getpid: one thread, pinned to the last CPU, makes ITERATIONS getpid
 * system calls and nothing else of note. Each is a synchronous entry into
 * Xen (a PV guest's system calls bounce through it), so the vCPU's
 * position must advance by at least ITERATIONS: the position clock's
 * simplest witness.
 */
#include "harness.h"

#include <sys/syscall.h>

int main(int argc, char **argv)
{
    long n = parse_iterations(argc, argv), i;
    int cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;

    pin_to(cpu);
    for ( i = 0; i < n; i++ )
        syscall(SYS_getpid);        /* not glibc's getpid(): no caching */
    printf("getpid calls=%ld cpu=%d\n", n, cpu);
    return 0;
}
