/*
 * locked: the same increments as race, under a spinlock. The result must be
 * exactly threads x iterations; the program checks it and fails otherwise,
 * so a recorder or a shadow-paging bug that loses or reorders writes shows.
 */
#include "harness.h"

static volatile long counter;
static int lock;

static void spin_lock(int *l)
{
    while ( __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) )
        while ( __atomic_load_n(l, __ATOMIC_RELAXED) )
            __asm__ volatile ( "pause" );
}

static void spin_unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static void *increment(void *arg)
{
    struct worker *w = arg;
    long i;

    pin_to(w->cpu);
    for ( i = 0; i < w->iterations; i++ )
    {
        spin_lock(&lock);
        counter = counter + 1;
        spin_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = parse_iterations(argc, argv);
    long expected = run_workers(increment, n) * n;

    printf("locked counter=%ld expected=%ld %s\n", counter, expected,
           counter == expected ? "ok" : "FAILED");
    return counter == expected ? 0 : 1;
}
