/* vCPU bring-up with VCPUOP_initialise/VCPUOP_up, barrier and join. */
#include "hypercall.h"
#include "micro.h"
#include "smp.h"

extern char micro_vcpu_entry[];

unsigned int smp_count_vcpus(void)
{
    unsigned int nr = 1;

    /* VCPUOP_is_up answers -ENOENT for an id the domain does not have. */
    while ( nr <= MICRO_MAX_VCPUS &&
            hyp_vcpu_op(VCPUOP_is_up, nr, 0) != -XEN_ENOENT )
        nr++;
    return nr;
}

long smp_start_vcpu(unsigned int id)
{
    /* Xen copies the context in the hypercall, so one serves every vCPU. */
    static struct vcpu_guest_context ctxt;
    struct cpu_user_regs *r = &ctxt.user_regs;
    uint64_t l4_pfn = micro_start_info->pt_base >> 12;
    long rc;

    memset(&ctxt, 0, sizeof(ctxt));
    /*
     * Not VGCF_online: that would clear the vCPU's down flag here, and the
     * VCPUOP_up below, finding it clear, would never wake the vCPU into a
     * runqueue (xen/arch/x86/domain.c, arch_set_info_guest).
     */
    ctxt.flags = VGCF_in_kernel;
    r->rip = (uint64_t)micro_vcpu_entry;
    r->rsp = (uint64_t)&micro_stacks[id][MICRO_STACK_SIZE];
    r->rdi = id;
    r->rflags = 0x2;                /* Xen sets IF; events stay masked. */
    r->cs = FLAT_KERNEL_CS64;
    r->ss = FLAT_KERNEL_SS64;
    r->ds = r->es = r->fs = r->gs = FLAT_KERNEL_DS64;
    ctxt.kernel_ss = FLAT_KERNEL_SS64;
    ctxt.kernel_sp = r->rsp;
    /* Share vCPU 0's page tables: the builder's L4 names every frame. */
    ctxt.ctrlreg[3] = xen_pfn_to_cr3(((const uint64_t *)
                                      micro_start_info->mfn_list)[l4_pfn]);
    /* No GDT frames (Xen's default GDT), no callbacks: events stay masked
     * in the shared-info vcpu_info the builder set up for every vCPU. */
    rc = hyp_vcpu_op(VCPUOP_initialise, id, &ctxt);
    if ( rc == 0 )
        rc = hyp_vcpu_op(VCPUOP_up, id, 0);
    return rc;
}

void smp_barrier(uint32_t *arrived, unsigned int nr)
{
    __atomic_fetch_add(arrived, 1, __ATOMIC_ACQ_REL);
    while ( __atomic_load_n(arrived, __ATOMIC_ACQUIRE) < nr )
        cpu_relax();
}

void smp_join(const uint32_t *left, unsigned int nr)
{
    while ( __atomic_load_n(left, __ATOMIC_ACQUIRE) < nr - 1 )
        cpu_relax();
}

void smp_exit(uint32_t *left, unsigned int id)
{
    /* Stores made before are visible to vCPU 0 once it sees this one. */
    __atomic_fetch_add(left, 1, __ATOMIC_RELEASE);
    for ( ;; )
        hyp_vcpu_op(VCPUOP_down, id, 0);
}
