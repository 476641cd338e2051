/* Wall-clock time in milliseconds, the unit of every SDPP timestamp and timer. */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t util_now_ms(void);

#endif
