/* The watchdog: ends the job when a point hangs (--timeout) or when the process is told to stop
 * (SIGTERM from mpirun after another rank died, SIGINT, SIGHUP), after letting the caller close
 * the run file with an `end` record, so nothing measured is lost.
 *
 * It is a timer signal, not a thread: a second thread would need an MPI thread level above
 * SINGLE to be legal, and any such level turns on Open MPI's locking in the message path
 * (world.h). A POSIX timer (CLOCK_MONOTONIC) raises SIGALRM when the armed point outlives its
 * timeout; the handler calls the caller's function and exits the process with its status.
 *
 * sb_watchdog_block_signals() must run first in main, before MPI_Init starts threads of its
 * own: the signals are then blocked in every thread that MPI creates, and sb_watchdog_start()
 * unblocks them in the main thread alone, so the handler always runs there, never in an MPI
 * progress thread. The handler never calls MPI. */
#ifndef SB_WATCHDOG_H
#define SB_WATCHDOG_H

/* Called in the signal handler, so it must be async-signal-safe (sigsafe.h, write(2), no
 * malloc, no stdio): what is the hung point's label (timeout, sig == 0) or NULL (signal sig).
 * The process exits with the returned status right after. */
typedef int (*sb_watchdog_fn)(const char *what, double timeout, int sig, void *arg);

void sb_watchdog_block_signals(void);
/* What sb_watchdog_start could not set up. */
#define SB_WATCHDOG_NO_SIGNALS 0x1u /* a handler: the signal ends the job, no end record */
#define SB_WATCHDOG_NO_TIMER 0x2u /* the POSIX timer: --timeout cannot be kept */

/* Install the handlers and the timer, unblock the signals in the calling (main) thread.
 * Returns 0, or SB_ESYS with *missing (SB_WATCHDOG_NO_*) saying what could not be set up;
 * whatever could be is in place, and the caller says what is missing. */
int sb_watchdog_start(sb_watchdog_fn fn, void *arg, unsigned *missing);
/* Start counting `timeout` seconds for the point `label` (copied); timeout <= 0 disarms. A
 * timer that cannot be set is reported here (a warning on this rank) and the point runs
 * without it. */
void sb_watchdog_arm(const char *label, double timeout);
void sb_watchdog_disarm(void);
/* Disarm, delete the timer and block the signals again (at the end of main). */
void sb_watchdog_stop(void);

#endif
