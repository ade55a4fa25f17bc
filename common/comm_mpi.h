/* The mpi backend's pieces, shared with the GPU backends, which use MPI for their control
 * plane (and mpi-gpu for its data). Internal: backends only. */
#ifndef SB_COMM_MPI_H
#define SB_COMM_MPI_H

#include "comm.h"

#include <mpi.h>

/* First member of every MPI-based backend's private state, so these functions work on it. Two
 * duplicates of the world (or of a split of it): the data path's, and the control plane's, so
 * that a control message posted with SB_ANY_TAG never takes a benchmark's send/recv or a
 * clock round trip. */
struct sb__mpi {
	MPI_Comm comm; /* the data path; the clock offsets' round trips */
	MPI_Comm ctl; /* the control plane: collectives and non-blocking messages */
	size_t max_count; /* largest count in one MPI call */
};

/* The control plane over MPI (comm_mpi.c), every MPI-based backend's ctl. */
extern const struct sb_ctl sb__mpi_ctl;

MPI_Datatype sb__mpi_type(enum sb_dtype t);
int sb__mpi_fail(const char *what, int rc);
/* Join the world on duplicates of MPI_COMM_WORLD: fills p and c->rank, c->size. */
int sb__mpi_join(struct sb_comm *c, struct sb__mpi *p);
/* Split the parent's communicators into child's p (MPI_Comm_split of both; collective over
 * parent): fills p, child->rank and child->size; a negative color gets MPI_COMM_NULL, rank -1
 * and size 0. */
int sb__mpi_split(struct sb_comm *parent, int color, int key, struct sb_comm *child,
                  struct sb__mpi *p);
void sb__mpi_leave(struct sb__mpi *p);
/* Out of memory "what" where the other ranks go on into a collective: the job ends (when there
 * are others); SB_ENOMEM. */
int sb__mpi_nomem(struct sb_comm *c, const char *what);
int sb__mpi_allreduce(struct sb_comm *c, const void *send, void *recv, size_t count,
                      enum sb_dtype t, enum sb_op op);
int sb__mpi_sendrecv(struct sb_comm *c, const void *send, int dst, void *recv, int src,
                     size_t bytes);
void sb__mpi_describe(struct sb_comm *c, json_t *obj);

#endif
