/* Small pieces the collector's parts share. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message is one line of text, whatever the input put into it (a JSON parser's "near '...'"
 * quotes the bytes of the file; a record's strings may hold any character): control characters
 * are written as C escapes, \n or \x1b, so a hostile file can neither split the line nor send
 * escape sequences to the terminal. What does not fit in len is cut. */
static void one_line(char *s, size_t len)
{
	size_t n = strlen(s), bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
	if (!bad)
		return;
	char *copy = malloc(n + 1);
	if (!copy) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				s[i] = '?';
		return;
	}
	memcpy(copy, s, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)copy[i];
		char esc[5] = {(char)c, 0};
		if (c == '\n' || c == '\r' || c == '\t')
			snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof esc, "\\x%02x", c);
		size_t k = strlen(esc);
		if (o + k >= len)
			break;
		memcpy(s + o, esc, k);
		o += k;
	}
	s[o] = '\0';
	free(copy);
}

int sbr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		one_line(err, errlen);
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
