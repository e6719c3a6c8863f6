/*
 * Event channels through the 2-level ABI (events.h).  When a port fires,
 * Xen sets its pending bit in the shared info page and, unless the port is
 * masked, the bit of its word in the pending_sel of the vCPU the port is
 * bound to, and that vCPU's upcall_pending.  Unless the vCPU's upcall_mask
 * is set, Xen then enters events_callback (events.S) on it, with upcalls
 * masked, and events_upcall below takes the vCPU's pending ports.
 *
 * Each vCPU uses the vcpu_info inside the shared info page (no
 * VCPUOP_register_vcpu_info): the first 32 vCPUs have one there.
 */
#include "events.h"
#include "hypercall.h"
#include "micro.h"

_Static_assert(MICRO_MAX_VCPUS <= XEN_LEGACY_MAX_VCPUS,
               "every vCPU has a vcpu_info in the shared info page");

#define WORD_BITS 64

/* x86 page table entry flags of the shared info page's mapping. */
#define _PAGE_PRESENT  0x001ull
#define _PAGE_RW       0x002ull
#define _PAGE_ACCESSED 0x020ull
#define _PAGE_DIRTY    0x040ull

/*
 * Where the shared info page is mapped: a page of the image whose frame
 * events_init replaces with Xen's.  That frame is Xen's, not one of the
 * domain's (mfn_list does not name it), so no workload lists this page in
 * its regions.
 */
static volatile struct {
    struct shared_info s;
} PAGE_ALIGNED shared;

/*
 * Each vCPU's own page: its handler and the ports bound to it.  A pending
 * word may hold ports of several vCPUs; a vCPU scanning it takes only its
 * own and leaves the others' pending for their vCPUs' upcalls.
 */
static struct {
    events_handler handler;
    uint64_t owned[EVTCHN_2L_WORDS];
} PAGE_ALIGNED vcpus[MICRO_MAX_VCPUS];

extern char events_callback[], events_failsafe_callback[];

long events_init(void)
{
    unsigned int w;
    long rc;

    /*
     * The other vCPUs may run already: none may keep a translation of the
     * page to its old frame, so invalidate it on all of them.
     */
    rc = hyp_update_va_mapping(&shared, micro_start_info->shared_info |
                               _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED |
                               _PAGE_DIRTY, UVMF_INVLPG | UVMF_ALL);
    if ( rc )
        return rc;
    /* The console's and xenstore's ports stay masked: they are not ours. */
    for ( w = 0; w < EVTCHN_2L_WORDS; w++ )
        shared.s.evtchn_mask[w] = ~0ull;
    return 0;
}

long events_register(unsigned int vcpu, events_handler handler)
{
    vcpus[vcpu].handler = handler;
    return hyp_set_callbacks(events_callback, events_failsafe_callback);
}

/*
 * Take port as vcpu's and unmask it.  A port that fired while masked (a
 * tick of the 10 ms timer Xen gives every PV vCPU, right after binding
 * VIRQ_TIMER) is pending without its selector bit: set that bit, as Xen's
 * EVTCHNOP_unmask would, so that the next upcall finds the port.
 */
static void own_port(unsigned int vcpu, uint32_t port)
{
    volatile struct vcpu_info *vi = &shared.s.vcpu_info[vcpu];
    unsigned int w = port / WORD_BITS;
    uint64_t bit = 1ull << (port % WORD_BITS), sel = 1ull << w;

    vcpus[vcpu].owned[w] |= bit;
    __atomic_fetch_and(&shared.s.evtchn_mask[w], ~bit, __ATOMIC_SEQ_CST);
    if ( (shared.s.evtchn_pending[w] & bit) &&
         !(__atomic_fetch_or(&vi->evtchn_pending_sel, sel,
                             __ATOMIC_SEQ_CST) & sel) )
        vi->evtchn_upcall_pending = 1;
}

long events_bind_virq(unsigned int vcpu, uint32_t virq, uint32_t *port)
{
    struct evtchn_bind_virq arg = { .virq = virq, .vcpu = vcpu };
    long rc = hyp_evtchn_op(EVTCHNOP_bind_virq, &arg);

    if ( rc == 0 )
    {
        *port = arg.port;
        own_port(vcpu, arg.port);
    }
    return rc;
}

long events_bind_ipi(unsigned int vcpu, uint32_t *port)
{
    struct evtchn_bind_ipi arg = { .vcpu = vcpu };
    long rc = hyp_evtchn_op(EVTCHNOP_bind_ipi, &arg);

    if ( rc == 0 )
    {
        *port = arg.port;
        own_port(vcpu, arg.port);
    }
    return rc;
}

void events_disable(unsigned int vcpu)
{
    shared.s.vcpu_info[vcpu].evtchn_upcall_mask = 1;
}

void events_enable(unsigned int vcpu)
{
    volatile struct vcpu_info *vi = &shared.s.vcpu_info[vcpu];

    vi->evtchn_upcall_mask = 0;
    /*
     * Xen enters the callback only on its way back to the guest: any
     * hypercall will do (xen_version, as Linux forces it).
     */
    if ( vi->evtchn_upcall_pending )
        hyp_xen_version();
}

long events_block(unsigned int vcpu)
{
    long rc = 0;

    if ( !shared.s.vcpu_info[vcpu].evtchn_upcall_pending )
        rc = hyp_block();
    events_enable(vcpu);
    return rc;
}

/*
 * Called by events_callback on the interrupted vCPU's stack (sp), with its
 * upcalls masked.  The stacks are per vCPU (micro_stacks), so sp says
 * which vCPU this is.
 */
void events_upcall(const uint8_t *sp)
{
    unsigned int vcpu = (unsigned int)((sp - &micro_stacks[0][0]) /
                                       MICRO_STACK_SIZE);
    volatile struct vcpu_info *vi = &shared.s.vcpu_info[vcpu];
    uint64_t sel, ready, bit;
    unsigned int w;

    /*
     * Clear the flag before taking the selector (xchg orders the two): an
     * event after this sets both again, and Xen enters the callback again
     * once HYPERVISOR_iret unmasks upcalls.
     */
    vi->evtchn_upcall_pending = 0;
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while ( sel )
    {
        w = (unsigned int)__builtin_ctzll(sel);
        sel &= sel - 1;
        ready = shared.s.evtchn_pending[w] & ~shared.s.evtchn_mask[w] &
                vcpus[vcpu].owned[w];
        for ( ; ready; ready &= ready - 1 )
        {
            bit = ready & -ready;
            __atomic_fetch_and(&shared.s.evtchn_pending[w], ~bit,
                               __ATOMIC_SEQ_CST);
            vcpus[vcpu].handler(vcpu, w * WORD_BITS +
                                (uint32_t)__builtin_ctzll(bit));
        }
    }
}

/*
 * Xen could not load a segment register on its way back to the guest.
 * This guest loads none, so it is a bug: end the domain.
 */
void __attribute__((noreturn)) events_failsafe(void)
{
    for ( ;; )
        hyp_shutdown(SHUTDOWN_crash);
}
