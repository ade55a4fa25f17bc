/* Monotonic wall clock for the driver. CLOCK_MONOTONIC is read through the vDSO (~20 ns) and is
 * not stepped by NTP, so differences are safe to take within a run. */
#ifndef SB_TIMER_H
#define SB_TIMER_H

#include <time.h>

#define SB_TIMER_NAME "clock_gettime(CLOCK_MONOTONIC)"

/* Seconds since an arbitrary origin fixed for the life of the process. */
static inline double sb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Timer resolution in seconds, as the system reports it. */
static inline double sb_timer_resolution(void)
{
	struct timespec ts;
	clock_getres(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
