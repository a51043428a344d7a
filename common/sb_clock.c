#include "sb_clock.h"

#include <time.h>

static int64_t ms_of(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sb_clock_now_ms(void) { return ms_of(CLOCK_REALTIME); }

int64_t sb_clock_mono_ms(void) { return ms_of(CLOCK_MONOTONIC); }

void sb_clock_sleep_ms(int ms) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}
