/* Rank-aware logging (error.h): scalebench's only; the collector prints its own messages. */
#include "error.h"

#include "sigsafe.h"

#include <stdio.h>
#include <string.h>

static int log_rank = 0;
static int log_size = 1;
static int log_quiet = 0;
static char log_host[64] = "";

void sb_log_set_rank(int rank, int size, const char *host)
{
	log_rank = rank;
	log_size = size;
	snprintf(log_host, sizeof log_host, "%s", host ? host : "");
}

int sb_log_rank(void)
{
	return log_rank;
}

const char *sb_log_host(void)
{
	return log_host;
}

void sb_log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

/* One fprintf per message so lines of different ranks do not interleave mid-line. */
static void emit(const char *kind, int tag, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (tag && log_size > 1)
		fprintf(stderr, "[rank %d %s] scalebench: %s%s\n", log_rank, log_host, kind, msg);
	else if (tag && log_host[0])
		fprintf(stderr, "[%s] scalebench: %s%s\n", log_host, kind, msg);
	else
		fprintf(stderr, "scalebench: %s%s\n", kind, msg);
	fflush(stderr);
}

void sb_log_fault(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("error: ", 1, fmt, ap);
	va_end(ap);
}

void sb_log_fault_sigsafe(const char *msg)
{
	char mem[1024];
	struct sb_sigbuf b;
	sb_sig_init(&b, mem, sizeof mem);
	if (log_size > 1) {
		sb_sig_str(&b, "[rank ");
		sb_sig_int(&b, log_rank);
		sb_sig_str(&b, " ");
		sb_sig_str(&b, log_host);
		sb_sig_str(&b, "] ");
	} else if (log_host[0]) {
		sb_sig_str(&b, "[");
		sb_sig_str(&b, log_host);
		sb_sig_str(&b, "] ");
	}
	sb_sig_str(&b, "scalebench: error: ");
	sb_sig_str(&b, msg);
	sb_sig_str(&b, "\n");
	(void)sb_sig_write(2, b.p, b.len); /* no way left to say that stderr failed */
}

void sb_log_usage(const char *fmt, ...)
{
	if (log_rank != 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("error: ", 0, fmt, ap);
	va_end(ap);
}

void sb_log_warn(const char *fmt, ...)
{
	if (log_rank != 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", 0, fmt, ap);
	va_end(ap);
}

void sb_log_warn_rank(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", 1, fmt, ap);
	va_end(ap);
}

void sb_log_info(const char *fmt, ...)
{
	if (log_rank != 0 || log_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", 0, fmt, ap);
	va_end(ap);
}
