/* The MPI world the program runs in: started once by main before anything else, so that every
 * rank can parse the command line and rank 0 alone reports bad input. */
#ifndef SB_WORLD_H
#define SB_WORLD_H

/* MPI thread levels, in MPI's order. SINGLE is the default: any level above it turns on Open
 * MPI's locking in the message path (opal_uses_threads), which cost 1.3-1.45x a bare loop at
 * small messages on 2 ranks (OpenMPI 4.1.4, shared memory). Nothing in scalebench needs more:
 * the watchdog is a timer signal, not a thread. Hybrid applications run at FUNNELED or
 * MULTIPLE, and --mpi-thread measures that cost on purpose. */
enum sb_thread_level {
	SB_THREAD_SINGLE,
	SB_THREAD_FUNNELED,
	SB_THREAD_SERIALIZED,
	SB_THREAD_MULTIPLE
};
#define SB_THREAD_CHOICES "single|funneled|serialized|multiple"
const char *sb_thread_level_name(int level);
/* The level --mpi-thread asks for, read from argv before MPI starts (the option parser runs
 * after MPI_Init so that rank 0 alone reports bad input); SINGLE when absent or not a level
 * (the parser reports a bad value afterwards). */
int sb_thread_level_from_argv(int argc, char **argv);

/* MPI_Init_thread at `level`. Fills rank, size and this process's host name and tells the
 * logger. */
int sb_world_init(int *argc, char ***argv, int level, int *rank, int *size, char *host,
                  int hostlen);
/* The levels asked for and given by MPI_Init_thread (enum sb_thread_level). */
void sb_world_thread_levels(int *requested, int *provided);
/* MPI_Finalize. */
void sb_world_fini(void);
/* Abandon the job from any rank: MPI_Abort with the given status. */
void sb_world_abort(int status);
/* The MPI library's own version string (MPI_Get_library_version), first line. */
const char *sb_world_mpi_version(void);
/* This rank's index among the ranks of its host, and their number (MPI shared-memory
 * split), fixed at sb_world_init. */
void sb_world_local(int *local_rank, int *local_size);
/* Make every rank agree on a status: the largest over ranks. */
int sb_world_max_status(int status);

#endif
