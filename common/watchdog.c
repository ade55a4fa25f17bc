#include "watchdog.h"

#include "error.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	int running;
	timer_t timer;
	volatile sig_atomic_t armed;
	/* Two label slots: arm writes the idle one, then flips `cur`, so the handler never
	 * reads a label that is half copied. */
	char label[2][128];
	volatile sig_atomic_t cur;
	volatile double timeout;
	sb_watchdog_fn fn;
	void *arg;
} wd;

static void watched(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGALRM);
}

void sb_watchdog_block_signals(void)
{
	sigset_t set;
	watched(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void on_signal(int sig)
{
	if (sig == SIGALRM && !wd.armed)
		return; /* a timer that fired as the point finished */
	int status = sig == SIGALRM ? wd.fn(wd.label[wd.cur], wd.timeout, 0, wd.arg)
	                            : wd.fn(NULL, 0, sig, wd.arg);
	_exit(status);
}

int sb_watchdog_start(sb_watchdog_fn fn, void *arg, unsigned *missing)
{
	*missing = 0;
	wd.fn = fn;
	wd.arg = arg;
	wd.armed = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	watched(&sa.sa_mask); /* one handler at a time: a SIGTERM cannot interrupt a timeout */
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGALRM};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			*missing |= SB_WATCHDOG_NO_SIGNALS;
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	wd.running = timer_create(CLOCK_MONOTONIC, &ev, &wd.timer) == 0;
	if (!wd.running)
		*missing |= SB_WATCHDOG_NO_TIMER;
	int rc = *missing ? SB_ESYS : 0;
	sigset_t set;
	watched(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return rc;
}

/* Set (or, with 0, stop) the timer. A timer that cannot be armed leaves that point without
 * its timeout: said once per process, on this rank (the caller has no way to act on it). */
static void set_timer(double seconds)
{
	static int said;
	if (!wd.running)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	if (seconds > 0) {
		its.it_value.tv_sec = (time_t)seconds;
		its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timer_settime(wd.timer, 0, &its, NULL) != 0 && seconds > 0 && !said) {
		said = 1;
		sb_log_warn_rank("cannot arm the --timeout timer (%s): points run without it",
		                 strerror(errno));
	}
}

void sb_watchdog_arm(const char *label, double timeout)
{
	if (timeout <= 0) {
		sb_watchdog_disarm();
		return;
	}
	wd.armed = 0;
	set_timer(0);
	int next = !wd.cur;
	snprintf(wd.label[next], sizeof wd.label[next], "%s", label);
	wd.cur = next;
	wd.timeout = timeout;
	wd.armed = 1;
	set_timer(timeout);
}

void sb_watchdog_disarm(void)
{
	wd.armed = 0;
	set_timer(0);
}

void sb_watchdog_stop(void)
{
	sb_watchdog_disarm();
	sb_watchdog_block_signals();
	if (wd.running)
		timer_delete(wd.timer);
	wd.running = 0;
}
