/* The explicit list of backends compiled into this build. */
#include "comm.h"
#include "timer.h"

#include <stdlib.h>
#include <string.h>

extern const struct sb_backend sb_backend_mpi;
extern const struct sb_backend sb_backend_fake;

const struct sb_backend *const sb_backends[] = {
    &sb_backend_mpi,
    &sb_backend_fake,
    NULL,
};

const struct sb_backend *sb_backend_find(const char *name)
{
	for (size_t i = 0; sb_backends[i]; i++)
		if (strcmp(sb_backends[i]->name, name) == 0)
			return sb_backends[i];
	return NULL;
}

double sb_comm_now(struct sb_comm *c)
{
	return c->be->now ? c->be->now(c) : sb_now();
}

void sb_strv_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
