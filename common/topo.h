/* Where every rank sits: hwloc discovery of each rank's binding and neighbourhood (cores,
 * NUMA node, package, its GPU and the nearest NICs), gathered at rank 0, with pair classes,
 * warnings and an optional re-binding (--bind).
 *
 * The discovery is split so that the tests can drive it on fixture machines: sb_topo_load()
 * gives an hwloc topology (this machine's, or HWLOC_XMLFILE / HWLOC_SYNTHETIC), and
 * sb_topo_describe() fills a rank record from a topology, a binding and a GPU's PCI bus id.
 * Debian's hwloc has no CUDA/NVML plugin: a GPU is found through hwloc's PCI objects from its
 * bus id. */
#ifndef SB_TOPO_H
#define SB_TOPO_H

#include "comm.h"

#include <hwloc.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* How two ranks are placed, nearest first. */
enum sb_pair {
	SB_PAIR_SAME_CORE,
	SB_PAIR_SAME_NUMA,
	SB_PAIR_SAME_PACKAGE,
	SB_PAIR_SAME_HOST,
	SB_PAIR_CROSS_HOST,
	SB_PAIR_COUNT
};
const char *sb_pair_name(enum sb_pair p); /* "same-core", ..., "cross-host" */

/* One rank's place. Lists use hwloc's list syntax ("0-3,8"); -1 means "spans several". */
struct sb_topo_rank {
	int rank, local_rank, local_size;
	char host[64];
	long pid;
	int bind_known; /* the binding could be read (a fixture topology is not this system) */
	int bound; /* bound to fewer PUs than the machine allows */
	char cpuset[96]; /* PUs of the binding, OS indexes */
	int npus, ncores; /* PUs in the binding; cores it touches */
	char cores[96]; /* cores it touches, logical indexes */
	char numa[48]; /* NUMA nodes it touches, OS indexes */
	char packages[48]; /* packages it touches, logical indexes */
	int core, numa_node, package; /* the one holding the whole binding, or -1 */
	char gpu[32]; /* PCI bus id of the GPU this rank uses, "" for none */
	int gpu_found; /* that bus id is in the topology */
	int gpu_numa; /* NUMA node (OS index) local to the GPU, -1 unknown */
	char gpu_cpuset[96]; /* PUs local to the GPU */
	char nics[128]; /* nearest network devices, comma-separated */
	char bind_action[320]; /* what --bind did, "" for keep */
};

/* One host's machine. */
struct sb_topo_host {
	char host[64];
	int packages, numa_nodes, cores, pus;
	unsigned long long memory; /* bytes */
	int gpus, nics;
	char gpu_list[256]; /* "0000:3b:00.0@numa1,..." */
	char nic_list[256]; /* "mlx5_0,ib0,eth0" */
	char synthetic[256]; /* hwloc synthetic description, "" when not expressible */
	char xml_hash[17]; /* FNV-1a 64 of the XML export, hex */
};

/* A warning about placement, for the run record and stderr. */
struct sb_topo_warning {
	char kind[32]; /* "unbound", "oversubscribed", "cross-numa-binding", "gpu-numa-mismatch",
	                  "shared-gpu", "uneven-packages", "binding-unknown" */
	char host[64];
	char message[256];
};

/* Everything rank 0 knows after the gather. */
struct sb_topo {
	int nranks;
	struct sb_topo_rank *ranks; /* nranks */
	int nhosts;
	struct sb_topo_host *hosts; /* nhosts, in order of first rank */
	int *host_of; /* nranks: index into hosts */
	size_t nwarnings;
	struct sb_topo_warning *warnings;
	double seconds; /* discovery time, slowest rank */
};

/* Load a topology with I/O objects (PCI devices, GPUs, NICs). HWLOC_XMLFILE and
 * HWLOC_SYNTHETIC are honoured by hwloc itself. Returns 0, or SB_EINVAL with a message (an
 * unreadable HWLOC_XMLFILE is bad input). */
int sb_topo_load(hwloc_topology_t *out, char *err, size_t errlen);

/* Fill r from topo for a binding (NULL: read this process's, when the topology is this
 * system's) and a GPU bus id ("" or NULL for none). rank, local_rank, local_size, host and pid
 * are left to the caller. */
void sb_topo_describe(hwloc_topology_t topo, hwloc_const_cpuset_t binding, const char *gpu,
                      struct sb_topo_rank *r);
void sb_topo_describe_host(hwloc_topology_t topo, const char *host, struct sb_topo_host *h);

/* --bind auto: the PUs rank local_rank of local_size should be bound to (all the PUs of the
 * chosen cores): the cores nearest its GPU, shared out among the local ranks whose GPUs are
 * near the same cores (this rank is gpu_rank of gpu_ranks: two ranks on one GPU, or on two
 * GPUs of one NUMA node, get one half each), or without a GPU, NUMA nodes round-robin and the
 * cores of the node shared out. Writes a one-line explanation in why. Returns 0 or
 * SB_EINVAL. */
int sb_topo_bind_plan(hwloc_topology_t topo, int local_rank, int local_size, const char *gpu,
                      int gpu_rank, int gpu_ranks, hwloc_cpuset_t out, char *why, size_t len);

/* The pair class of two ranks. */
enum sb_pair sb_topo_pair(const struct sb_topo_rank *a, const struct sb_topo_rank *b);
/* The widest class over all pairs of the given ranks (SB_PAIR_SAME_CORE for one rank). */
enum sb_pair sb_topo_span(const struct sb_topo *t, const int *ranks, int n);

/* Compute t->warnings from t->ranks and t->hosts (replacing any). */
int sb_topo_warn(struct sb_topo *t);

/* The whole discovery on every rank: load, optionally re-bind (mode "auto", "none" or
 * "keep"), describe this rank, and gather at rank 0, which gets *out (others get NULL). gpu:
 * the bus id of the GPU this rank uses, NULL for none, or SB_TOPO_GPU_LOCAL for the choice of
 * the GPU backends (local rank modulo the host's GPUs, in PCI order). On a fixture topology
 * --bind cannot be applied; the rank is then described at the planned place. Collective.
 * Returns 0, SB_EINVAL on bad input (message on rank 0), or a fault code. */
#define SB_TOPO_GPU_LOCAL "local"
int sb_topo_discover(struct sb_comm *c, int local_rank, int local_size, const char *bind_mode,
                     const char *gpu, struct sb_topo **out);
void sb_topo_free(struct sb_topo *t);

/* Records: the rank/host/pair/warning JSON for the run record, and the readable map. */
json_t *sb_topo_json(const struct sb_topo *t);
void sb_topo_print(FILE *f, const struct sb_topo *t);

#endif
