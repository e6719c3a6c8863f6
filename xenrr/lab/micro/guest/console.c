/* Console output: the line formatter and its two sinks (see console.h). */
#include <stdarg.h>
#include "console.h"
#include "hypercall.h"
#include "micro.h"

/* How often a full ring is waited on (one yield each) before it is given up. */
#define RING_PATIENCE 100000

static struct xencons_interface *ring;
static uint32_t ring_port;

void console_init(const struct start_info *si)
{
    uint64_t gfn = micro_gfn_of_mfn(si->console.mfn);

    /* No console page in our frames: Xen's console alone must do. */
    if ( gfn == ~0ull )
        return;
    ring = (struct xencons_interface *)(gfn << 12);
    ring_port = si->console.evtchn;
}

static void ring_write(const char *s, unsigned long len)
{
    unsigned int waited = 0;

    while ( ring && len )
    {
        uint32_t cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
        uint32_t prod = ring->out_prod;

        if ( prod - cons >= sizeof(ring->out) )
        {
            /* Full: let xenconsoled drain it, or stop using it. */
            hyp_evtchn_send(ring_port);
            hyp_yield();
            if ( ++waited == RING_PATIENCE )
                ring = 0;
            continue;
        }
        while ( len && prod - cons < sizeof(ring->out) )
        {
            ring->out[prod++ & (sizeof(ring->out) - 1)] = *s++;
            len--;
        }
        __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
    }
    if ( ring )
        hyp_evtchn_send(ring_port);
}

/* A line under construction; longer lines are cut. */
struct line {
    char buf[256];
    unsigned int len;
};

static void put(struct line *l, char c)
{
    if ( l->len < sizeof(l->buf) - 1 )
        l->buf[l->len++] = c;
}

static void put_string(struct line *l, const char *s)
{
    while ( *s )
        put(l, *s++);
}

static void put_number(struct line *l, uint64_t v, unsigned int base,
                       unsigned int width, char pad)
{
    char digits[20];
    unsigned int n = 0;

    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while ( v );
    while ( width > n )
    {
        put(l, pad);
        width--;
    }
    while ( n )
        put(l, digits[--n]);
}

static void format(struct line *l, const char *fmt, va_list ap)
{
    for ( ; *fmt; fmt++ )
    {
        unsigned int width = 0, is_long = 0;
        char pad = ' ';
        int64_t sv;

        if ( *fmt != '%' )
        {
            put(l, *fmt);
            continue;
        }
        if ( *++fmt == '0' )
            pad = '0';
        while ( *fmt >= '0' && *fmt <= '9' )
            width = width * 10 + (unsigned int)(*fmt++ - '0');
        if ( *fmt == 'l' )
        {
            is_long = 1;
            fmt++;
        }
        switch ( *fmt )
        {
        case 's':
            put_string(l, va_arg(ap, const char *));
            break;
        case 'c':
            put(l, (char)va_arg(ap, int));
            break;
        case 'd':
            sv = is_long ? va_arg(ap, long) : va_arg(ap, int);
            if ( sv < 0 )
                put(l, '-');
            put_number(l, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, 10, width, pad);
            break;
        case 'u':
        case 'x':
            put_number(l, is_long ? va_arg(ap, unsigned long)
                                  : va_arg(ap, unsigned int),
                       *fmt == 'u' ? 10 : 16, width, pad);
            break;
        case '\0':
            return;
        default:
            put(l, *fmt);
        }
    }
}

void vsay(const char *lead, const char *fmt, va_list ap)
{
    struct line l = { .len = 0 };

    put_string(&l, "micro: ");
    put_string(&l, lead);
    format(&l, fmt, ap);
    l.buf[l.len++] = '\n';
    hyp_console_write(l.buf, l.len);
    ring_write(l.buf, l.len);
}

void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay("", fmt, ap);
    va_end(ap);
}
