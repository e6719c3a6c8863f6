/*
 * Event channels, 2-level ABI, for the workloads that take asynchronous
 * inputs (events.c).  The shared info page is mapped once, by vCPU 0,
 * before any vCPU uses the rest; every other call is made by a vCPU for
 * itself (vcpu is the caller's id): it registers its callbacks, binds
 * ports to itself, and masks or unmasks its own upcalls.
 */
#ifndef MICRO_EVENTS_H
#define MICRO_EVENTS_H

#include <stdint.h>

/* What a vCPU does with one of its ports that fired, in its upcall. */
typedef void (*events_handler)(unsigned int vcpu, uint32_t port);

/* vCPU 0, once: map the shared info page and mask every port; 0 or -errno. */
long events_init(void);

/* Have Xen enter events_callback (events.S) on vcpu, which calls handler. */
long events_register(unsigned int vcpu, events_handler handler);

/* Bind virq, or an IPI, to a new port of vcpu's and unmask it; 0 or -errno. */
long events_bind_virq(unsigned int vcpu, uint32_t virq, uint32_t *port);
long events_bind_ipi(unsigned int vcpu, uint32_t *port);

/* Mask vcpu's upcalls; unmask them and take what came while masked. */
void events_disable(unsigned int vcpu);
void events_enable(unsigned int vcpu);

/*
 * With vcpu's upcalls masked: unless an event is pending, block until one
 * comes (SCHEDOP_block unmasks atomically); returns with upcalls unmasked
 * and the event taken.  0 or -errno.
 */
long events_block(unsigned int vcpu);

#endif /* MICRO_EVENTS_H */
