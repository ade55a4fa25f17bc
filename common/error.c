/* The error codes' texts and exit statuses: nothing else, so that the collector links this
 * without the logger (log.c) or MPI. */
#include "error.h"

const char *sb_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define SB__ERR_STR(name, val, status, msg)                                                        \
	case (val):                                                                                \
		return (msg);
		SB_ERRNO_MAP(SB__ERR_STR)
#undef SB__ERR_STR
	}
	return "unknown error";
}

int sb_exit_status(int err)
{
	switch (err) {
	case 0:
		return SB_EXIT_OK;
#define SB__ERR_STATUS(name, val, status, msg)                                                     \
	case (val):                                                                                \
		return (status);
		SB_ERRNO_MAP(SB__ERR_STATUS)
#undef SB__ERR_STATUS
	}
	return SB_EXIT_FAULT;
}
