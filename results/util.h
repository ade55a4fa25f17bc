/* Small pieces the collector's parts share. */
#ifndef SBR_UTIL_H
#define SBR_UTIL_H

#include "sbr.h"

#include <stddef.h>
#include <stdint.h>

/* Write the message into err and return code (for "return sbr_fail(err, len, SB_EINPUT,
 * "%s:%zu: ...", path, line)"). */
int sbr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* strdup that is C11 (NULL stays NULL). */
char *sbr_strdup(const char *s);
/* FNV-1a 64 of a string, continuing from h (start with SBR_FNV_OFFSET); NULL adds nothing. */
/* Append a formatted piece to the string in buf, "; " between pieces; what does not fit is
 * left out. */
void sbr_append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Bytes as "16 KiB", "256 MiB", "10 GiB" (binary units, %g). */
void sbr_size_text(char *buf, size_t len, double n);
#define SBR_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t sbr_fnv1a(uint64_t h, const char *s);

#endif
