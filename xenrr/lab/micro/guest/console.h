/*
 * Console output, written twice so it is seen on any hypervisor build:
 * HYPERVISOR_console_io (Xen's own console, `xl dmesg`; a domU may use it
 * only on a CONFIG_VERBOSE_DEBUG build) and the PV console ring that
 * xenconsoled drains into its per-guest log.  Only vCPU 0 prints: the
 * other vCPUs never touch the console, so the ring needs no lock and the
 * console pages take no part in the workloads' sharing.
 */
#ifndef MICRO_CONSOLE_H
#define MICRO_CONSOLE_H

#include <stdarg.h>
#include "xen.h"

void console_init(const struct start_info *si);

/* Print one line "micro: <formatted>\n" (%s %c %d %u %x, l, 0 and width). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same with a va_list and a fixed lead before it ("FAIL "). */
void vsay(const char *lead, const char *fmt, va_list ap);

#endif /* MICRO_CONSOLE_H */
