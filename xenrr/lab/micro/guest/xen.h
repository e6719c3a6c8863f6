/*
 * The slice of Xen's public ABI (xen/include/public/, Xen 4.17) the
 * micro-guest uses, for a 64-bit PV guest only.  Values and layouts are the
 * ABI; each block names the public header it comes from.  Sizes are checked
 * at compile time so a slip in a layout cannot reach the hypervisor.
 */
#ifndef MICRO_XEN_H
#define MICRO_XEN_H

/* elfnote.h: note types read by libelf when it loads a PV kernel. */
#define XEN_ELFNOTE_ENTRY            1
#define XEN_ELFNOTE_HYPERCALL_PAGE   2
#define XEN_ELFNOTE_VIRT_BASE        3
#define XEN_ELFNOTE_PADDR_OFFSET     4
#define XEN_ELFNOTE_XEN_VERSION      5
#define XEN_ELFNOTE_GUEST_OS         6
#define XEN_ELFNOTE_GUEST_VERSION    7
#define XEN_ELFNOTE_LOADER           8

/* xen.h: hypercall numbers (the index of the 32-byte stub in the page). */
#define __HYPERVISOR_set_callbacks   4
#define __HYPERVISOR_update_va_mapping 14
#define __HYPERVISOR_set_timer_op    15
#define __HYPERVISOR_xen_version     17
#define __HYPERVISOR_console_io      18
#define __HYPERVISOR_iret            23
#define __HYPERVISOR_vcpu_op         24
#define __HYPERVISOR_sched_op        29
#define __HYPERVISOR_event_channel_op 32

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

/* xen.h: HYPERVISOR_console_io commands. */
#define CONSOLEIO_write              0

/* xen.h: flags of HYPERVISOR_update_va_mapping. */
#define UVMF_INVLPG                  2
#define UVMF_ALL                     4

/* version.h */
#define XENVER_version               0

/* sched.h */
#define SCHEDOP_yield                0
#define SCHEDOP_block                1
#define SCHEDOP_shutdown             2
#define SHUTDOWN_poweroff            0
#define SHUTDOWN_crash               3

struct sched_shutdown {
    uint32_t reason;
};

/* vcpu.h */
#define VCPUOP_initialise            0
#define VCPUOP_up                    1
#define VCPUOP_down                  2
#define VCPUOP_is_up                 3
#define VCPUOP_set_periodic_timer    6
#define VCPUOP_stop_periodic_timer   7

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};

/* event_channel.h */
#define EVTCHNOP_bind_virq           1
#define EVTCHNOP_send                4
#define EVTCHNOP_bind_ipi            7

struct evtchn_bind_virq {
    uint32_t virq, vcpu;
    uint32_t port;                  /* out */
};

struct evtchn_send {
    uint32_t port;
};

struct evtchn_bind_ipi {
    uint32_t vcpu;
    uint32_t port;                  /* out */
};

/* xen.h: the per-vCPU virtual interrupt the guest binds. */
#define VIRQ_TIMER                   0

/* errno.h: the one error number the guest tells apart. */
#define XEN_ENOENT                   2

/* arch-x86/xen-x86_64.h: flat selectors of Xen's default GDT. */
#define FLAT_KERNEL_CS64             0xe033
#define FLAT_KERNEL_SS64             0xe02b
#define FLAT_KERNEL_DS64             0x0000

/* arch-x86/xen-x86_64.h */
struct cpu_user_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint32_t error_code, entry_vector;
    uint64_t rip;
    uint16_t cs, _pad0[1];
    uint8_t saved_upcall_mask, _pad1[3];
    uint64_t rflags, rsp;
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3];
    uint16_t gs, _pad6[3];
};
_Static_assert(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs layout");

#define xen_pfn_to_cr3(pfn)          ((uint64_t)(pfn) << 12)

/* arch-x86/xen.h */
struct trap_info {
    uint8_t vector, flags;
    uint16_t cs;
    uint64_t address;
};

#define VGCF_in_kernel               (1 << 2)

struct vcpu_guest_context {
    uint8_t fpu_ctxt[512];
    uint64_t flags;
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];
    uint64_t ldt_base, ldt_ents;
    uint64_t gdt_frames[16], gdt_ents;
    uint64_t kernel_ss, kernel_sp;
    uint64_t ctrlreg[8];
    uint64_t debugreg[8];
    uint64_t event_callback_eip, failsafe_callback_eip, syscall_callback_eip;
    uint64_t vm_assist;
    uint64_t fs_base, gs_base_kernel, gs_base_user;
};
_Static_assert(sizeof(struct vcpu_guest_context) == 5168,
               "vcpu_guest_context layout");

/* xen.h: what the domain builder leaves for the kernel (pointer in %rsi). */
struct start_info {
    char magic[32];
    uint64_t nr_pages;
    uint64_t shared_info;
    uint32_t flags;
    uint64_t store_mfn;
    uint32_t store_evtchn;
    struct {
        uint64_t mfn;
        uint32_t evtchn;
    } console;
    uint64_t pt_base;
    uint64_t nr_pt_frames;
    uint64_t mfn_list;
    uint64_t mod_start;
    uint64_t mod_len;
    char cmd_line[1024];
    uint64_t first_p2m_pfn;
    uint64_t nr_p2m_frames;
};
_Static_assert(sizeof(struct start_info) == 1168, "start_info layout");

/*
 * xen.h and arch-x86/xen-x86_64.h: the shared info page and the vcpu_info
 * of each of the first 32 vCPUs in it, with the 2-level event channel ABI
 * (a pending and a mask bit per port, 64 words of each; a vCPU's
 * evtchn_pending_sel says which words to scan).  Only the event parts are
 * spelled out: the time parts (vcpu_info's pvclock, the wallclock after
 * evtchn_mask) are Xen's readings of time, which the guest never reads, as
 * xenrr does not log them.
 */
#define XEN_LEGACY_MAX_VCPUS         32
#define EVTCHN_2L_WORDS              64

struct vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    uint64_t evtchn_pending_sel;
    uint64_t arch_cr2, arch_pad;
    uint8_t time[32];               /* struct vcpu_time_info */
};
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info layout");

struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    uint64_t evtchn_pending[EVTCHN_2L_WORDS];
    uint64_t evtchn_mask[EVTCHN_2L_WORDS];
};
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560,
               "shared_info layout");

/* io/console.h: the PV console ring shared with xenconsoled. */
struct xencons_interface {
    char in[1024];
    char out[2048];
    uint32_t in_cons, in_prod;
    uint32_t out_cons, out_prod;
};

#endif /* __ASSEMBLER__ */
#endif /* MICRO_XEN_H */
