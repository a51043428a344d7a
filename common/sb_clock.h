/*
 * sb_clock: the clocks the programs read.  Wall-clock time stamps events;
 * the monotonic clock measures waits and idleness, which a wall clock set
 * back or forward would distort.
 */
#ifndef SB_CLOCK_H
#define SB_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch, now (wall clock). */
int64_t sb_clock_now_ms(void);

/* Milliseconds of the monotonic clock (an arbitrary origin). */
int64_t sb_clock_mono_ms(void);

/* Sleeps `ms` milliseconds (less if a signal arrives). */
void sb_clock_sleep_ms(int ms);

#endif
