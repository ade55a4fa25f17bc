#include "world.h"

#include "error.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int local_rank, local_size = 1;

void sb_world_local(int *lr, int *ls)
{
	*lr = local_rank;
	*ls = local_size;
}

int sb_world_init(int *argc, char ***argv, int *rank, int *size, char *host, int hostlen)
{
	int provided, len;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
		return SB_ECOMM;
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, size);
	char name[MPI_MAX_PROCESSOR_NAME];
	MPI_Get_processor_name(name, &len);
	snprintf(host, (size_t)hostlen, "%s", name);
	sb_log_set_rank(*rank, *size, host);
	MPI_Comm node;
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
	    MPI_SUCCESS) {
		MPI_Comm_rank(node, &local_rank);
		MPI_Comm_size(node, &local_size);
		MPI_Comm_free(&node);
	}
	return 0;
}

void sb_world_fini(void)
{
	int done = 0;
	MPI_Finalized(&done);
	if (!done)
		MPI_Finalize();
}

void sb_world_abort(int status)
{
	MPI_Abort(MPI_COMM_WORLD, status);
}

const char *sb_world_mpi_version(void)
{
	static char v[MPI_MAX_LIBRARY_VERSION_STRING];
	int len;
	MPI_Get_library_version(v, &len);
	v[strcspn(v, "\n")] = '\0';
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == ','))
		v[--len] = '\0';
	return v;
}

int sb_world_max_status(int status)
{
	int out = status;
	MPI_Allreduce(&status, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return out;
}
