/*
 * One thread per online CPU (at most MAX_THREADS), each pinned to its own
 * CPU, runs the same loop on shared memory; the program prints one result
 * line on stdout. Pinning puts the
 * threads on different vCPUs, so their accesses really interleave and, under
 * xenrr, every cross-vCPU access to the shared page is a CREW event.
 */
#ifndef HARNESS_H
#define HARNESS_H

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 8

struct worker {
    pthread_t thread;
    int cpu;
    long iterations;
};

static inline void pin_to(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if ( sched_setaffinity(0, sizeof(set), &set) != 0 )
    {
        perror("sched_setaffinity");
        exit(2);
    }
}

static inline long parse_iterations(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

    if ( n <= 0 )
    {
        fprintf(stderr, "usage: %s ITERATIONS (a positive number)\n", argv[0]);
        exit(2);
    }
    return n;
}

/* Start one worker per CPU on body(), wait for all; returns how many ran. */
static inline int run_workers(void *(*body)(void *), long iterations)
{
    struct worker w[MAX_THREADS];
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int i, n = online < 1 ? 1 : online > MAX_THREADS ? MAX_THREADS : online;

    for ( i = 0; i < n; i++ )
    {
        w[i].cpu = i;
        w[i].iterations = iterations;
        if ( pthread_create(&w[i].thread, NULL, body, &w[i]) != 0 )
        {
            perror("pthread_create");
            exit(2);
        }
    }
    for ( i = 0; i < n; i++ )
        pthread_join(w[i].thread, NULL);
    return n;
}

#endif /* HARNESS_H */
