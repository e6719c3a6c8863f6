/*
 * Hypercalls.  The domain builder fills hypercall_page (named by the
 * XEN_ELFNOTE_HYPERCALL_PAGE note) with one 32-byte stub per hypercall; for
 * a 64-bit PV guest each stub loads the number into %eax and executes
 * `syscall`, saving %rcx and %r11 around it.  Until then the page holds
 * int3, so a hypercall made too early traps instead of running garbage.
 */

    .section .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc

    .text
/*
 * long micro_hypercall(unsigned long nr, unsigned long a1, ..., a5)
 * Moves the C arguments (%rdi %rsi %rdx %rcx %r8 %r9) into Xen's order
 * (%rdi %rsi %rdx %r10 %r8) and tail-calls the stub, whose ret returns to
 * our caller with the result in %rax.  Xen may clobber the argument
 * registers it used; the C ABI lets a callee clobber all of them anyway.
 */
    .globl micro_hypercall
    .type micro_hypercall, @function
micro_hypercall:
    movq %rdi, %rax
    shlq $5, %rax
    leaq hypercall_page(%rip), %r11
    addq %r11, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    movq %rcx, %rdx
    movq %r8, %r10
    movq %r9, %r8
    jmp *%rax
    .size micro_hypercall, . - micro_hypercall

    .section .note.GNU-stack, "", @progbits
