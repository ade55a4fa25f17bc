#include "world.h"

#include "error.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int local_rank, local_size = 1;
static int thread_requested, thread_provided;

static const char *const level_names[] = {"single", "funneled", "serialized", "multiple"};
static const int mpi_levels[] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED,
                                 MPI_THREAD_MULTIPLE};

const char *sb_thread_level_name(int level)
{
	return level >= 0 && level < 4 ? level_names[level] : "?";
}

int sb_thread_level_from_argv(int argc, char **argv)
{
	int level = SB_THREAD_SINGLE; /* the last one given wins, as in the option parser */
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--mpi-thread") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--mpi-thread=", 13) == 0)
			v = argv[i] + 13;
		else if (strcmp(argv[i], "--") == 0)
			break;
		for (int k = 0; v && k < 4; k++)
			if (strcmp(v, level_names[k]) == 0)
				level = k;
	}
	return level;
}

void sb_world_thread_levels(int *requested, int *provided)
{
	*requested = thread_requested;
	*provided = thread_provided;
}

void sb_world_local(int *lr, int *ls)
{
	*lr = local_rank;
	*ls = local_size;
}

int sb_world_init(int *argc, char ***argv, int level, int *rank, int *size, char *host, int hostlen)
{
	int provided, len;
	if (level < 0 || level > 3)
		level = SB_THREAD_SINGLE;
	if (MPI_Init_thread(argc, argv, mpi_levels[level], &provided) != MPI_SUCCESS)
		return SB_ECOMM;
	thread_requested = level;
	thread_provided = SB_THREAD_SINGLE;
	for (int k = 0; k < 4; k++)
		if (provided == mpi_levels[k])
			thread_provided = k;
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
