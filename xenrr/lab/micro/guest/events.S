/*
 * The callbacks HYPERVISOR_set_callbacks names (events.c).
 *
 * Xen enters events_callback on the interrupted vCPU's stack (this guest
 * never leaves kernel mode), with upcalls masked and a bounce frame of
 * seven words, 56 bytes below a 16-byte boundary:
 *
 *   rcx, r11, rip, cs, rflags, rsp, ss
 *
 * the last five an iret frame whose rflags.IF says whether upcalls were
 * unmasked when the event came.  The callback returns with HYPERVISOR_iret:
 * it jumps to the stub with the flags word pushed on that frame, the stub
 * pushes rcx, r11 and rax (struct iret_context), and Xen restores all of
 * them (flags 0: not VGCF_in_syscall, so rcx and r11 too), the stack and
 * the upcall mask (from rflags.IF).  An event that came meanwhile makes
 * Xen enter the callback again on its way back.
 */
#include "xen.h"

    .text
    .globl events_callback
    .type events_callback, @function
events_callback:
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq $16, %rsp
    /* The registers a C function may change: 72 bytes, %rsp now aligned. */
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq %rsp, %rdi
    call events_upcall
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    pushq $0
    jmp hypercall_page + __HYPERVISOR_iret * 32
    .size events_callback, . - events_callback

/*
 * Xen enters events_failsafe_callback when it cannot load a segment
 * register it returns to the guest with (frame: rcx, r11, ds, es, fs, gs,
 * then an iret frame); events_failsafe ends the domain.
 */
    .globl events_failsafe_callback
    .type events_failsafe_callback, @function
events_failsafe_callback:
    andq $-16, %rsp
    call events_failsafe
    ud2
    .size events_failsafe_callback, . - events_failsafe_callback

    .section .note.GNU-stack, "", @progbits
