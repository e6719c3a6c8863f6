/* Typed wrappers over the one hypercall trampoline in hypercall.S. */
#ifndef MICRO_HYPERCALL_H
#define MICRO_HYPERCALL_H

#include "xen.h"

long micro_hypercall(unsigned long nr, unsigned long a1, unsigned long a2,
                     unsigned long a3, unsigned long a4, unsigned long a5);

static inline long hyp_console_write(const char *buf, unsigned long len)
{
    return micro_hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, len,
                           (unsigned long)buf, 0, 0);
}

static inline long hyp_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return micro_hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu,
                           (unsigned long)arg, 0, 0);
}

static inline long hyp_yield(void)
{
    return micro_hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
}

static inline long hyp_shutdown(unsigned int reason)
{
    struct sched_shutdown arg = { .reason = reason };

    return micro_hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown,
                           (unsigned long)&arg, 0, 0, 0);
}

static inline long hyp_evtchn_send(uint32_t port)
{
    struct evtchn_send arg = { .port = port };

    return micro_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send,
                           (unsigned long)&arg, 0, 0, 0);
}

#endif /* MICRO_HYPERCALL_H */
