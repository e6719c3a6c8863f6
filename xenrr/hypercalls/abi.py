"""The binary interface xenrr speaks to Xen: one definition, in C syntax, for cffi.

The text below mirrors Xen's public headers (xen/include/public/domctl.h,
sysctl.h, memory.h and version.h of Xen 4.17 with hypervisor-patches/ applied,
and Linux's include/uapi/xen/privcmd.h and evtchn.h) for exactly what xenrr
uses. It is parsed by cffi, so sizes, offsets and constants come from it and
nowhere else in Python; tests/hypercalls/test_abi.py compiles Xen's own
headers and fails if any struct layout or #define here differs from them.
"""

import struct

import cffi

CDEF = """
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
#define XEN_DOMCTL_getvcpuinfo 14
#define XEN_DOMCTL_rr_op 87

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

#define XEN_RR_INTERFACE_VERSION 6
#define XEN_DOMCTL_RR_OP_get_info 0
#define XEN_DOMCTL_RR_OP_enable 1
#define XEN_DOMCTL_RR_OP_disable 2
#define XEN_DOMCTL_RR_OP_get_stats 3
#define XEN_DOMCTL_RR_OP_set_frame_access 4
#define XEN_DOMCTL_RR_OP_query_frame 5
#define XEN_DOMCTL_RR_OP_get_ring 6
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
#define XEN_RR_ENABLE_crew 1
#define XEN_RR_ACCESS_none 0
#define XEN_RR_ACCESS_read 1
#define XEN_RR_ACCESS_write 2
#define XEN_RR_ACCESS_rw 3
#define XEN_RR_FRAME_at_position 1
#define XEN_RR_FRAME_pending 2
#define XEN_RR_MAX_PENDING 16
#define XEN_RR_RING_wait 1
#define XEN_RR_BRANCH_available 0
#define XEN_RR_BRANCH_no_counter 1
#define XEN_RR_BRANCH_self_test 2
#define XEN_RR_BRANCH_speclockmap 3
#define XEN_RR_BRANCH_busy 4

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
    } u;
};

struct xen_domctl {
    uint32_t cmd;
    uint32_t interface_version;
    domid_t  domain;
    uint16_t _pad[3];
    union {
        struct xen_domctl_getdomaininfo getdomaininfo;
        struct xen_domctl_getvcpuinfo getvcpuinfo;
        struct xen_domctl_shadow_op shadow_op;
        struct xen_domctl_rr_op rr_op;
        uint8_t pad[128];
    } u;
};
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)
lib = ffi.dlopen(None)

_FORMATS = {("primitive", 1): "B", ("primitive", 2): "H", ("primitive", 4): "I",
            ("primitive", 8): "Q"}


def packer(ctype: str) -> struct.Struct:
    """A struct.Struct for a C struct of unsigned integer members, laid out as CDEF says.

    For paths that unpack one struct per entry, where a cffi cast costs
    more than struct does; the layout still has one definition, the CDEF.
    """
    fmt, offset = "<", 0
    for _, field in ffi.typeof(ctype).fields:
        if field.offset != offset:
            raise TypeError(f"{ctype}: padding before offset {field.offset}")
        code = _FORMATS.get((field.type.kind, ffi.sizeof(field.type)))
        if code is None:
            raise TypeError(f"{ctype}: {field.type.cname} is not an unsigned integer")
        fmt += code
        offset += ffi.sizeof(field.type)
    if offset != ffi.sizeof(ctype):
        raise TypeError(f"{ctype}: padding at its end")
    return struct.Struct(fmt)

# Names for the bit sets and enumerations the CLI shows.
RR_FEATURES = {name.removeprefix("XEN_RR_FEATURE_"): getattr(lib, name)
               for name in dir(lib) if name.startswith("XEN_RR_FEATURE_")}
RR_MODES = {getattr(lib, name): name.removeprefix("XEN_RR_MODE_")
            for name in dir(lib) if name.startswith("XEN_RR_MODE_")}
RR_POSITION_MODES = {name.removeprefix("XEN_RR_POSITION_"): getattr(lib, name)
                     for name in dir(lib) if name.startswith("XEN_RR_POSITION_")}
RR_BRANCH = {getattr(lib, name): name.removeprefix("XEN_RR_BRANCH_")
             for name in dir(lib) if name.startswith("XEN_RR_BRANCH_")}
RR_ACCESS = {name.removeprefix("XEN_RR_ACCESS_"): getattr(lib, name)
             for name in dir(lib) if name.startswith("XEN_RR_ACCESS_")}
