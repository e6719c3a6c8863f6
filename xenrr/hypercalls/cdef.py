"""The binary interface xenrr speaks to Xen: one definition, in C syntax, for cffi.

The text below mirrors Xen's public headers (xen/include/public/domctl.h,
sysctl.h, memory.h, version.h and arch-x86/xen.h of Xen 4.17 with
hypervisor-patches/ applied, as the tools of an x86_64 dom0 see them, and
Linux's include/uapi/xen/privcmd.h and evtchn.h) for exactly what xenrr
uses, and the one libc call hypercall buffers need (mlock). cffi parses it
when ffigen.py generates _ffi.py, so sizes, offsets and constants come from
it and nowhere else in Python; tests/hypercalls/test_abi.py compiles Xen's
own headers and fails if any struct layout or #define here differs from
them. A guest handle (XEN_GUEST_HANDLE_64) is a uint64_t here: on x86_64 it
is one pointer, which the caller sets to a hypercall buffer's address.
"""

CDEF = """
/* libc */
int mlock(const void *addr, size_t len);

/* Linux include/uapi/xen/privcmd.h */
struct privcmd_hypercall {
    uint64_t op;
    uint64_t arg[5];
};

struct privcmd_mmap_resource {
    uint16_t dom;
    uint32_t type;
    uint32_t id;
    uint32_t idx;
    uint64_t num;
    uint64_t addr;
};

struct privcmd_mmapbatch_v2 {
    uint32_t num;
    uint16_t dom;
    uint64_t addr;
    const uint64_t *arr;    /* xen_pfn_t: unsigned long on x86_64 */
    int *err;
};

/* Linux include/uapi/xen/evtchn.h */
struct ioctl_evtchn_bind_interdomain {
    uint32_t remote_domain;
    uint32_t remote_port;
};

/* xen/include/public/xen.h */
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_sysctl 35
#define __HYPERVISOR_domctl 36
typedef uint16_t domid_t;

/* xen/include/public/arch-x86/xen-x86_64.h and arch-x86/xen.h, for tools on
   x86_64 (__XEN_TOOLS__: every register under each of its names) */
#define __HYPERVISOR_VIRT_START 0xFFFF800000000000
#define __HYPERVISOR_VIRT_END 0xFFFF880000000000

struct cpu_user_regs {
    union { uint64_t r15; uint32_t r15d; uint16_t r15w; uint8_t r15b; };
    union { uint64_t r14; uint32_t r14d; uint16_t r14w; uint8_t r14b; };
    union { uint64_t r13; uint32_t r13d; uint16_t r13w; uint8_t r13b; };
    union { uint64_t r12; uint32_t r12d; uint16_t r12w; uint8_t r12b; };
    union { uint64_t rbp; uint32_t ebp; uint16_t bp; uint8_t bpl; };
    union { uint64_t rbx; uint32_t ebx; uint16_t bx; struct { uint8_t bl; uint8_t bh; }; };
    union { uint64_t r11; uint32_t r11d; uint16_t r11w; uint8_t r11b; };
    union { uint64_t r10; uint32_t r10d; uint16_t r10w; uint8_t r10b; };
    union { uint64_t r9; uint32_t r9d; uint16_t r9w; uint8_t r9b; };
    union { uint64_t r8; uint32_t r8d; uint16_t r8w; uint8_t r8b; };
    union { uint64_t rax; uint32_t eax; uint16_t ax; struct { uint8_t al; uint8_t ah; }; };
    union { uint64_t rcx; uint32_t ecx; uint16_t cx; struct { uint8_t cl; uint8_t ch; }; };
    union { uint64_t rdx; uint32_t edx; uint16_t dx; struct { uint8_t dl; uint8_t dh; }; };
    union { uint64_t rsi; uint32_t esi; uint16_t si; uint8_t sil; };
    union { uint64_t rdi; uint32_t edi; uint16_t di; uint8_t dil; };
    uint32_t error_code;
    uint32_t entry_vector;
    union { uint64_t rip; uint32_t eip; uint16_t ip; };
    uint16_t cs, _pad0[1];
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    union { uint64_t rflags; uint32_t eflags; uint16_t flags; };
    union { uint64_t rsp; uint32_t esp; uint16_t sp; uint8_t spl; };
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3];
    uint16_t gs, _pad6[3];
};

struct trap_info {
    uint8_t       vector;
    uint8_t       flags;
    uint16_t      cs;
    unsigned long address;
};

struct vcpu_guest_context {
    struct { char x[512]; } fpu_ctxt;
    unsigned long flags;
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];
    unsigned long ldt_base, ldt_ents;
    unsigned long gdt_frames[16], gdt_ents;
    unsigned long kernel_ss, kernel_sp;
    unsigned long ctrlreg[8];
    unsigned long debugreg[8];
    unsigned long event_callback_eip;
    unsigned long failsafe_callback_eip;
    unsigned long syscall_callback_eip;
    unsigned long vm_assist;
    uint64_t      fs_base;
    uint64_t      gs_base_kernel;
    uint64_t      gs_base_user;
};

/* xen/include/public/version.h */
#define XENVER_version 0
#define XENVER_extraversion 1
#define XENVER_changeset 4
typedef char xen_extraversion_t[16];
typedef char xen_changeset_info_t[64];

/* xen/include/public/memory.h */
#define XENMEM_resource_rr_ring 3

/* xen/include/public/sysctl.h */
#define XEN_SYSCTL_INTERFACE_VERSION 0x15
#define XEN_SYSCTL_physinfo 3

struct xen_sysctl_physinfo {
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_cpus;
    uint32_t max_cpu_id;
    uint32_t nr_nodes;
    uint32_t max_node_id;
    uint32_t cpu_khz;
    uint32_t capabilities;
    uint32_t arch_capabilities;
    uint32_t pad;
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t scrub_pages;
    uint64_t outstanding_pages;
    uint64_t max_mfn;
    uint32_t hw_cap[8];
};

struct xen_sysctl {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        struct xen_sysctl_physinfo physinfo;
        uint8_t pad[128];
    } u;
};

/* xen/include/public/domctl.h */
#define XEN_DOMCTL_INTERFACE_VERSION 0x15
#define XEN_DOMCTL_pausedomain 3
#define XEN_DOMCTL_unpausedomain 4
#define XEN_DOMCTL_getdomaininfo 5
#define XEN_DOMCTL_shadow_op 10
#define XEN_DOMCTL_getvcpucontext 13
#define XEN_DOMCTL_getvcpuinfo 14
#define XEN_DOMCTL_getpageframeinfo3 61
#define XEN_DOMCTL_rr_op 87

#define XEN_DOMCTL_PFINFO_NOTAB 0x0
#define XEN_DOMCTL_PFINFO_L4TAB 0x40000000
#define XEN_DOMCTL_PFINFO_LTABTYPE_MASK 0x70000000
#define XEN_DOMCTL_PFINFO_LTAB_MASK 0xf0000000

struct xen_domctl_getpageframeinfo3 {
    uint64_t num;
    uint64_t array;         /* XEN_GUEST_HANDLE_64(xen_pfn_t) */
};

#define XEN_DOMINF_dying 1
#define XEN_DOMINF_hvm_guest 2
#define XEN_DOMINF_shutdown 4
#define XEN_DOMINF_paused 8
#define XEN_DOMINF_blocked 16
#define XEN_DOMINF_running 32
#define XEN_DOMINF_hap 256
#define XEN_DOMINF_shutdownshift 16
#define XEN_DOMINF_shutdownmask 255

#define XEN_DOMCTL_SHADOW_OP_OFF 0
#define XEN_DOMCTL_SHADOW_OP_ENABLE_TEST 1
#define XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION 30
#define XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION 31

struct xen_domctl_shadow_op_stats {
    uint32_t fault_count;
    uint32_t dirty_count;
};

struct xen_domctl_shadow_op {
    uint32_t op;
    uint32_t mode;
    uint32_t mb;
    uint64_t dirty_bitmap;
    uint64_t pages;
    struct xen_domctl_shadow_op_stats stats;
};

struct xen_arch_domainconfig {
    uint32_t emulation_flags;
    uint32_t misc_flags;
};

struct xen_domctl_getdomaininfo {
    domid_t  domain;
    uint16_t pad1;
    uint32_t flags;
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    uint64_t shr_pages;
    uint64_t paged_pages;
    uint64_t shared_info_frame;
    uint64_t cpu_time;
    uint32_t nr_online_vcpus;
    uint32_t max_vcpu_id;
    uint32_t ssidref;
    uint8_t  handle[16];
    uint32_t cpupool;
    uint8_t  gpaddr_bits;
    uint8_t  pad2[7];
    struct xen_arch_domainconfig arch_config;
};

struct xen_domctl_getvcpuinfo {
    uint32_t vcpu;
    uint8_t  online;
    uint8_t  blocked;
    uint8_t  running;
    uint64_t cpu_time;
    uint32_t cpu;
};

#define XEN_RR_INTERFACE_VERSION 13
#define XEN_DOMCTL_RR_OP_get_info 0
#define XEN_DOMCTL_RR_OP_enable 1
#define XEN_DOMCTL_RR_OP_disable 2
#define XEN_DOMCTL_RR_OP_get_stats 3
#define XEN_DOMCTL_RR_OP_set_frame_access 4
#define XEN_DOMCTL_RR_OP_query_frame 5
#define XEN_DOMCTL_RR_OP_get_ring 6
#define XEN_DOMCTL_RR_OP_get_frames 7
#define XEN_DOMCTL_RR_OP_plan_frames 8
#define XEN_DOMCTL_RR_OP_run_to 9
#define XEN_DOMCTL_RR_OP_get_stop 10
#define XEN_DOMCTL_RR_OP_kick 11
#define XEN_RR_MODE_off 0
#define XEN_RR_MODE_record 1
#define XEN_RR_MODE_replay 2
#define XEN_RR_POSITION_sync_entry 0
#define XEN_RR_POSITION_branch 1
#define XEN_RR_FEATURE_pv 1
#define XEN_RR_FEATURE_pos_sync_entry 2
#define XEN_RR_FEATURE_pos_branch 4
#define XEN_RR_FEATURE_record 8
#define XEN_RR_FEATURE_replay 16
#define XEN_RR_FEATURE_per_vcpu_shadows 32
#define XEN_RR_FEATURE_crew 64
#define XEN_RR_FEATURE_frame_plan 128
#define XEN_RR_ENABLE_crew 1
#define XEN_RR_ACCESS_none 0
#define XEN_RR_ACCESS_read 1
#define XEN_RR_ACCESS_write 2
#define XEN_RR_ACCESS_rw 3
#define XEN_RR_FRAME_at_position 1
#define XEN_RR_FRAME_pending 2
#define XEN_RR_MAX_PENDING 16
#define XEN_RR_PLAN_BATCH 512
#define XEN_RR_NO_FRAME 0xffffffffffffffff
#define XEN_RR_FRAME_BUSY 0x8000000000000000
#define XEN_RR_PLAN_new 1
#define XEN_RR_PLAN_drop 2
#define XEN_RR_RING_wait 1
#define XEN_RR_RING_end 2
#define XEN_RR_BRANCH_available 0
#define XEN_RR_BRANCH_no_counter 1
#define XEN_RR_BRANCH_self_test 2
#define XEN_RR_BRANCH_speclockmap 3
#define XEN_RR_BRANCH_busy 4
#define XEN_RR_RUN_none 0
#define XEN_RR_RUN_running 1
#define XEN_RR_RUN_stopped 2
#define XEN_RR_RUN_missed 3
#define XEN_RR_RUN_unlogged 4
#define XEN_RR_RUN_bad_entry 5
#define XEN_RR_RUN_waiting 6
#define XEN_RR_RUN_registers 7
#define XEN_RR_RUN_conflict 8
#define XEN_RR_RUN_input 9

struct xen_rr_info {
    uint32_t interface_version;
    uint32_t features;
    uint32_t max_vcpus;
    uint32_t branch_status;
    uint64_t branch_event;
    uint32_t branch_skid;
    uint32_t pad;
};

struct xen_rr_enable {
    uint32_t mode;
    uint32_t position_mode;
    uint32_t flags;
    uint32_t shadow_mb;
};

struct xen_rr_stats {
    uint32_t vcpu;
    uint32_t mode;
    uint32_t nr_vcpus;
    uint32_t shadow_mb;
    uint64_t position;
    uint64_t rip;
    uint64_t hypercalls;
    uint64_t syscalls;
    uint64_t exceptions;
    uint64_t emulations;
    uint64_t shadow_faults;
    uint64_t crew_events;
    uint64_t records;
    uint64_t bytes;
    uint64_t shadows;
    uint32_t reductions;
    uint32_t forced;
    uint64_t reduction_position;
};

struct xen_rr_frame {
    uint64_t mfn;
    uint32_t vcpu;
    uint32_t access;
    uint32_t mapped;
    uint32_t entries;
    uint32_t flags;
    uint32_t pending;
};

struct xen_rr_ring_info {
    uint32_t vcpu;
    uint32_t frames;
    uint32_t evtchn;
    uint32_t pad;
};

struct xen_rr_frames {
    uint64_t start;
    uint32_t nr;
    uint32_t flags;
    uint64_t mfns;          /* XEN_GUEST_HANDLE_64(uint64) */
    uint64_t pfns;
    uint64_t count;
    uint32_t busy;
    uint32_t pad;
    uint8_t  handle[16];
    uint64_t shared_info;
};

struct xen_rr_run {
    uint32_t vcpu;
    uint32_t state;
    uint64_t count;
    uint64_t rip;
    uint64_t rcx;
    uint64_t at_count;
    uint64_t at_rip;
    uint64_t at_rcx;
    uint64_t steps;
    uint64_t overflows;
    uint64_t applied;
    uint64_t registers;
    uint32_t holder;
    uint32_t pad;
    uint64_t inputs;
};

struct xen_rr_ring_header {
    uint64_t prod;
    uint64_t cons;
    uint32_t size;
    uint32_t flags;
};

struct xen_rr_ring_entry {
    uint64_t seq;
    uint32_t type;
    uint32_t length;
};

struct xen_domctl_rr_op {
    uint32_t op;
    uint32_t pad;
    union {
        struct xen_rr_info info;
        struct xen_rr_enable enable;
        struct xen_rr_stats stats;
        struct xen_rr_frame frame;
        struct xen_rr_ring_info ring;
        struct xen_rr_frames frames;
        struct xen_rr_run run;
    } u;
};

struct xen_domctl_vcpucontext {
    uint32_t vcpu;
    uint64_t ctxt;          /* XEN_GUEST_HANDLE_64(vcpu_guest_context_t) */
};

struct xen_domctl {
    uint32_t cmd;
    uint32_t interface_version;
    domid_t  domain;
    uint16_t _pad[3];
    union {
        struct xen_domctl_getdomaininfo getdomaininfo;
        struct xen_domctl_vcpucontext vcpucontext;
        struct xen_domctl_getpageframeinfo3 getpageframeinfo3;
        struct xen_domctl_getvcpuinfo getvcpuinfo;
        struct xen_domctl_shadow_op shadow_op;
        struct xen_domctl_rr_op rr_op;
        uint8_t pad[128];
    } u;
};
"""

