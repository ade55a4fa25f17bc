/* The watchdog: a thread that ends the job when a point hangs (--timeout) or when the process
 * is told to stop (SIGTERM from mpirun after another rank died, SIGINT, SIGHUP), after letting
 * the caller close the run file with an `end` record, so nothing measured is lost.
 *
 * sb_watchdog_block_signals() must run first in main, before MPI_Init starts threads of its
 * own: the signals are then blocked in every thread and only the watchdog thread receives
 * them (sigtimedwait), where writing a file is safe. The watchdog thread never calls MPI. */
#ifndef SB_WATCHDOG_H
#define SB_WATCHDOG_H

/* Called on the watchdog thread: what is the hung point's label (timeout, sig == 0) or NULL
 * (signal sig). The process exits with the returned status right after. */
typedef int (*sb_watchdog_fn)(const char *what, double timeout, int sig, void *arg);

void sb_watchdog_block_signals(void);
int sb_watchdog_start(sb_watchdog_fn fn, void *arg);
/* Start counting `timeout` seconds for the point `label` (copied); timeout <= 0 disarms. */
void sb_watchdog_arm(const char *label, double timeout);
void sb_watchdog_disarm(void);
/* Stop the thread (at the end of main). */
void sb_watchdog_stop(void);

#endif
