/* Small pieces the collector's parts share. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

uint64_t sbr_fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

char *sbr_strdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void sbr_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	if (l + 1 >= len)
		return;
	if (l) {
		snprintf(buf + l, len - l, "; ");
		l = strlen(buf);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

void sbr_size_text(char *buf, size_t len, double n)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int k = 0;
	while (n >= 1024 && k < 4) {
		n /= 1024;
		k++;
	}
	snprintf(buf, len, "%g %s", n, u[k]);
}
