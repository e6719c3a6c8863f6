/* The measured routines of branches.S (their counts are in its comments). */
#ifndef BRANCHES_H
#define BRANCHES_H

void r_jcc(void);
void r_jcc_near(void);
void r_loop(void);
void r_loopz(void);
void r_loopnz(void);
void r_jcxz(void);
void r_rep(void);
void r_fcmov(void);
void r_jmp(void);
void r_rdpmc(void);
void r_rdpmc_bad(void);
void r_bench(void);
void count_kernel(void (*fn)(void));

#endif
