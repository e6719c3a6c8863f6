/*
 * The measured code: routines whose conditional branches are known
 * exactly, in assembly so that no compiler decides how many there are.
 * Each reads its count from arg_n (>= 1), may clobber %eax, %ecx, %edx,
 * %esi and %edi, and returns with ret; run at CPL 0 (count_kernel) or
 * CPL 3 (run_user).  branches.h gives each routine's expected count.
 */

    .text

/* N short Jcc (0x75 rel8). */
    .globl r_jcc
r_jcc:
    mov arg_n, %ecx
1:  dec %ecx
    jnz 1b
    ret

/* N near Jcc (0x0f 0x85 rel32). */
    .globl r_jcc_near
r_jcc_near:
    mov arg_n, %ecx
1:  dec %ecx
    {disp32} jnz 1b
    ret

/* N LOOP. */
    .globl r_loop
r_loop:
    mov arg_n, %ecx
1:  loop 1b
    ret

/* N LOOPZ (ZF stays set). */
    .globl r_loopz
r_loopz:
    mov arg_n, %ecx
    xor %eax, %eax
1:  test %eax, %eax
    loopz 1b
    ret

/* N LOOPNZ (ZF stays clear). */
    .globl r_loopnz
r_loopnz:
    mov arg_n, %ecx
    mov $1, %eax
1:  test %eax, %eax
    loopnz 1b
    ret

/* N JECXZ, half taken, and N Jcc: 2N. */
    .globl r_jcxz
r_jcxz:
    mov arg_n, %edx
1:  mov %edx, %ecx
    and $1, %ecx
    jecxz 2f
2:  dec %edx
    jnz 1b
    ret

/*
 * N iterations of rep stosb, rep movsb, repe cmpsb and repne scasb over
 * 512 bytes, each a loop QEMU builds with branches of its own: N (the Jcc).
 */
    .globl r_rep
r_rep:
    push %ebx
    mov arg_n, %ebx
    cld
1:  mov $rep_a, %edi
    mov $512, %ecx
    xor %eax, %eax
    rep stosb
    mov $rep_a, %esi
    mov $rep_b, %edi
    mov $512, %ecx
    rep movsb
    mov $rep_a, %esi
    mov $rep_b, %edi
    mov $512, %ecx
    repe cmpsb
    mov $rep_a, %edi
    mov $512, %ecx
    mov $1, %eax
    repne scasb
    dec %ebx
    jnz 1b
    pop %ebx
    ret

/* N iterations of fcmov, cmov and setcc (none of them a branch): N. */
    .globl r_fcmov
r_fcmov:
    mov arg_n, %ecx
    fninit
    fld1
    fldz
1:  fcmovb %st(1), %st
    fcmovnb %st(1), %st
    cmovz %ecx, %eax
    setz %dl
    dec %ecx
    jnz 1b
    fstp %st(0)
    fstp %st(0)
    ret

/* N iterations of call, ret and jmp (unconditional: not counted): N. */
    .globl r_jmp
r_jmp:
    mov arg_n, %ecx
1:  call 3f
    jmp 2f
2:  dec %ecx
    jnz 1b
    ret
3:  ret

/* N Jcc, then rdpmc of counter 0 into rdpmc_value. */
    .globl r_rdpmc
r_rdpmc:
    mov arg_n, %ecx
1:  dec %ecx
    jnz 1b
    xor %ecx, %ecx
    rdpmc
    mov %eax, rdpmc_value
    mov %edx, rdpmc_value + 4
    ret

/* rdpmc of counter 4, which does not exist: #GP. */
    .globl r_rdpmc_bad
r_rdpmc_bad:
    mov $4, %ecx
    rdpmc
    ret

/*
 * The benchmark loop (not counted): arg_n iterations of a xorshift step
 * and a branch on its low bit, two conditional branches per iteration,
 * the sum left in bench_acc.
 */
    .globl r_bench
r_bench:
    push %ebx
    mov arg_n, %ecx
    mov $1, %eax
    xor %edx, %edx
1:  mov %eax, %ebx
    shl $13, %ebx
    xor %ebx, %eax
    mov %eax, %ebx
    shr $17, %ebx
    xor %ebx, %eax
    mov %eax, %ebx
    shl $5, %ebx
    xor %ebx, %eax
    test $1, %al
    jz 2f
    add %eax, %edx
    jmp 3f
2:  mov %eax, %ebx
    shr $3, %ebx
    xor %ebx, %edx
3:  dec %ecx
    jnz 1b
    mov %edx, bench_acc
    pop %ebx
    ret

/*
 * void count_kernel(void (*fn)(void)): PERF_CTL0 = pmu_ctl, fn at CPL 0,
 * PERF_CTL0 = 0; no conditional branch of its own runs in between.
 */
    .globl count_kernel
count_kernel:
    push %ebx
    push %esi
    push %edi
    mov $0xc0010000, %ecx
    mov pmu_ctl, %eax
    mov pmu_ctl + 4, %edx
    wrmsr
    call *16(%esp)
    mov $0xc0010000, %ecx
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    pop %edi
    pop %esi
    pop %ebx
    ret

    .bss
    .align 4096
rep_a:
    .space 4096
rep_b:
    .space 4096
