#include "sigsafe.h"

#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

void sb_sig_init(struct sb_sigbuf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	b->len = 0;
	if (cap)
		mem[0] = '\0';
}

static void put(struct sb_sigbuf *b, char ch)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = ch;
		b->p[b->len] = '\0';
	}
}

void sb_sig_str(struct sb_sigbuf *b, const char *s)
{
	while (s && *s)
		put(b, *s++);
}

void sb_sig_json_str(struct sb_sigbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(b, '"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			put(b, '\\');
			put(b, (char)ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			sb_sig_str(b, "\\u00");
			put(b, hex[ch >> 4]);
			put(b, hex[ch & 15]);
		} else {
			put(b, (char)ch);
		}
	}
	put(b, '"');
}

void sb_sig_uint(struct sb_sigbuf *b, unsigned long long v)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put(b, d[--n]);
}

void sb_sig_int(struct sb_sigbuf *b, long long v)
{
	if (v < 0) {
		put(b, '-');
		sb_sig_uint(b, (unsigned long long)(-(v + 1)) + 1);
	} else {
		sb_sig_uint(b, (unsigned long long)v);
	}
}

void sb_sig_fixed(struct sb_sigbuf *b, double v, int decimals)
{
	if (!isfinite(v) || fabs(v) >= 1.8e19)
		v = 0;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (v < 0) {
		put(b, '-');
		v = -v;
	}
	unsigned long long scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	/* Round once on the scaled value so 0.9999999 becomes 1.000000, not 0.1000000. */
	double r = floor(v * (double)scale + 0.5);
	unsigned long long whole = (unsigned long long)(r / (double)scale);
	unsigned long long frac = (unsigned long long)(r - (double)whole * (double)scale);
	if (frac >= scale) {
		whole++;
		frac -= scale;
	}
	sb_sig_uint(b, whole);
	if (decimals) {
		put(b, '.');
		for (unsigned long long s = scale / 10; s; s /= 10) {
			put(b, (char)('0' + frac / s));
			frac %= s;
		}
	}
}

void sb_sig_num(struct sb_sigbuf *b, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9e15)
		sb_sig_int(b, (long long)v);
	else
		sb_sig_fixed(b, v, 6);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian): the era arithmetic published
 * by H. Hinnant ("chrono-compatible low-level date algorithms"). */
static void civil(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long yy = (long long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static void two(struct sb_sigbuf *b, unsigned v)
{
	put(b, (char)('0' + v / 10 % 10));
	put(b, (char)('0' + v % 10));
}

void sb_sig_utc(struct sb_sigbuf *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long secs = (long long)ts.tv_sec, days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	long long y;
	unsigned m, d;
	civil(days, &y, &m, &d);
	sb_sig_int(b, y);
	put(b, '-');
	two(b, m);
	put(b, '-');
	two(b, d);
	put(b, 'T');
	two(b, (unsigned)(rem / 3600));
	put(b, ':');
	two(b, (unsigned)(rem / 60 % 60));
	put(b, ':');
	two(b, (unsigned)(rem % 60));
	put(b, '.');
	unsigned long us = (unsigned long)(ts.tv_nsec / 1000);
	for (unsigned long s = 100000; s; s /= 10) {
		put(b, (char)('0' + us / s));
		us %= s;
	}
	put(b, 'Z');
}

int sb_sig_write(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

double sb_sig_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
