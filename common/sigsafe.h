/* Text formatting that is safe in a signal handler: no malloc, no locks, no stdio, only
 * arithmetic on a caller's buffer. The watchdog's handler builds the run file's `end` record
 * and its one error line with these, so a hung point or a SIGTERM closes the run even when the
 * main thread was stopped inside malloc or stdio. */
#ifndef SB_SIGSAFE_H
#define SB_SIGSAFE_H

#include <stddef.h>

struct sb_sigbuf {
	char *p;
	size_t len, cap; /* what does not fit is dropped; p[len] is always '\0' */
};

void sb_sig_init(struct sb_sigbuf *b, char *mem, size_t cap);
void sb_sig_str(struct sb_sigbuf *b, const char *s);
/* s as a JSON string literal, quotes included (", \\ and control characters escaped). */
void sb_sig_json_str(struct sb_sigbuf *b, const char *s);
void sb_sig_uint(struct sb_sigbuf *b, unsigned long long v);
void sb_sig_int(struct sb_sigbuf *b, long long v);
/* v with `decimals` digits after the point (|v| < 1.8e19; NaN and infinities as 0). */
void sb_sig_fixed(struct sb_sigbuf *b, double v, int decimals);
/* v the shortest way this helper can: an integer when whole, else up to 6 decimals. */
void sb_sig_num(struct sb_sigbuf *b, double v);
/* The current UTC time as ISO 8601 with microseconds, like sb_utc_now. */
void sb_sig_utc(struct sb_sigbuf *b);
/* write(2) all of it to fd, retrying on EINTR and short writes; 0 or -1. */
int sb_sig_write(int fd, const char *s, size_t len);
/* Monotonic seconds (clock_gettime is async-signal-safe), as sb_now(). */
double sb_sig_now(void);

#endif
