/* Topology discovery (common/topo.h) on fixture machines, loaded with hwloc directly:
 *
 * tests/fixtures/dgx-2p4n8g4nic.xml: 2 packages x 2 NUMA nodes x 4 cores x 2 PUs. Core i
 * (logical) has PUs P#i and P#(16+i); NUMA node k (P#k) holds cores 4k..4k+3, so
 *   NUMA 0: PUs 0-3,16-19    GPUs 0000:1b:00.0 0000:1c:00.0   NIC mlx5_0/ib0 (0000:1a:00.0)
 *   NUMA 1: PUs 4-7,20-23    GPUs 0000:3b:00.0 0000:3c:00.0   NIC mlx5_1/ib1 (0000:3a:00.0)
 *   NUMA 2: PUs 8-11,24-27   GPUs 0000:9b:00.0 0000:9c:00.0   NIC mlx5_2/ib2 (0000:9a:00.0)
 *   NUMA 3: PUs 12-15,28-31  GPUs 0000:bb:00.0 0000:bc:00.0   NIC mlx5_3/ib3 (0000:ba:00.0)
 * package 0 = NUMA 0-1, package 1 = NUMA 2-3; 64 GiB per node.
 * tests/fixtures/1p1n-2gpu.xml: 1 package, 1 NUMA node (16 GiB), 4 cores, core i has PUs P#i
 * and P#(4+i); GPUs 0000:42:00.0 and 0000:43:00.0, NIC mlx5_0/eth0 (0000:41:00.0).
 *
 * Fixtures are found under $SB_SOURCE_DIR/tests/fixtures, else next to this file.
 *
 * Readings of the contract where topo.h leaves room: core is a logical index like cores,
 * numa_node an OS index like numa, package logical like packages; a host's nics counts NIC
 * devices, not their OS devices (mlx5_0 and ib0 are one NIC); a bus id names one GPU whatever
 * the case of its hex digits (CUDA writes upper case); an unbound rank is reported as unbound,
 * not also as a cross-NUMA binding; bind_plan's arguments out of range (local_rank outside
 * 0..local_size-1, gpu_rank outside 0..gpu_ranks-1) are SB_EINVAL. */
#include "error.h"
#include "tap.h"
#include "topo.h"

#include <hwloc.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLAN 275

#define DGX "dgx-2p4n8g4nic.xml"
#define SMALL "1p1n-2gpu.xml"
#define SYNTH "pack:2 numa:2 core:4 pu:2"

/* The GPU nearest to rank i in the clean 8-rank placement, and its NUMA node. */
static const char *const dgx_gpu[8] = {"0000:1b:00.0", "0000:1c:00.0", "0000:3b:00.0",
                                       "0000:3c:00.0", "0000:9b:00.0", "0000:9c:00.0",
                                       "0000:bb:00.0", "0000:bc:00.0"};
static const char *const dgx_node_pus[4] = {"0-3,16-19", "4-7,20-23", "8-11,24-27", "12-15,28-31"};

static void fixture_path(const char *name, char *buf, size_t len)
{
	const char *src = getenv("SB_SOURCE_DIR");
	if (src && *src) {
		snprintf(buf, len, "%s/tests/fixtures/%s", src, name);
		return;
	}
	char file[1024];
	snprintf(file, sizeof file, "%s", __FILE__);
	snprintf(buf, len, "%s/fixtures/%s", dirname(file), name);
}

static hwloc_topology_t load_xml(const char *name)
{
	char path[1200];
	fixture_path(name, path, sizeof path);
	hwloc_topology_t topo;
	if (hwloc_topology_init(&topo) < 0)
		tap_bail("hwloc_topology_init failed");
	if (hwloc_topology_set_xml(topo, path) < 0)
		tap_bail("hwloc_topology_set_xml(%s) failed", path);
	hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(topo) < 0)
		tap_bail("cannot load fixture %s (set SB_SOURCE_DIR to the source tree)", path);
	return topo;
}

static hwloc_topology_t load_synthetic(const char *desc)
{
	hwloc_topology_t topo;
	if (hwloc_topology_init(&topo) < 0 || hwloc_topology_set_synthetic(topo, desc) < 0 ||
	    hwloc_topology_load(topo) < 0)
		tap_bail("cannot load synthetic topology \"%s\"", desc);
	return topo;
}

/* A cpuset from hwloc's list syntax ("0-3,16-19"), OS indexes. */
static hwloc_bitmap_t set_of(const char *list)
{
	hwloc_bitmap_t s = hwloc_bitmap_alloc();
	if (!s || hwloc_bitmap_list_sscanf(s, list) < 0)
		tap_bail("bad cpu list \"%s\"", list);
	return s;
}

/* r described for the binding list (NULL: none given) and gpu. */
static void describe(hwloc_topology_t topo, const char *list, const char *gpu,
                     struct sb_topo_rank *r)
{
	memset(r, 0, sizeof *r);
	hwloc_bitmap_t s = list ? set_of(list) : NULL;
	sb_topo_describe(topo, s, gpu, r);
	hwloc_bitmap_free(s);
}

/* The first comma-separated name of a list. */
static void first_name(const char *list, char *buf, size_t len)
{
	snprintf(buf, len, "%s", list);
	buf[strcspn(buf, ",")] = '\0';
}

static int first_is(const char *list, const char *a, const char *b)
{
	char first[64];
	first_name(list, first, sizeof first);
	return strcmp(first, a) == 0 || strcmp(first, b) == 0;
}

/* Whether name is one of the comma-separated items of list. */
static int has_item(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, name, n) == 0)
			return 1;
		p += k;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int count_items(const char *list)
{
	if (!*list)
		return 0;
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	return n;
}

/* ---------------------------------------------------------------- describe */

static void test_describe_dgx(hwloc_topology_t dgx)
{
	struct sb_topo_rank r;

	/* One PU: P#25 is the second thread of core 9 (package 1, NUMA 2). */
	describe(dgx, "25", NULL, &r);
	is_int(r.bind_known, 1, "one PU: a given binding is known");
	is_int(r.bound, 1, "one PU: bound");
	is_string(r.cpuset, "25", "one PU: cpuset");
	is_int(r.npus, 1, "one PU: npus");
	is_int(r.ncores, 1, "one PU: ncores");
	is_string(r.cores, "9", "one PU: cores (logical)");
	is_string(r.numa, "2", "one PU: numa");
	is_string(r.packages, "1", "one PU: packages");
	is_int(r.core, 9, "one PU: core (logical index)");
	is_int(r.numa_node, 2, "one PU: numa_node");
	is_int(r.package, 1, "one PU: package");
	is_string(r.gpu, "", "one PU: no gpu");
	is_int(r.gpu_found, 0, "one PU: gpu_found 0 without a gpu");
	is_int(r.gpu_numa, -1, "one PU: gpu_numa -1 without a gpu");
	ok(first_is(r.nics, "mlx5_2", "ib2"), "one PU on NUMA 2: nearest NIC first (nics \"%s\")",
	   r.nics);

	/* Cores 2-5, one thread each: NUMA 0 and 1 of package 0. */
	describe(dgx, "2-5", NULL, &r);
	is_int(r.bound, 1, "2 NUMA nodes: bound");
	is_int(r.npus, 4, "2 NUMA nodes: npus");
	is_int(r.ncores, 4, "2 NUMA nodes: ncores");
	is_string(r.cores, "2-5", "2 NUMA nodes: cores");
	is_string(r.numa, "0-1", "2 NUMA nodes: numa");
	is_string(r.packages, "0", "2 NUMA nodes: packages");
	is_int(r.core, -1, "2 NUMA nodes: core spans");
	is_int(r.numa_node, -1, "2 NUMA nodes: numa_node spans");
	is_int(r.package, 0, "2 NUMA nodes: package 0 holds it");

	/* The whole of package 1, both threads of each core. */
	describe(dgx, "8-15,24-31", NULL, &r);
	is_string(r.cpuset, "8-15,24-31", "package 1: cpuset");
	is_int(r.npus, 16, "package 1: npus");
	is_int(r.ncores, 8, "package 1: ncores");
	is_string(r.cores, "8-15", "package 1: cores");
	is_string(r.numa, "2-3", "package 1: numa");
	is_int(r.numa_node, -1, "package 1: numa_node spans");
	is_int(r.package, 1, "package 1: package");
	is_int(r.bound, 1, "package 1: bound (fewer PUs than the machine)");

	/* The whole machine: not bound. */
	describe(dgx, "0-31", NULL, &r);
	is_int(r.bind_known, 1, "whole machine: known");
	is_int(r.bound, 0, "whole machine: not bound");
	is_string(r.cpuset, "0-31", "whole machine: cpuset");
	is_int(r.npus, 32, "whole machine: npus");
	is_int(r.ncores, 16, "whole machine: ncores");
	is_string(r.numa, "0-3", "whole machine: numa");
	is_string(r.packages, "0-1", "whole machine: packages");
	is_int(r.core, -1, "whole machine: core spans");
	is_int(r.numa_node, -1, "whole machine: numa_node spans");
	is_int(r.package, -1, "whole machine: package spans");

	/* Cores 4-5 with the GPU 0000:3b:00.0, both on NUMA 1. */
	describe(dgx, "4-5,20-21", "0000:3b:00.0", &r);
	is_string(r.gpu, "0000:3b:00.0", "gpu 3b: bus id kept");
	is_int(r.gpu_found, 1, "gpu 3b: found");
	is_int(r.gpu_numa, 1, "gpu 3b: on NUMA 1");
	is_string(r.gpu_cpuset, "4-7,20-23", "gpu 3b: local PUs are NUMA 1's");
	is_int(r.numa_node, 1, "gpu 3b: binding on NUMA 1");
	is_int(r.ncores, 2, "gpu 3b: binding touches 2 cores");
	ok(first_is(r.nics, "mlx5_1", "ib1"), "gpu 3b: the NIC on NUMA 1 first (nics \"%s\")",
	   r.nics);

	/* The bus id as CUDA writes it (upper-case hex). */
	describe(dgx, "4", "0000:3B:00.0", &r);
	is_int(r.gpu_found, 1, "gpu 3B (upper case): found");
	is_int(r.gpu_numa, 1, "gpu 3B (upper case): on NUMA 1");

	/* A GPU far from the binding: the GPU's place is its own, the binding's is unchanged. */
	describe(dgx, "0", "0000:bb:00.0", &r);
	is_int(r.gpu_found, 1, "gpu bb: found");
	is_int(r.gpu_numa, 3, "gpu bb: on NUMA 3");
	is_string(r.gpu_cpuset, "12-15,28-31", "gpu bb: local PUs are NUMA 3's");
	is_int(r.numa_node, 0, "gpu bb: binding still on NUMA 0");

	/* A bus id not in the topology. */
	describe(dgx, "0", "0000:ff:00.0", &r);
	is_string(r.gpu, "0000:ff:00.0", "unknown gpu: bus id kept");
	is_int(r.gpu_found, 0, "unknown gpu: not found");
	is_int(r.gpu_numa, -1, "unknown gpu: gpu_numa -1");
	is_string(r.gpu_cpuset, "", "unknown gpu: no local PUs");

	/* No GPU ("" is none): the NIC nearest the binding, on NUMA 3, first. */
	describe(dgx, "12", "", &r);
	ok(first_is(r.nics, "mlx5_3", "ib3"), "NUMA 3: nearest NIC first (nics \"%s\")", r.nics);
	is_int(r.gpu_found, 0, "empty gpu string: none");

	/* No binding given on a fixture: it is not this system's, so unknown. */
	describe(dgx, NULL, NULL, &r);
	is_int(r.bind_known, 0, "no binding on a fixture: not known");
}

static void test_describe_small(hwloc_topology_t small)
{
	struct sb_topo_rank r;

	describe(small, "1,5", "0000:43:00.0", &r);
	is_int(r.bound, 1, "small: one core bound");
	is_int(r.core, 1, "small: core 1");
	is_int(r.ncores, 1, "small: ncores 1");
	is_int(r.npus, 2, "small: npus 2");
	is_int(r.gpu_found, 1, "small: gpu 43 found");
	is_int(r.gpu_numa, 0, "small: gpu 43 on NUMA 0");
	is_string(r.gpu_cpuset, "0-7", "small: gpu 43 local to every PU");
	ok(first_is(r.nics, "mlx5_0", "eth0"), "small: the NIC (nics \"%s\")", r.nics);

	describe(small, "0-7", NULL, &r);
	is_int(r.bound, 0, "small: whole machine not bound");
	is_int(r.numa_node, 0, "small: one NUMA node holds the whole machine");
	is_int(r.package, 0, "small: one package holds the whole machine");
	is_int(r.core, -1, "small: whole machine spans cores");
}

static void test_describe_synthetic(hwloc_topology_t syn)
{
	struct sb_topo_rank r;

	/* Synthetic PUs are numbered in order: core c has PUs 2c and 2c+1. */
	describe(syn, "8-9", "0000:3b:00.0", &r);
	is_int(r.core, 4, "synthetic: PUs 8-9 are core 4");
	is_int(r.numa_node, 1, "synthetic: core 4 on NUMA 1");
	is_int(r.package, 0, "synthetic: core 4 in package 0");
	is_int(r.npus, 2, "synthetic: npus 2");
	is_int(r.gpu_found, 0, "synthetic: no PCI devices, gpu not found");
	is_string(r.nics, "", "synthetic: no NICs");

	describe(syn, "0,16", NULL, &r);
	is_int(r.ncores, 2, "synthetic: PUs 0 and 16 are 2 cores");
	is_string(r.packages, "0-1", "synthetic: PUs 0 and 16 in both packages");
	is_int(r.package, -1, "synthetic: package spans");
}

static void test_describe_host(hwloc_topology_t dgx, hwloc_topology_t small, hwloc_topology_t syn)
{
	struct sb_topo_host h, h2, s;

	memset(&h, 0, sizeof h);
	sb_topo_describe_host(dgx, "dgx-a", &h);
	is_string(h.host, "dgx-a", "host dgx: name");
	is_int(h.packages, 2, "host dgx: packages");
	is_int(h.numa_nodes, 4, "host dgx: NUMA nodes");
	is_int(h.cores, 16, "host dgx: cores");
	is_int(h.pus, 32, "host dgx: PUs");
	is_int((long long)h.memory, 4LL << 36, "host dgx: memory 4 x 64 GiB");
	is_int(h.gpus, 8, "host dgx: GPUs");
	is_int(h.nics, 4, "host dgx: NICs (devices)");
	is_int(count_items(h.gpu_list), 8, "host dgx: 8 GPUs listed (\"%s\")", h.gpu_list);
	ok(has_item(h.gpu_list, "0000:3b:00.0@numa1"), "host dgx: 0000:3b:00.0@numa1 listed");
	ok(has_item(h.gpu_list, "0000:bc:00.0@numa3"), "host dgx: 0000:bc:00.0@numa3 listed");
	ok(has_item(h.nic_list, "mlx5_0") && has_item(h.nic_list, "ib3"),
	   "host dgx: mlx5_0 and ib3 listed (\"%s\")", h.nic_list);
	ok(h.synthetic[0] != '\0', "host dgx: a symmetric machine has a synthetic description");
	ok(strlen(h.xml_hash) == 16 && strspn(h.xml_hash, "0123456789abcdef") == 16,
	   "host dgx: xml_hash is 16 hex digits (\"%s\")", h.xml_hash);

	memset(&h2, 0, sizeof h2);
	sb_topo_describe_host(dgx, "dgx-b", &h2);
	is_string(h2.xml_hash, h.xml_hash, "host dgx: the same machine hashes the same");

	memset(&s, 0, sizeof s);
	sb_topo_describe_host(small, "small", &s);
	is_int(s.packages, 1, "host small: packages");
	is_int(s.numa_nodes, 1, "host small: NUMA nodes");
	is_int(s.cores, 4, "host small: cores");
	is_int(s.pus, 8, "host small: PUs");
	is_int((long long)s.memory, 16LL << 30, "host small: memory 16 GiB");
	is_int(s.gpus, 2, "host small: GPUs");
	is_int(s.nics, 1, "host small: NICs");
	ok(has_item(s.nic_list, "eth0"), "host small: eth0 listed (\"%s\")", s.nic_list);
	ok(strcmp(s.xml_hash, h.xml_hash) != 0, "host small: another machine hashes differently");

	/* A synthetic machine: no I/O, and its description loads back as the same shape. */
	memset(&s, 0, sizeof s);
	sb_topo_describe_host(syn, "syn", &s);
	is_int(s.gpus, 0, "host synthetic: no GPUs");
	is_int(s.nics, 0, "host synthetic: no NICs");
	is_string(s.gpu_list, "", "host synthetic: empty gpu_list");
	ok(s.synthetic[0] != '\0', "host synthetic: description \"%s\"", s.synthetic);
	hwloc_topology_t back;
	if (hwloc_topology_init(&back) == 0 &&
	    hwloc_topology_set_synthetic(back, s.synthetic) == 0 &&
	    hwloc_topology_load(back) == 0) {
		memset(&h2, 0, sizeof h2);
		sb_topo_describe_host(back, "back", &h2);
		ok(h2.packages == 2 && h2.numa_nodes == 4 && h2.cores == 16 && h2.pus == 32,
		   "host synthetic: its description loads back as 2/4/16/32 (got %d/%d/%d/%d)",
		   h2.packages, h2.numa_nodes, h2.cores, h2.pus);
		hwloc_topology_destroy(back);
	} else {
		ok(0, "host synthetic: its description \"%s\" loads back", s.synthetic);
	}
}

/* ---------------------------------------------------------------- pairs and spans */

static void rank_on(hwloc_topology_t topo, const char *host, const char *list, const char *gpu,
                    struct sb_topo_rank *r)
{
	describe(topo, list, gpu, r);
	snprintf(r->host, sizeof r->host, "%s", host);
}

static void test_pair_names(void)
{
	is_string(sb_pair_name(SB_PAIR_SAME_CORE), "same-core", "pair name same-core");
	is_string(sb_pair_name(SB_PAIR_SAME_NUMA), "same-numa", "pair name same-numa");
	is_string(sb_pair_name(SB_PAIR_SAME_PACKAGE), "same-package", "pair name same-package");
	is_string(sb_pair_name(SB_PAIR_SAME_HOST), "same-host", "pair name same-host");
	is_string(sb_pair_name(SB_PAIR_CROSS_HOST), "cross-host", "pair name cross-host");
}

static void check_pair(hwloc_topology_t topo, const char *la, const char *ha, const char *lb,
                       const char *hb, enum sb_pair want, const char *what)
{
	struct sb_topo_rank a, b;
	rank_on(topo, ha, la, NULL, &a);
	rank_on(topo, hb, lb, NULL, &b);
	enum sb_pair got = sb_topo_pair(&a, &b);
	is_string(sb_pair_name(got), sb_pair_name(want), "pair %s", what);
}

static void test_pairs(hwloc_topology_t dgx)
{
	check_pair(dgx, "0", "a", "16", "a", SB_PAIR_SAME_CORE, "hyperthread siblings: same-core");
	check_pair(dgx, "0,16", "a", "0,16", "a", SB_PAIR_SAME_CORE,
	           "two ranks on one whole core: same-core");
	check_pair(dgx, "0", "a", "1", "a", SB_PAIR_SAME_NUMA, "two cores of NUMA 0: same-numa");
	check_pair(dgx, "0,16", "a", "3,19", "a", SB_PAIR_SAME_NUMA,
	           "two whole cores of NUMA 0: same-numa");
	check_pair(dgx, "0-3,16-19", "a", "1", "a", SB_PAIR_SAME_NUMA,
	           "NUMA 0 and a core in it: same-numa");
	check_pair(dgx, "0", "a", "4", "a", SB_PAIR_SAME_PACKAGE,
	           "NUMA 0 and 1 of package 0: same-package");
	check_pair(dgx, "4", "a", "0", "a", SB_PAIR_SAME_PACKAGE, "same-package either way round");
	check_pair(dgx, "2-5", "a", "0", "a", SB_PAIR_SAME_PACKAGE,
	           "a binding across NUMA 0-1 and NUMA 0: same-package");
	check_pair(dgx, "0", "a", "8", "a", SB_PAIR_SAME_HOST, "package 0 and 1: same-host");
	check_pair(dgx, "12-15", "a", "7", "a", SB_PAIR_SAME_HOST, "NUMA 3 and NUMA 1: same-host");
	check_pair(dgx, "0-31", "a", "0-31", "a", SB_PAIR_SAME_HOST,
	           "unbound ranks on a 2-package host: same-host");
	check_pair(dgx, "0", "a", "0", "b", SB_PAIR_CROSS_HOST,
	           "the same PU on two hosts: cross-host");
	check_pair(dgx, "0-31", "a", "5", "b", SB_PAIR_CROSS_HOST, "two hosts: cross-host");
}

/* A hand-built struct sb_topo with room for 24 ranks on up to 2 hosts. */
#define MAXR 24
struct fake {
	struct sb_topo t;
	struct sb_topo_rank r[MAXR];
	struct sb_topo_host h[2];
	int host_of[MAXR];
	hwloc_topology_t topo[2];
	const char *name[2];
};

static void fake_init(struct fake *f, hwloc_topology_t a, const char *name_a, hwloc_topology_t b,
                      const char *name_b)
{
	memset(f, 0, sizeof *f);
	f->t.ranks = f->r;
	f->t.hosts = f->h;
	f->t.host_of = f->host_of;
	f->topo[0] = a;
	f->name[0] = name_a;
	sb_topo_describe_host(a, name_a, &f->h[0]);
	f->t.nhosts = 1;
	if (b) {
		f->topo[1] = b;
		f->name[1] = name_b;
		sb_topo_describe_host(b, name_b, &f->h[1]);
		f->t.nhosts = 2;
	}
}

/* Add a rank on host index hi bound to list (NULL: binding not known) using gpu. */
static void fake_rank(struct fake *f, int hi, const char *list, const char *gpu)
{
	if (f->t.nranks >= MAXR)
		tap_bail("too many ranks in a fake topology");
	int i = f->t.nranks++;
	struct sb_topo_rank *r = &f->r[i];
	describe(f->topo[hi], list, gpu, r);
	r->rank = i;
	snprintf(r->host, sizeof r->host, "%s", f->name[hi]);
	r->pid = 1000 + i;
	f->host_of[i] = hi;
	int local = 0, size = 0;
	for (int j = 0; j < f->t.nranks; j++)
		if (f->host_of[j] == hi) {
			if (j < i)
				local++;
			size++;
		}
	r->local_rank = local;
	for (int j = 0; j < f->t.nranks; j++)
		if (f->host_of[j] == hi)
			f->r[j].local_size = size;
}

static void fake_free(struct fake *f)
{
	free(f->t.warnings);
	f->t.warnings = NULL;
	f->t.nwarnings = 0;
}

static void test_span(hwloc_topology_t dgx)
{
	struct fake f;
	fake_init(&f, dgx, "dgx-a", dgx, "dgx-b");
	fake_rank(&f, 0, "0", NULL); /* 0: core 0 */
	fake_rank(&f, 0, "16", NULL); /* 1: core 0, the sibling */
	fake_rank(&f, 0, "1", NULL); /* 2: core 1, NUMA 0 */
	fake_rank(&f, 0, "4", NULL); /* 3: NUMA 1, package 0 */
	fake_rank(&f, 0, "8", NULL); /* 4: package 1 */
	fake_rank(&f, 1, "0", NULL); /* 5: the other host */

	const struct {
		int ranks[4], n;
		enum sb_pair want;
		const char *what;
	} c[] = {
	    {{0}, 1, SB_PAIR_SAME_CORE, "one rank"},
	    {{0, 1}, 2, SB_PAIR_SAME_CORE, "siblings"},
	    {{0, 1, 2}, 3, SB_PAIR_SAME_NUMA, "siblings and a core of their node"},
	    {{1, 2, 3}, 3, SB_PAIR_SAME_PACKAGE, "NUMA 0 and 1"},
	    {{3, 0}, 2, SB_PAIR_SAME_PACKAGE, "NUMA 1 and 0, reversed"},
	    {{0, 3, 4}, 3, SB_PAIR_SAME_HOST, "both packages"},
	    {{4, 0, 1, 2}, 4, SB_PAIR_SAME_HOST, "package 1 first"},
	    {{0, 5}, 2, SB_PAIR_CROSS_HOST, "the same core on two hosts"},
	    {{5, 1, 2}, 3, SB_PAIR_CROSS_HOST, "other host first"},
	    {{5}, 1, SB_PAIR_SAME_CORE, "one rank on the other host"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		is_string(sb_pair_name(sb_topo_span(&f.t, c[i].ranks, c[i].n)),
		          sb_pair_name(c[i].want), "span: %s", c[i].what);
	fake_free(&f);
}

/* ---------------------------------------------------------------- warnings */

static int count_kind(const struct sb_topo *t, const char *kind)
{
	int n = 0;
	for (size_t i = 0; i < t->nwarnings; i++)
		n += strcmp(t->warnings[i].kind, kind) == 0;
	return n;
}

static void show_warnings(const struct sb_topo *t)
{
	for (size_t i = 0; i < t->nwarnings; i++)
		tap_diag("  warning %s on %s: %s", t->warnings[i].kind, t->warnings[i].host,
		         t->warnings[i].message);
}

/* sb_topo_warn on f: kind (on host) and nothing else, or no warning when kind is NULL.
 * 4 checks with a kind, 2 without. */
static void expect_only(struct fake *f, const char *kind, const char *host, const char *what)
{
	int rc = sb_topo_warn(&f->t);
	is_int(rc, 0, "%s: sb_topo_warn returns 0", what);
	int bad = 0;
	if (kind) {
		int n = count_kind(&f->t, kind);
		bad |= !ok(n > 0, "%s: warns %s", what, kind);
		bad |= !is_int((long long)f->t.nwarnings, n, "%s: and nothing else", what);
		int on_host = 0;
		for (size_t i = 0; i < f->t.nwarnings; i++)
			on_host += strcmp(f->t.warnings[i].kind, kind) == 0 &&
			           strcmp(f->t.warnings[i].host, host) == 0;
		bad |= !is_int(on_host, n, "%s: every %s warning names host %s", what, kind, host);
	} else {
		bad |= !is_int((long long)f->t.nwarnings, 0, "%s: no warnings", what);
	}
	if (bad)
		show_warnings(&f->t);
}

/* The clean placement on the DGX fixture: rank i on cores 2i and 2i+1 (both threads), the
 * cores nearest GPU i. */
static void clean8(struct fake *f, int hi, const char *const gpus[8])
{
	for (int i = 0; i < 8; i++) {
		char list[32];
		snprintf(list, sizeof list, "%d-%d,%d-%d", 2 * i, 2 * i + 1, 16 + 2 * i,
		         17 + 2 * i);
		fake_rank(f, hi, list, gpus[i]);
	}
}

static void test_warn(hwloc_topology_t dgx, hwloc_topology_t small)
{
	struct fake f;

	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	clean8(&f, 0, dgx_gpu);
	expect_only(&f, NULL, NULL, "clean 8 ranks on 8 GPUs");
	fake_free(&f);

	/* Rank 0 and 7 swap GPUs: each is two NUMA nodes from its own. */
	const char *swapped[8];
	memcpy(swapped, dgx_gpu, sizeof swapped);
	swapped[0] = dgx_gpu[7];
	swapped[7] = dgx_gpu[0];
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	clean8(&f, 0, swapped);
	expect_only(&f, "gpu-numa-mismatch", "dgx-a", "ranks 0 and 7 swap GPUs");
	size_t first = f.t.nwarnings;
	sb_topo_warn(&f.t);
	is_int((long long)f.t.nwarnings, (long long)first, "a second sb_topo_warn replaces");
	fake_free(&f);

	/* Rank 1 uses rank 0's GPU (both on NUMA 0). */
	const char *shared[8];
	memcpy(shared, dgx_gpu, sizeof shared);
	shared[1] = dgx_gpu[0];
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	clean8(&f, 0, shared);
	expect_only(&f, "shared-gpu", "dgx-a", "ranks 0 and 1 share GPU 1b");
	fake_free(&f);

	/* The same bus ids on two hosts are two GPUs. */
	fake_init(&f, dgx, "dgx-a", dgx, "dgx-b");
	fake_rank(&f, 0, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 0, "12-13,28-29", "0000:bb:00.0");
	fake_rank(&f, 1, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 1, "12-13,28-29", "0000:bb:00.0");
	expect_only(&f, NULL, NULL, "one bus id on two hosts is not shared");
	fake_free(&f);

	/* A binding across NUMA 0 and 1. */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "2-5,18-21", NULL);
	fake_rank(&f, 0, "8-9,24-25", NULL);
	expect_only(&f, "cross-numa-binding", "dgx-a", "rank bound to cores 2-5");
	fake_free(&f);

	/* 3 ranks on package 0, 1 on package 1, each by its GPU. */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 0, "2-3,18-19", "0000:1c:00.0");
	fake_rank(&f, 0, "4-5,20-21", "0000:3b:00.0");
	fake_rank(&f, 0, "8-9,24-25", "0000:9b:00.0");
	expect_only(&f, "uneven-packages", "dgx-a", "3 ranks on package 0, 1 on package 1");
	fake_free(&f);

	/* 2 and 2. */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 0, "4-5,20-21", "0000:3b:00.0");
	fake_rank(&f, 0, "8-9,24-25", "0000:9b:00.0");
	fake_rank(&f, 0, "12-13,28-29", "0000:bb:00.0");
	expect_only(&f, NULL, NULL, "2 ranks on each package");
	fake_free(&f);

	/* Unbound ranks on the DGX: unbound, and not also a cross-NUMA binding. */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "0-31", NULL);
	fake_rank(&f, 0, "0-31", NULL);
	expect_only(&f, "unbound", "dgx-a", "2 unbound ranks on the DGX");
	fake_free(&f);

	/* The small host: one rank per core is clean. */
	fake_init(&f, small, "small", NULL, NULL);
	for (int i = 0; i < 4; i++) {
		char list[16];
		snprintf(list, sizeof list, "%d,%d", i, i + 4);
		fake_rank(&f, 0, list, NULL);
	}
	expect_only(&f, NULL, NULL, "4 ranks on 4 cores");
	fake_free(&f);

	/* 5 ranks on 4 cores. */
	fake_init(&f, small, "small", NULL, NULL);
	for (int i = 0; i < 5; i++) {
		char list[16];
		snprintf(list, sizeof list, "%d", i);
		fake_rank(&f, 0, list, NULL);
	}
	expect_only(&f, "oversubscribed", "small", "5 ranks on 4 cores");
	fake_free(&f);

	/* Oversubscription is per host: 5 ranks in all, 3 of them on the 4-core host. */
	fake_init(&f, small, "small", dgx, "dgx-b");
	for (int i = 0; i < 3; i++) {
		char list[16];
		snprintf(list, sizeof list, "%d,%d", i, i + 4);
		fake_rank(&f, 0, list, NULL);
	}
	fake_rank(&f, 1, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 1, "12-13,28-29", "0000:bb:00.0");
	expect_only(&f, NULL, NULL, "5 ranks on two hosts, 3 on 4 cores");
	fake_free(&f);

	/* One GPU, its bus id written in two cases (CUDA writes upper-case hex). */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "4-5,20-21", "0000:3b:00.0");
	fake_rank(&f, 0, "6-7,22-23", "0000:3B:00.0");
	fake_rank(&f, 0, "8-9,24-25", "0000:9b:00.0");
	fake_rank(&f, 0, "10-11,26-27", "0000:9c:00.0");
	expect_only(&f, "shared-gpu", "dgx-a", "GPU 3b as 3b and 3B");
	fake_free(&f);

	/* A GPU bus id not on the host has no NUMA node to mismatch. */
	fake_init(&f, dgx, "dgx-a", NULL, NULL);
	fake_rank(&f, 0, "0-1,16-17", "0000:ff:00.0");
	fake_rank(&f, 0, "12-13,28-29", "0000:bb:00.0");
	expect_only(&f, NULL, NULL, "an unknown GPU is no NUMA mismatch");
	fake_free(&f);

	/* One rank bound, one not. */
	fake_init(&f, small, "small", NULL, NULL);
	fake_rank(&f, 0, "0,4", NULL);
	fake_rank(&f, 0, "0-7", NULL);
	expect_only(&f, "unbound", "small", "rank 1 unbound on the small host");
	fake_free(&f);

	/* The binding could not be read. */
	fake_init(&f, small, "small", NULL, NULL);
	fake_rank(&f, 0, NULL, NULL);
	expect_only(&f, "binding-unknown", "small", "a binding not read");
	fake_free(&f);

	/* A problem on the second host is reported there. */
	fake_init(&f, dgx, "dgx-a", small, "small");
	fake_rank(&f, 0, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 0, "12-13,28-29", "0000:bb:00.0");
	fake_rank(&f, 1, "0,4", "0000:42:00.0");
	fake_rank(&f, 1, "1,5", "0000:42:00.0");
	expect_only(&f, "shared-gpu", "small", "a shared GPU on the second host");
	fake_free(&f);
}

/* ---------------------------------------------------------------- bind plans */

/* Whether s is made of whole cores of topo. */
static int whole_cores(hwloc_topology_t topo, hwloc_const_cpuset_t s)
{
	hwloc_obj_t core = NULL;
	while ((core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core)))
		if (hwloc_bitmap_intersects(core->cpuset, s) &&
		    !hwloc_bitmap_isincluded(core->cpuset, s))
			return 0;
	return 1;
}

static int ncores_in(hwloc_topology_t topo, hwloc_const_cpuset_t s)
{
	return hwloc_get_nbobjs_inside_cpuset_by_type(topo, s, HWLOC_OBJ_CORE);
}

/* The OS index of the one NUMA node holding s, or -1. */
static int node_of(hwloc_topology_t topo, hwloc_const_cpuset_t s)
{
	hwloc_obj_t n = NULL;
	while ((n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n)))
		if (!hwloc_bitmap_iszero(s) && hwloc_bitmap_isincluded(s, n->cpuset))
			return (int)n->os_index;
	return -1;
}

static char *list_of(hwloc_const_bitmap_t s, char *buf, size_t len)
{
	hwloc_bitmap_list_snprintf(buf, len, s);
	return buf;
}

static int all_disjoint(hwloc_bitmap_t *s, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (hwloc_bitmap_intersects(s[i], s[j]))
				return 0;
	return 1;
}

/* sb_topo_bind_plan run in a child, so that a crash on bad arguments is a failed check, not
 * the end of the file: "SB_EINVAL", "0", "rc N" or "signal N". */
static const char *plan_in_child(hwloc_topology_t topo, int local_rank, int local_size,
                                 const char *gpu, int gpu_rank, int gpu_ranks, char *buf,
                                 size_t len)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		tap_bail("fork failed");
	if (pid == 0) {
		hwloc_bitmap_t out = hwloc_bitmap_alloc();
		char why[256];
		int rc = sb_topo_bind_plan(topo, local_rank, local_size, gpu, gpu_rank, gpu_ranks,
		                           out, why, sizeof why);
		hwloc_bitmap_free(out);
		_exit(rc == SB_EINVAL ? 0 : rc == 0 ? 1 : 2);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		tap_bail("waitpid failed");
	if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st) == 0)
		snprintf(buf, len, "SB_EINVAL");
	else if (WEXITSTATUS(st) == 1)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "rc %d", WEXITSTATUS(st));
	return buf;
}

static void test_bind_plan(hwloc_topology_t dgx, hwloc_topology_t small)
{
	hwloc_bitmap_t out[8];
	char why[256], buf[128];
	for (int i = 0; i < 8; i++)
		out[i] = hwloc_bitmap_alloc();

	/* 8 ranks, 8 GPUs: each by its GPU, none overlapping. The two GPUs of a NUMA node share
	 * its cores: rank i is rank i % 2 of 2 near those cores. */
	int why_ok = 1;
	for (int i = 0; i < 8; i++) {
		why[0] = '\0';
		int rc =
		    sb_topo_bind_plan(dgx, i, 8, dgx_gpu[i], i % 2, 2, out[i], why, sizeof why);
		is_int(rc, 0, "plan 8 GPUs: rank %d returns 0", i);
		hwloc_bitmap_t node = set_of(dgx_node_pus[i / 2]);
		ok(!hwloc_bitmap_iszero(out[i]) && hwloc_bitmap_isincluded(out[i], node),
		   "plan 8 GPUs: rank %d (gpu %s) within NUMA %d (got %s)", i, dgx_gpu[i], i / 2,
		   list_of(out[i], buf, sizeof buf));
		ok(whole_cores(dgx, out[i]), "plan 8 GPUs: rank %d gets whole cores (%s)", i,
		   list_of(out[i], buf, sizeof buf));
		hwloc_bitmap_free(node);
		why_ok &= why[0] != '\0' && !strchr(why, '\n');
		if (i == 0)
			tap_diag("why: %s", why);
	}
	ok(all_disjoint(out, 8), "plan 8 GPUs: the 8 cpusets are disjoint");
	ok(why_ok, "plan 8 GPUs: every why is one non-empty line");

	/* 2 ranks on GPU 3b: the halves of what a sole user of 3b gets. */
	hwloc_bitmap_t sole = hwloc_bitmap_alloc(), both = hwloc_bitmap_alloc();
	int rc0 = sb_topo_bind_plan(dgx, 0, 2, "0000:3b:00.0", 0, 2, out[0], why, sizeof why);
	int rc1 = sb_topo_bind_plan(dgx, 1, 2, "0000:3b:00.0", 1, 2, out[1], why, sizeof why);
	int rcs = sb_topo_bind_plan(dgx, 0, 2, "0000:3b:00.0", 0, 1, sole, why, sizeof why);
	ok(rc0 == 0 && rc1 == 0 && rcs == 0, "plan shared GPU: all return 0");
	ok(!hwloc_bitmap_iszero(out[0]) && !hwloc_bitmap_iszero(out[1]) &&
	       !hwloc_bitmap_intersects(out[0], out[1]),
	   "plan shared GPU: two non-empty disjoint cpusets (%s | %s)",
	   list_of(out[0], buf, sizeof buf), list_of(out[1], buf + 64, sizeof buf - 64));
	hwloc_bitmap_or(both, out[0], out[1]);
	ok(hwloc_bitmap_isequal(both, sole), "plan shared GPU: together the sole user's cores (%s)",
	   list_of(sole, buf, sizeof buf));
	is_int(ncores_in(dgx, out[0]), ncores_in(dgx, out[1]), "plan shared GPU: halves");
	is_int(node_of(dgx, both), 1, "plan shared GPU: on GPU 3b's NUMA node");
	ok(whole_cores(dgx, out[0]) && whole_cores(dgx, out[1]), "plan shared GPU: whole cores");
	hwloc_bitmap_free(sole);

	/* No GPU, 4 ranks: one NUMA node each, all of it. */
	int nodes_ok = 1, whole_ok = 1;
	for (int i = 0; i < 4; i++) {
		int rc = sb_topo_bind_plan(dgx, i, 4, NULL, 0, 1, out[i], why, sizeof why);
		is_int(rc, 0, "plan 4 ranks: rank %d returns 0", i);
		hwloc_bitmap_t node = set_of(dgx_node_pus[i]);
		nodes_ok &= hwloc_bitmap_isequal(out[i], node);
		if (!hwloc_bitmap_isequal(out[i], node))
			tap_diag("rank %d: %s, NUMA %d is %s", i, list_of(out[i], buf, sizeof buf),
			         i, dgx_node_pus[i]);
		hwloc_bitmap_free(node);
	}
	ok(nodes_ok, "plan 4 ranks: rank i gets all of NUMA node i");

	/* No GPU, 8 ranks: two per NUMA node (round-robin), disjoint. */
	int per_node[4] = {0};
	nodes_ok = 1;
	for (int i = 0; i < 8; i++) {
		int rc = sb_topo_bind_plan(dgx, i, 8, "", 0, 1, out[i], why, sizeof why);
		is_int(rc, 0, "plan 8 ranks: rank %d returns 0", i);
		int n = node_of(dgx, out[i]);
		if (n != i % 4) {
			nodes_ok = 0;
			tap_diag("rank %d: %s on NUMA %d", i, list_of(out[i], buf, sizeof buf), n);
		}
		if (n >= 0)
			per_node[n]++;
		whole_ok &= whole_cores(dgx, out[i]);
	}
	ok(nodes_ok, "plan 8 ranks: rank i within NUMA node i %% 4");
	ok(per_node[0] == 2 && per_node[1] == 2 && per_node[2] == 2 && per_node[3] == 2,
	   "plan 8 ranks: two per NUMA node");
	ok(all_disjoint(out, 8), "plan 8 ranks: disjoint");
	ok(whole_ok, "plan 8 ranks: whole cores");

	/* No GPU, 12 ranks: three per NUMA node, 4 cores shared out whole and disjoint. */
	hwloc_bitmap_t twelve[12];
	int rc_all = 1, nonempty_all = 1;
	nodes_ok = 1, whole_ok = 1;
	for (int i = 0; i < 12; i++) {
		twelve[i] = hwloc_bitmap_alloc();
		rc_all &=
		    sb_topo_bind_plan(dgx, i, 12, NULL, 0, 1, twelve[i], why, sizeof why) == 0;
		nonempty_all &= !hwloc_bitmap_iszero(twelve[i]);
		nodes_ok &= node_of(dgx, twelve[i]) == i % 4;
		whole_ok &= whole_cores(dgx, twelve[i]);
	}
	ok(rc_all && nonempty_all, "plan 12 ranks: all return 0 with non-empty cpusets");
	ok(nodes_ok, "plan 12 ranks: rank i within NUMA node i %% 4");
	ok(whole_ok, "plan 12 ranks: whole cores");
	ok(all_disjoint(twelve, 12), "plan 12 ranks: disjoint");
	for (int i = 0; i < 12; i++)
		hwloc_bitmap_free(twelve[i]);

	/* More ranks than cores: still a plan for each. */
	int rc_ok = 1, nonempty = 1;
	why_ok = 1;
	for (int i = 0; i < 6; i++) {
		why[0] = '\0';
		rc_ok &= sb_topo_bind_plan(small, i, 6, NULL, 0, 1, out[0], why, sizeof why) == 0;
		nonempty &= !hwloc_bitmap_iszero(out[0]);
		why_ok &= why[0] != '\0';
	}
	ok(rc_ok, "plan 6 ranks on 4 cores: all return 0");
	ok(nonempty, "plan 6 ranks on 4 cores: non-empty cpusets");
	ok(why_ok, "plan 6 ranks on 4 cores: why non-empty");

	/* More ranks on one GPU than it has cores. */
	rc_ok = 1, nonempty = 1;
	for (int i = 0; i < 6; i++) {
		rc_ok &= sb_topo_bind_plan(small, i, 6, "0000:42:00.0", i, 6, out[0], why,
		                           sizeof why) == 0;
		nonempty &= !hwloc_bitmap_iszero(out[0]);
	}
	ok(rc_ok, "plan 6 ranks on one GPU: all return 0");
	ok(nonempty, "plan 6 ranks on one GPU: non-empty cpusets");

	/* One rank on each GPU of the small host (both near the same cores): halves. */
	sb_topo_bind_plan(small, 0, 2, "0000:42:00.0", 0, 2, out[0], why, sizeof why);
	sb_topo_bind_plan(small, 1, 2, "0000:43:00.0", 1, 2, out[1], why, sizeof why);
	ok(!hwloc_bitmap_iszero(out[0]) && !hwloc_bitmap_iszero(out[1]) &&
	       !hwloc_bitmap_intersects(out[0], out[1]),
	   "plan small host, 2 GPUs: disjoint (%s | %s)", list_of(out[0], buf, sizeof buf),
	   list_of(out[1], buf + 64, sizeof buf - 64));

	/* Bad arguments, each in a child process. */
	char res[32];
	is_string(plan_in_child(dgx, 4, 4, NULL, 0, 1, res, sizeof res), "SB_EINVAL",
	          "plan: local_rank 4 of 4 is SB_EINVAL");
	is_string(plan_in_child(dgx, -1, 4, NULL, 0, 1, res, sizeof res), "SB_EINVAL",
	          "plan: local_rank -1 is SB_EINVAL");
	is_string(plan_in_child(dgx, 0, 0, NULL, 0, 1, res, sizeof res), "SB_EINVAL",
	          "plan: local_size 0 is SB_EINVAL");
	is_string(plan_in_child(dgx, 0, 2, "0000:3b:00.0", 2, 2, res, sizeof res), "SB_EINVAL",
	          "plan: gpu_rank 2 of 2 is SB_EINVAL");
	is_string(plan_in_child(small, 0, 8, "0000:42:00.0", 6, 6, res, sizeof res), "SB_EINVAL",
	          "plan: gpu_rank 6 of 6 (more than the GPU's cores) is SB_EINVAL");

	hwloc_bitmap_free(both);
	for (int i = 0; i < 8; i++)
		hwloc_bitmap_free(out[i]);
}

/* ---------------------------------------------------------------- records */

static void test_json_print(hwloc_topology_t dgx, hwloc_topology_t small)
{
	struct fake f;
	fake_init(&f, dgx, "dgx-a", small, "small");
	fake_rank(&f, 0, "0-1,16-17", "0000:1b:00.0");
	fake_rank(&f, 0, "0-31", NULL);
	fake_rank(&f, 1, "0,4", NULL);
	sb_topo_warn(&f.t);
	ok(f.t.nwarnings > 0, "json: the fake run has a warning (rank 1 unbound)");

	json_t *j = sb_topo_json(&f.t);
	ok(json_is_object(j), "json: an object");
	json_t *ranks = json_object_get(j, "ranks");
	json_t *hosts = json_object_get(j, "hosts");
	json_t *pairs = json_object_get(j, "pairs");
	json_t *warns = json_object_get(j, "warnings");
	ok(json_is_array(ranks) && json_array_size(ranks) == 3, "json: ranks is an array of 3");
	ok(json_is_array(hosts) && json_array_size(hosts) == 2, "json: hosts is an array of 2");
	ok(json_is_object(pairs) || json_is_array(pairs), "json: pairs is an object or array");
	ok(json_is_array(warns) && json_array_size(warns) == f.t.nwarnings,
	   "json: warnings is an array of %zu", f.t.nwarnings);
	int objs = 1;
	for (size_t i = 0; i < json_array_size(ranks); i++)
		objs &= json_is_object(json_array_get(ranks, i));
	for (size_t i = 0; i < json_array_size(hosts); i++)
		objs &= json_is_object(json_array_get(hosts, i));
	for (size_t i = 0; i < json_array_size(warns); i++)
		objs &= json_is_string(json_object_get(json_array_get(warns, i), "kind"));
	ok(objs, "json: ranks and hosts are objects, warnings have a string kind");
	json_t *r2 = json_array_get(ranks, 2);
	ok(json_is_integer(json_object_get(r2, "rank")) &&
	       json_integer_value(json_object_get(r2, "rank")) == 2,
	   "json: ranks[2].rank is the integer 2");
	is_string(json_string_value(json_object_get(r2, "host")), "small",
	          "json: ranks[2].host is \"small\"");
	is_string(json_string_value(json_object_get(json_array_get(hosts, 0), "host")), "dgx-a",
	          "json: hosts[0].host is \"dgx-a\"");
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	ok(text != NULL, "json: dumps");
	free(text);
	json_decref(j);

	char *map = NULL;
	size_t maplen = 0;
	FILE *mf = open_memstream(&map, &maplen);
	if (mf) {
		sb_topo_print(mf, &f.t);
		fclose(mf);
	}
	ok(map && maplen > 0, "print: writes a map");
	ok(map && strstr(map, "dgx-a") && strstr(map, "small"), "print: names both hosts");
	free(map);
	fake_free(&f);
}

static void test_load(void)
{
	char path[1200], err[256];
	hwloc_topology_t topo;
	struct sb_topo_host h;

	fixture_path(DGX, path, sizeof path);
	setenv("HWLOC_XMLFILE", path, 1);
	err[0] = '\0';
	int rc = sb_topo_load(&topo, err, sizeof err);
	is_int(rc, 0, "load: HWLOC_XMLFILE=%s (%s)", DGX, err);
	if (rc == 0) {
		memset(&h, 0, sizeof h);
		sb_topo_describe_host(topo, "x", &h);
		ok(h.gpus == 8 && h.nics == 4 && h.numa_nodes == 4,
		   "load: the fixture with its I/O (%d GPUs, %d NICs, %d nodes)", h.gpus, h.nics,
		   h.numa_nodes);
		hwloc_topology_destroy(topo);
	} else {
		ok(0, "load: the fixture with its I/O");
	}

	setenv("HWLOC_XMLFILE", "/nonexistent/scalebench-topo.xml", 1);
	err[0] = '\0';
	rc = sb_topo_load(&topo, err, sizeof err);
	is_int(rc, SB_EINVAL, "load: an unreadable HWLOC_XMLFILE is SB_EINVAL");
	ok(err[0] != '\0', "load: with a message (%s)", err);
	if (rc == 0)
		hwloc_topology_destroy(topo);
	unsetenv("HWLOC_XMLFILE");

	setenv("HWLOC_SYNTHETIC", "pack:3 core:2 pu:1", 1);
	rc = sb_topo_load(&topo, err, sizeof err);
	if (rc == 0) {
		memset(&h, 0, sizeof h);
		sb_topo_describe_host(topo, "x", &h);
		hwloc_topology_destroy(topo);
	}
	ok(rc == 0 && h.packages == 3 && h.cores == 6, "load: HWLOC_SYNTHETIC is honoured");
	unsetenv("HWLOC_SYNTHETIC");
}

int main(void)
{
	tap_plan(PLAN);
	unsetenv("HWLOC_XMLFILE");
	unsetenv("HWLOC_SYNTHETIC");

	hwloc_topology_t dgx = load_xml(DGX);
	hwloc_topology_t small = load_xml(SMALL);
	hwloc_topology_t syn = load_synthetic(SYNTH);

	test_describe_dgx(dgx);
	test_describe_small(small);
	test_describe_synthetic(syn);
	test_describe_host(dgx, small, syn);
	test_pair_names();
	test_pairs(dgx);
	test_span(dgx);
	test_warn(dgx, small);
	test_bind_plan(dgx, small);
	test_json_print(dgx, small);
	test_load();

	hwloc_topology_destroy(syn);
	hwloc_topology_destroy(small);
	hwloc_topology_destroy(dgx);
	return tap_done();
}
