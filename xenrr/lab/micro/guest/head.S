/*
 * Boot: the Xen ELF notes that make this image a 64-bit PV kernel, and the
 * entry points of vCPU 0 (from the domain builder) and of the other vCPUs
 * (from the context micro_vcpu_up gives VCPUOP_initialise).
 */
#include "xen.h"
#include "micro.h"

/* One Xen ELF note: namesz, descsz, type, "Xen\0", then the descriptor. */
.macro xen_note type:req, desc:vararg
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 2f - 1f
    .long \type
    .asciz "Xen"
1:  \desc
2:  .balign 4
    .popsection
.endm

    xen_note XEN_ELFNOTE_GUEST_OS,       .asciz "xenrr-micro"
    xen_note XEN_ELFNOTE_GUEST_VERSION,  .asciz "1"
    xen_note XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0"
    xen_note XEN_ELFNOTE_LOADER,         .asciz "generic"
    /* virt_base 0 and paddr offset 0: a frame's pfn is its address >> 12. */
    xen_note XEN_ELFNOTE_VIRT_BASE,      .quad 0
    xen_note XEN_ELFNOTE_PADDR_OFFSET,   .quad 0
    xen_note XEN_ELFNOTE_ENTRY,          .quad micro_start
    xen_note XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page

    .text

/*
 * vCPU 0 enters here with start_info in %rsi, on a one-page bootstrap stack
 * the builder placed after the page tables.  Move to our own stack.
 */
    .globl micro_start
    .type micro_start, @function
micro_start:
    leaq micro_stacks + MICRO_STACK_SIZE(%rip), %rsp
    movq %rsi, %rdi
    call micro_main
    ud2
    .size micro_start, . - micro_start

/* Other vCPUs enter here with their id in %rdi and their stack in %rsp. */
    .globl micro_vcpu_entry
    .type micro_vcpu_entry, @function
micro_vcpu_entry:
    call micro_vcpu_main
    ud2
    .size micro_vcpu_entry, . - micro_vcpu_entry

    .section .note.GNU-stack, "", @progbits
