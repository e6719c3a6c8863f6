/*
 * race: every thread increments one shared counter without any
 * synchronisation. Increments are lost whenever two read-modify-write
 * sequences overlap, so the final value depends on the interleaving and
 * differs from run to run: the outcome a replay must reproduce exactly.
 */
#include "harness.h"

static volatile long counter;

static void *increment(void *arg)
{
    struct worker *w = arg;
    long i;

    pin_to(w->cpu);
    for ( i = 0; i < w->iterations; i++ )
    {
        long v = counter;       /* load ... */
        __asm__ volatile ( "pause" );
        counter = v + 1;        /* ... store: another CPU may have written between */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = parse_iterations(argc, argv);

    long expected = run_workers(increment, n) * n;

    printf("race counter=%ld expected=%ld lost=%ld\n", counter, expected,
           expected - counter);
    return 0;
}
