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

static inline long hyp_block(void)
{
    return micro_hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
}

static inline long hyp_evtchn_op(int cmd, void *arg)
{
    return micro_hypercall(__HYPERVISOR_event_channel_op, cmd,
                           (unsigned long)arg, 0, 0, 0);
}

static inline long hyp_evtchn_send(uint32_t port)
{
    struct evtchn_send arg = { .port = port };

    return hyp_evtchn_op(EVTCHNOP_send, &arg);
}

/* The calling vCPU's event and failsafe callbacks; no syscall callback. */
static inline long hyp_set_callbacks(const void *event, const void *failsafe)
{
    return micro_hypercall(__HYPERVISOR_set_callbacks, (unsigned long)event,
                           (unsigned long)failsafe, 0, 0, 0);
}

/* The calling vCPU's one-shot timer at Xen system time timeout; 0 stops it. */
static inline long hyp_set_timer_op(uint64_t timeout)
{
    return micro_hypercall(__HYPERVISOR_set_timer_op, timeout, 0, 0, 0, 0);
}

static inline long hyp_update_va_mapping(const volatile void *va, uint64_t pte,
                                         unsigned long flags)
{
    return micro_hypercall(__HYPERVISOR_update_va_mapping, (unsigned long)va,
                           pte, flags, 0, 0);
}

static inline long hyp_xen_version(void)
{
    return micro_hypercall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0,
                           0);
}

#endif /* MICRO_HYPERCALL_H */
