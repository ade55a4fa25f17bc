/* Small pieces the collector's parts share. */
#ifndef SBR_UTIL_H
#define SBR_UTIL_H

#include "sbr.h"

#include <stddef.h>

/* Write the message into err and return code (for "return sbr_fail(err, len, SBR_EINPUT,
 * "%s:%zu: ...", path, line)"). */
int sbr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* strdup that is C11 (NULL stays NULL). */
char *sbr_strdup(const char *s);

#endif
