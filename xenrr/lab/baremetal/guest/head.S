/*
 * Entry, interrupt stubs and the ring 3 trampoline of the PMU test kernel.
 *
 * QEMU's multiboot loader enters _start in 32-bit protected mode, flat
 * segments, paging and interrupts off, %ebx pointing at the multiboot
 * information.  main.c installs its own GDT (kernel and user segments, a
 * TSS) and IDT; everything runs at physical addresses.
 */

#define MB_MAGIC    0x1badb002
#define MB_FLAGS    0

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    mov $kernel_stack_top, %esp
    push %ebx
    call kmain
1:  hlt
    jmp 1b

/*
 * The interrupt stubs: every frame gets an error code (0 when the CPU
 * pushes none) and the vector, then the general registers (pusha), and
 * isr() sees them as a struct frame.
 */
.macro stub vector, has_error
    .globl isr_\vector
isr_\vector:
    .if !\has_error
    push $0
    .endif
    push $\vector
    jmp isr_common
.endm

    stub 0, 0
    stub 1, 0
    stub 2, 0
    stub 3, 0
    stub 4, 0
    stub 5, 0
    stub 6, 0
    stub 7, 0
    stub 8, 1
    stub 9, 0
    stub 10, 1
    stub 11, 1
    stub 12, 1
    stub 13, 1
    stub 14, 1
    stub 16, 0
    stub 17, 1
    stub 18, 0
    stub 19, 0
    stub 128, 0
    stub 240, 0
    stub 255, 0

isr_common:
    pusha
    push %esp
    call isr
    add $4, %esp
    popa
    add $8, %esp
    iret

/*
 * uint32_t run_user(void (*fn)(void)): call fn at CPL 3 (interrupts on,
 * so that a fixed-vector PMI gets through) until it comes back with
 * int $0x80 or faults; isr() then calls user_return(value), which
 * returns value from run_user on the kernel stack it was called on.
 */
    .globl run_user
run_user:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, kernel_esp
    mov 20(%esp), %eax
    mov %eax, user_fn
    pushl $0x23
    pushl $user_stack_top
    pushfl
    orl $0x200, (%esp)
    pushl $0x1b
    pushl $user_entry
    iret

user_entry:
    call *user_fn
    int $0x80

    .globl user_return
user_return:
    mov 4(%esp), %eax
    mov kernel_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .bss
    .align 16
kernel_esp:
    .long 0
user_fn:
    .long 0
    .align 4096
    .space 16384
kernel_stack_top:
    .space 16384
    .globl interrupt_stack_top
interrupt_stack_top:
    .space 16384
user_stack_top:
