/* The MPI world the program runs in: started once by main before anything else, so that every
 * rank can parse the command line and rank 0 alone reports bad input. */
#ifndef SB_WORLD_H
#define SB_WORLD_H

/* MPI_Init_thread (FUNNELED: only the main thread calls MPI; the watchdog thread never does).
 * Fills rank, size and this process's host name and tells the logger. */
int sb_world_init(int *argc, char ***argv, int *rank, int *size, char *host, int hostlen);
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
