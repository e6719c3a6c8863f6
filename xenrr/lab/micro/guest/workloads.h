/*
 * The workloads, one chosen by the command line.  Each names the pages it
 * shares (regions, printed with their frames and digested at the end), runs
 * on every vCPU between the start barrier and the join, and is checked on
 * vCPU 0 afterwards.  The list of names, their minimum vCPU counts and
 * default iteration counts is generated from xenrr.lab.micro.workloads.
 */
#ifndef MICRO_WORKLOADS_H
#define MICRO_WORKLOADS_H

#include <stdint.h>

struct run {
    uint64_t iterations;
    unsigned int nr_vcpus;
};

struct region {
    const char *name;
    const volatile void *base;
    unsigned int pages;         /* per vCPU if per_vcpu, else in all */
    unsigned int per_vcpu;      /* vCPU v's pages start at base + v * pages */
};

struct workload {
    const char *name;
    unsigned int min_vcpus;
    uint64_t default_iterations;
    const struct region *regions;
    unsigned int nr_regions;
    /* Runs on every vCPU; failures go through workload_failed. */
    void (*run)(const struct run *run, unsigned int vcpu);
    /* On vCPU 0 after the join: says the result; NULL or why it is wrong. */
    const char *(*check)(const struct run *run);
};

/* The workload called name[0..len), or NULL. */
const struct workload *workload_find(const char *name, unsigned long len);

/* A vCPU saw a wrong value: record why (main.c) and make the others stop. */
void workload_failed(unsigned int vcpu, const char *why);
int workload_aborted(void);

#endif /* MICRO_WORKLOADS_H */
