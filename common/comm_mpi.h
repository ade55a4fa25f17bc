/* The mpi backend's pieces, shared with the GPU backends, which use MPI for their control
 * plane (and mpi-gpu for its data). Internal: backends only. */
#ifndef SB_COMM_MPI_H
#define SB_COMM_MPI_H

#include "comm.h"

#include <mpi.h>

/* First member of every MPI-based backend's private state, so these functions work on it. */
struct sb__mpi {
	MPI_Comm comm;
	size_t max_count; /* largest count in one MPI call */
};

MPI_Datatype sb__mpi_type(enum sb_dtype t);
int sb__mpi_fail(const char *what, int rc);
/* Join the world on a duplicate of MPI_COMM_WORLD: fills p and c->rank, c->size. */
int sb__mpi_join(struct sb_comm *c, struct sb__mpi *p);
void sb__mpi_leave(struct sb__mpi *p);
int sb__mpi_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                      enum sb_dtype t, enum sb_op op);
int sb__mpi_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                     size_t bytes);
int sb__mpi_barrier(struct sb_comm *c);
int sb__mpi_ctl_max(struct sb_comm *c, double *v, size_t n);
int sb__mpi_ctl_sum(struct sb_comm *c, long long *v, size_t n);
int sb__mpi_ctl_gatherv(struct sb_comm *c, const char *mine, char ***out);
int sb__mpi_ctl_clock_offset(struct sb_comm *c, int d, double *prev);
void sb__mpi_abort(struct sb_comm *c, int status);
void sb__mpi_describe(struct sb_comm *c, json_t *obj);

#endif
