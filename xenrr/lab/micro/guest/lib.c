/* The few C library routines a freestanding build still needs. */
#include "micro.h"

void *memset(void *dst, int c, unsigned long n)
{
    uint8_t *d = dst;

    while ( n-- )
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    while ( n-- )
        *d++ = *s++;
    return dst;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
    const uint8_t *x = a, *y = b;

    for ( ; n; n--, x++, y++ )
        if ( *x != *y )
            return *x < *y ? -1 : 1;
    return 0;
}

unsigned long strlen(const char *s)
{
    unsigned long n = 0;

    while ( s[n] )
        n++;
    return n;
}

uint64_t fnv1a64(uint64_t h, const void *data, unsigned long len)
{
    const uint8_t *p = data;

    while ( len-- )
    {
        h ^= *p++;
        h *= 0x100000001b3ull;
    }
    return h;
}
