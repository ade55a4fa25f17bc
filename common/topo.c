#include "topo.h"

#include "error.h"
#include "timer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *sb_pair_name(enum sb_pair p)
{
	static const char *const names[] = {"same-core", "same-numa", "same-package", "same-host",
	                                    "cross-host"};
	return p < SB_PAIR_COUNT ? names[p] : "?";
}

int sb_topo_load(hwloc_topology_t *out, char *err, size_t errlen)
{
	hwloc_topology_t t;
	if (hwloc_topology_init(&t)) {
		snprintf(err, errlen, "hwloc_topology_init failed");
		return SB_ENOMEM;
	}
	/* hwloc falls back to this machine, with a libxml warning, when HWLOC_XMLFILE cannot be
	 * read; a fixture asked for and not used is bad input, so set it explicitly. */
	const char *xml = getenv("HWLOC_XMLFILE");
	const char *syn = getenv("HWLOC_SYNTHETIC");
	if (xml && *xml) {
		FILE *f = fopen(xml, "r");
		if (!f) {
			snprintf(err, errlen, "cannot read HWLOC_XMLFILE '%s': %s", xml,
			         strerror(errno));
			hwloc_topology_destroy(t);
			return SB_EINVAL;
		}
		fclose(f);
		if (hwloc_topology_set_xml(t, xml)) {
			snprintf(err, errlen, "HWLOC_XMLFILE '%s' is not an hwloc XML topology",
			         xml);
			hwloc_topology_destroy(t);
			return SB_EINVAL;
		}
	} else if (syn && *syn && hwloc_topology_set_synthetic(t, syn)) {
		snprintf(err, errlen, "HWLOC_SYNTHETIC '%s' is not a synthetic topology", syn);
		hwloc_topology_destroy(t);
		return SB_EINVAL;
	}
	hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(t)) {
		snprintf(err, errlen, "cannot load the topology%s%s: %s", xml ? " from " : "",
		         xml ? xml : "", strerror(errno));
		hwloc_topology_destroy(t);
		return xml ? SB_EINVAL : SB_ESYS;
	}
	*out = t;
	return 0;
}

/* Logical indexes of the objects of one type that the cpuset touches, as a list; returns how
 * many, and in *only the index of the one when there is exactly one (else -1). With os, OS
 * indexes (NUMA nodes). */
static int touched(hwloc_topology_t topo, hwloc_obj_type_t type, hwloc_const_cpuset_t set, int os,
                   char *list, size_t len, int *only)
{
	hwloc_bitmap_t idx = hwloc_bitmap_alloc();
	int n = 0;
	*only = -1;
	for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, type, NULL); o;
	     o = hwloc_get_next_obj_by_type(topo, type, o))
		if (o->cpuset && hwloc_bitmap_intersects(o->cpuset, set)) {
			int i = os ? (int)o->os_index : (int)o->logical_index;
			hwloc_bitmap_set(idx, (unsigned)i);
			*only = n++ == 0 ? i : -1;
		}
	hwloc_bitmap_list_snprintf(list, len, idx);
	hwloc_bitmap_free(idx);
	return n;
}

static int is_gpu(hwloc_obj_t o)
{
	unsigned cls = o->attr->pcidev.class_id;
	unsigned vendor = o->attr->pcidev.vendor_id;
	/* Display controllers (0x03xx) from the GPU vendors: NVIDIA, AMD. */
	return (cls >> 8) == 0x03 && (vendor == 0x10de || vendor == 0x1002);
}

static int is_nic(hwloc_obj_t o)
{
	return o->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK ||
	       o->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS;
}

/* The NUMA node local to an I/O object, -1 when it is local to several or unknown. */
static int io_numa(hwloc_topology_t topo, hwloc_obj_t io)
{
	hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, io);
	if (!anc || !anc->nodeset || hwloc_bitmap_weight(anc->nodeset) != 1)
		return -1;
	return hwloc_bitmap_first(anc->nodeset);
}

/* Network devices nearest to the reference object: those whose locality shares the deepest
 * common ancestor with it. */
static void nearest_nics(hwloc_topology_t topo, hwloc_obj_t ref, char *out, size_t len)
{
	int best = -1;
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++)
		for (hwloc_obj_t o = hwloc_get_next_osdev(topo, NULL); o;
		     o = hwloc_get_next_osdev(topo, o)) {
			if (!is_nic(o) || !o->name)
				continue;
			hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, o);
			hwloc_obj_t common = hwloc_get_common_ancestor_obj(topo, anc, ref);
			int d = common ? common->depth : 0;
			if (pass == 0 && d > best)
				best = d;
			if (pass == 1 && d == best) {
				size_t l = strlen(out);
				snprintf(out + l, len - l, "%s%s", l ? "," : "", o->name);
			}
		}
}

void sb_topo_describe(hwloc_topology_t topo, hwloc_const_cpuset_t binding, const char *gpu,
                      struct sb_topo_rank *r)
{
	hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo);
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	r->bind_known = 1;
	if (binding)
		hwloc_bitmap_copy(set, binding);
	else if (!hwloc_topology_is_thissystem(topo) || hwloc_get_cpubind(topo, set, 0) != 0) {
		r->bind_known = 0; /* a fixture, or no binding support: assume the whole machine */
		hwloc_bitmap_copy(set, allowed);
	}
	hwloc_bitmap_and(set, set, allowed);
	r->bound = r->bind_known && !hwloc_bitmap_isequal(set, allowed);
	hwloc_bitmap_list_snprintf(r->cpuset, sizeof r->cpuset, set);
	r->npus = hwloc_bitmap_weight(set);
	r->ncores = touched(topo, HWLOC_OBJ_CORE, set, 0, r->cores, sizeof r->cores, &r->core);
	touched(topo, HWLOC_OBJ_NUMANODE, set, 1, r->numa, sizeof r->numa, &r->numa_node);
	touched(topo, HWLOC_OBJ_PACKAGE, set, 0, r->packages, sizeof r->packages, &r->package);

	hwloc_obj_t ref = hwloc_get_obj_covering_cpuset(topo, set);
	if (!ref)
		ref = hwloc_get_root_obj(topo);
	r->gpu[0] = r->gpu_cpuset[0] = '\0';
	r->gpu_found = 0;
	r->gpu_numa = -1;
	if (gpu && *gpu) {
		snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
		hwloc_obj_t dev = hwloc_get_pcidev_by_busidstring(topo, gpu);
		if (dev) {
			hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, dev);
			r->gpu_found = 1;
			r->gpu_numa = io_numa(topo, dev);
			hwloc_bitmap_list_snprintf(r->gpu_cpuset, sizeof r->gpu_cpuset,
			                           anc->cpuset);
			ref = anc; /* a rank using a GPU talks to the network from it */
		}
	}
	nearest_nics(topo, ref, r->nics, sizeof r->nics);
	hwloc_bitmap_free(set);
}

/* Whether an earlier network device hangs under the same card. */
static int nic_card_seen(hwloc_topology_t topo, hwloc_obj_t card, hwloc_obj_t upto)
{
	for (hwloc_obj_t o = hwloc_get_next_osdev(topo, NULL); o && o != upto;
	     o = hwloc_get_next_osdev(topo, o))
		if (is_nic(o) && o->name && o->parent == card)
			return 1;
	return 0;
}

/* FNV-1a 64 of the XML export without what differs between identical machines (the host
 * name, the process, the cgroup and its allowed sets), so that alike machines hash alike. */
static uint64_t xml_hash(const char *xml)
{
	static const char *const drop[] = {"\"HostName\"", "\"ProcessName\"", "\"LinuxCgroup\"",
	                                   NULL};
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *line = xml; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line + 1) : strlen(line);
		int skip = 0;
		for (size_t i = 0; drop[i]; i++)
			skip |= memmem(line, n, drop[i], strlen(drop[i])) != NULL;
		for (size_t i = 0; i < n && !skip; i++) {
			size_t k = 0;
			if (strncmp(line + i, " allowed_cpuset=\"", 17) == 0)
				k = 17;
			else if (strncmp(line + i, " allowed_nodeset=\"", 18) == 0)
				k = 18;
			const char *q = k ? memchr(line + i + k, '"', n - i - k) : NULL;
			if (q) {
				i = (size_t)(q - line); /* skip the attribute */
				continue;
			}
			h = (h ^ (unsigned char)line[i]) * 0x100000001b3ull;
		}
		line += n;
	}
	return h;
}

void sb_topo_describe_host(hwloc_topology_t topo, const char *host, struct sb_topo_host *h)
{
	memset(h, 0, sizeof *h);
	snprintf(h->host, sizeof h->host, "%s", host);
	h->packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
	h->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	h->cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	h->pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	h->memory = hwloc_get_root_obj(topo)->total_memory;
	for (hwloc_obj_t o = hwloc_get_next_pcidev(topo, NULL); o;
	     o = hwloc_get_next_pcidev(topo, o))
		if (is_gpu(o)) {
			size_t l = strlen(h->gpu_list);
			char bus[32];
			snprintf(bus, sizeof bus, "%04x:%02x:%02x.%01x", o->attr->pcidev.domain,
			         o->attr->pcidev.bus, o->attr->pcidev.dev, o->attr->pcidev.func);
			int numa = io_numa(topo, o);
			if (numa >= 0)
				snprintf(h->gpu_list + l, sizeof h->gpu_list - l, "%s%s@numa%d",
				         l ? "," : "", bus, numa);
			else
				snprintf(h->gpu_list + l, sizeof h->gpu_list - l, "%s%s",
				         l ? "," : "", bus);
			h->gpus++;
		}
	/* NICs are counted as cards (PCI devices with a network or OpenFabrics device under
	 * them); the list names every such device ("mlx5_0,ib0" for one InfiniBand card). */
	for (hwloc_obj_t o = hwloc_get_next_osdev(topo, NULL); o; o = hwloc_get_next_osdev(topo, o))
		if (is_nic(o) && o->name) {
			size_t l = strlen(h->nic_list);
			snprintf(h->nic_list + l, sizeof h->nic_list - l, "%s%s", l ? "," : "",
			         o->name);
			hwloc_obj_t card = o->parent;
			if (!card || card->type != HWLOC_OBJ_PCI_DEVICE ||
			    !nic_card_seen(topo, card, o))
				h->nics++;
		}
	if (hwloc_topology_export_synthetic(topo, h->synthetic, sizeof h->synthetic, 0) < 0)
		h->synthetic[0] = '\0'; /* not expressible (asymmetric machine) */
	char *xml = NULL;
	int len = 0;
	if (hwloc_topology_export_xmlbuffer(topo, &xml, &len, 0) == 0) {
		(void)len;
		snprintf(h->xml_hash, sizeof h->xml_hash, "%016llx",
		         (unsigned long long)xml_hash(xml));
		hwloc_free_xmlbuffer(topo, xml);
	}
}

/* Share n items among k takers: taker j gets [lo, hi); more takers than items wrap around. */
static void share(int n, int k, int j, int *lo, int *hi)
{
	if (k <= n) {
		*lo = (int)((long)j * n / k);
		*hi = (int)((long)(j + 1) * n / k);
	} else {
		*lo = j % n;
		*hi = *lo + 1;
	}
}

/* The PUs of the lo..hi-1-th cores (in logical order) among those within `within`. */
static void cores_within(hwloc_topology_t topo, hwloc_const_cpuset_t within, int lo, int hi,
                         hwloc_cpuset_t out)
{
	int i = 0;
	hwloc_bitmap_zero(out);
	for (hwloc_obj_t c = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, NULL); c;
	     c = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, c))
		if (hwloc_bitmap_isincluded(c->cpuset, within)) {
			if (i >= lo && i < hi)
				hwloc_bitmap_or(out, out, c->cpuset);
			i++;
		}
}

static int count_cores_within(hwloc_topology_t topo, hwloc_const_cpuset_t within)
{
	int n = 0;
	for (hwloc_obj_t c = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, NULL); c;
	     c = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, c))
		n += hwloc_bitmap_isincluded(c->cpuset, within);
	return n;
}

int sb_topo_bind_plan(hwloc_topology_t topo, int local_rank, int local_size, const char *gpu,
                      int gpu_rank, int gpu_ranks, hwloc_cpuset_t out, char *why, size_t len)
{
	if (local_size < 1 || local_rank < 0 || local_rank >= local_size ||
	    (gpu && *gpu && (gpu_ranks < 1 || gpu_rank < 0 || gpu_rank >= gpu_ranks))) {
		snprintf(why, len, "invalid placement: local rank %d of %d, GPU share %d of %d",
		         local_rank, local_size, gpu_rank, gpu_ranks);
		return SB_EINVAL;
	}
	hwloc_obj_t dev = gpu && *gpu ? hwloc_get_pcidev_by_busidstring(topo, gpu) : NULL;
	hwloc_const_cpuset_t area;
	int taker, takers;
	char where[64];
	if (dev) {
		area = hwloc_get_non_io_ancestor_obj(topo, dev)->cpuset;
		taker = gpu_rank;
		takers = gpu_ranks > 0 ? gpu_ranks : 1;
		int numa = io_numa(topo, dev);
		if (numa >= 0)
			snprintf(where, sizeof where, "nearest GPU %s (NUMA node %d)", gpu, numa);
		else
			snprintf(where, sizeof where, "nearest GPU %s", gpu);
	} else {
		int nn = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
		if (nn < 1)
			nn = 1;
		hwloc_obj_t node =
		    hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)(local_rank % nn));
		area =
		    node && node->cpuset ? node->cpuset : hwloc_topology_get_allowed_cpuset(topo);
		taker = local_rank / nn;
		/* Local ranks r with r % nn == this node. */
		takers = (local_size - local_rank % nn + nn - 1) / nn;
		snprintf(where, sizeof where, "NUMA node %u of %d", node ? node->os_index : 0, nn);
	}
	int n = count_cores_within(topo, area);
	if (n == 0) {
		snprintf(why, len, "no cores found %s", where);
		return SB_EINVAL;
	}
	int lo, hi;
	share(n, takers, taker, &lo, &hi);
	cores_within(topo, area, lo, hi, out);
	hwloc_bitmap_and(out, out, hwloc_topology_get_allowed_cpuset(topo));
	if (hwloc_bitmap_iszero(out)) {
		snprintf(why, len, "no allowed cores %s", where);
		return SB_EINVAL;
	}
	char pus[96];
	hwloc_bitmap_list_snprintf(pus, sizeof pus, out);
	snprintf(why, len, "%s: %d of its %d cores%s, PUs %s", where, hi - lo, n,
	         takers > n ? " (shared: more ranks than cores)" : "", pus);
	return 0;
}

enum sb_pair sb_topo_pair(const struct sb_topo_rank *a, const struct sb_topo_rank *b)
{
	if (strcmp(a->host, b->host) != 0)
		return SB_PAIR_CROSS_HOST;
	if (a->core >= 0 && a->core == b->core)
		return SB_PAIR_SAME_CORE;
	if (a->numa_node >= 0 && a->numa_node == b->numa_node)
		return SB_PAIR_SAME_NUMA;
	if (a->package >= 0 && a->package == b->package)
		return SB_PAIR_SAME_PACKAGE;
	return SB_PAIR_SAME_HOST;
}

enum sb_pair sb_topo_span(const struct sb_topo *t, const int *ranks, int n)
{
	enum sb_pair w = SB_PAIR_SAME_CORE;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			enum sb_pair p = sb_topo_pair(&t->ranks[ranks[i]], &t->ranks[ranks[j]]);
			if (p > w)
				w = p;
			if (w == SB_PAIR_CROSS_HOST)
				return w; /* nothing is wider */
		}
	return w;
}

static int add_warning(struct sb_topo *t, const char *kind, const char *host, const char *fmt, ...)
    SB_PRINTF(4, 5);

static int add_warning(struct sb_topo *t, const char *kind, const char *host, const char *fmt, ...)
{
	struct sb_topo_warning *w = realloc(t->warnings, (t->nwarnings + 1) * sizeof *w);
	if (!w)
		return SB_ENOMEM;
	t->warnings = w;
	w += t->nwarnings++;
	snprintf(w->kind, sizeof w->kind, "%s", kind);
	snprintf(w->host, sizeof w->host, "%s", host);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof w->message, fmt, ap);
	va_end(ap);
	return 0;
}

/* Append "r" to a rank list text, eliding past a few. */
static void list_rank(char *buf, size_t len, int *count, int r)
{
	size_t l = strlen(buf);
	if (*count < 8)
		snprintf(buf + l, len - l, "%s%d", *count ? "," : "", r);
	else if (*count == 8)
		snprintf(buf + l, len - l, ",...");
	(*count)++;
}

int sb_topo_warn(struct sb_topo *t)
{
	free(t->warnings);
	t->warnings = NULL;
	t->nwarnings = 0;
	int rc = 0;
	for (int h = 0; h < t->nhosts && rc == 0; h++) {
		const struct sb_topo_host *H = &t->hosts[h];
		char unbound[64] = "", unknown[64] = "", cross[64] = "";
		int nunbound = 0, nunknown = 0, ncross = 0, nranks = 0;
		int per_package[256] = {0};
		int packaged = 0;
		for (int r = 0; r < t->nranks; r++) {
			const struct sb_topo_rank *R = &t->ranks[r];
			if (t->host_of[r] != h)
				continue;
			nranks++;
			if (!R->bind_known)
				list_rank(unknown, sizeof unknown, &nunknown, r);
			else if (!R->bound && H->pus > 1)
				list_rank(unbound, sizeof unbound, &nunbound, r);
			else if (R->bound && R->numa_node < 0 && H->numa_nodes > 1)
				list_rank(cross, sizeof cross, &ncross, r);
			if (R->bound && R->package >= 0 && R->package < 256) {
				per_package[R->package]++;
				packaged++;
			}
			if (R->gpu[0] && R->gpu_numa >= 0 && R->bound) {
				char node[16];
				snprintf(node, sizeof node, "%d", R->gpu_numa);
				hwloc_bitmap_t ns = hwloc_bitmap_alloc();
				hwloc_bitmap_list_sscanf(ns, R->numa);
				if (!hwloc_bitmap_isset(ns, (unsigned)R->gpu_numa))
					rc = add_warning(
					    t, "gpu-numa-mismatch", H->host,
					    "rank %d uses GPU %s on NUMA node %d but is bound "
					    "to NUMA node(s) %s",
					    r, R->gpu, R->gpu_numa, R->numa);
				hwloc_bitmap_free(ns);
			}
			/* One warning per shared GPU, from its first rank. Bus ids compare without
			 * case: CUDA writes hex digits in upper case, hwloc in lower. */
			int first = 1;
			for (int q = 0; q < r && R->gpu[0] && first; q++)
				if (t->host_of[q] == h && strcasecmp(t->ranks[q].gpu, R->gpu) == 0)
					first = 0;
			char sharers[64] = "";
			int nshare = 0;
			for (int q = r; q < t->nranks && R->gpu[0] && first; q++)
				if (t->host_of[q] == h && strcasecmp(t->ranks[q].gpu, R->gpu) == 0)
					list_rank(sharers, sizeof sharers, &nshare, q);
			if (nshare > 1)
				rc = add_warning(t, "shared-gpu", H->host,
				                 "ranks %s all use GPU %s", sharers, R->gpu);
		}
		if (nunknown)
			rc =
			    add_warning(t, "binding-unknown", H->host,
			                "binding of rank(s) %s cannot be read (the topology is not "
			                "this machine's)",
			                unknown);
		if (nunbound)
			rc = add_warning(t, "unbound", H->host,
			                 "rank(s) %s not bound to cores: the OS may move them, and "
			                 "timings vary (mpirun --bind-to core, or --bind auto)",
			                 unbound);
		if (ncross)
			rc = add_warning(t, "cross-numa-binding", H->host,
			                 "rank(s) %s bound across NUMA nodes", cross);
		if (H->cores > 0 && nranks > H->cores)
			rc = add_warning(t, "oversubscribed", H->host,
			                 "%d ranks on %d cores (%d PUs): ranks share cores", nranks,
			                 H->cores, H->pus);
		if (H->packages > 1 && packaged) {
			int lo = packaged, hi = 0;
			for (int p = 0; p < H->packages && p < 256; p++) {
				lo = per_package[p] < lo ? per_package[p] : lo;
				hi = per_package[p] > hi ? per_package[p] : hi;
			}
			if (hi - lo > 1)
				rc = add_warning(
				    t, "uneven-packages", H->host,
				    "ranks unevenly spread over %d packages (%d to %d per "
				    "package)",
				    H->packages, lo, hi);
		}
	}
	return rc;
}

/* ---- records ---- */

static json_t *rank_json(const struct sb_topo_rank *r)
{
	json_t *o = json_pack(
	    "{s:i,s:i,s:i,s:s,s:I,s:b,s:b,s:s,s:i,s:i,s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:b,s:i,s:s,s:s,"
	    "s:s}",
	    "rank", r->rank, "local_rank", r->local_rank, "local_size", r->local_size, "host",
	    r->host, "pid", (json_int_t)r->pid, "bind_known", r->bind_known, "bound", r->bound,
	    "cpuset", r->cpuset, "npus", r->npus, "ncores", r->ncores, "cores", r->cores, "numa",
	    r->numa, "packages", r->packages, "core", r->core, "numa_node", r->numa_node, "package",
	    r->package, "gpu", r->gpu, "gpu_found", r->gpu_found, "gpu_numa", r->gpu_numa,
	    "gpu_cpuset", r->gpu_cpuset, "nics", r->nics, "bind_action", r->bind_action);
	return o;
}

#define GET_STR(o, k, dst)                                                                         \
	snprintf((dst), sizeof(dst), "%s",                                                         \
	         json_string_value(json_object_get((o), (k)))                                      \
	             ? json_string_value(json_object_get((o), (k)))                                \
	             : "")
#define GET_INT(o, k) ((int)json_integer_value(json_object_get((o), (k))))

static void rank_from_json(json_t *o, struct sb_topo_rank *r)
{
	memset(r, 0, sizeof *r);
	r->rank = GET_INT(o, "rank");
	r->local_rank = GET_INT(o, "local_rank");
	r->local_size = GET_INT(o, "local_size");
	GET_STR(o, "host", r->host);
	r->pid = (long)json_integer_value(json_object_get(o, "pid"));
	r->bind_known = json_is_true(json_object_get(o, "bind_known"));
	r->bound = json_is_true(json_object_get(o, "bound"));
	GET_STR(o, "cpuset", r->cpuset);
	r->npus = GET_INT(o, "npus");
	r->ncores = GET_INT(o, "ncores");
	GET_STR(o, "cores", r->cores);
	GET_STR(o, "numa", r->numa);
	GET_STR(o, "packages", r->packages);
	r->core = GET_INT(o, "core");
	r->numa_node = GET_INT(o, "numa_node");
	r->package = GET_INT(o, "package");
	GET_STR(o, "gpu", r->gpu);
	r->gpu_found = json_is_true(json_object_get(o, "gpu_found"));
	r->gpu_numa = GET_INT(o, "gpu_numa");
	GET_STR(o, "gpu_cpuset", r->gpu_cpuset);
	GET_STR(o, "nics", r->nics);
	GET_STR(o, "bind_action", r->bind_action);
}

static json_t *host_json(const struct sb_topo_host *h)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:I,s:i,s:s,s:i,s:s,s:s?,s:s}", "host", h->host,
	                 "packages", h->packages, "numa_nodes", h->numa_nodes, "cores", h->cores,
	                 "pus", h->pus, "memory", (json_int_t)h->memory, "gpus", h->gpus,
	                 "gpu_list", h->gpu_list, "nics", h->nics, "nic_list", h->nic_list,
	                 "synthetic", h->synthetic[0] ? h->synthetic : NULL, "xml_fnv1a64",
	                 h->xml_hash);
}

static void host_from_json(json_t *o, struct sb_topo_host *h)
{
	memset(h, 0, sizeof *h);
	GET_STR(o, "host", h->host);
	h->packages = GET_INT(o, "packages");
	h->numa_nodes = GET_INT(o, "numa_nodes");
	h->cores = GET_INT(o, "cores");
	h->pus = GET_INT(o, "pus");
	h->memory = (unsigned long long)json_integer_value(json_object_get(o, "memory"));
	h->gpus = GET_INT(o, "gpus");
	GET_STR(o, "gpu_list", h->gpu_list);
	h->nics = GET_INT(o, "nics");
	GET_STR(o, "nic_list", h->nic_list);
	GET_STR(o, "synthetic", h->synthetic);
	GET_STR(o, "xml_fnv1a64", h->xml_hash);
}

json_t *sb_topo_json(const struct sb_topo *t)
{
	json_t *o = json_object();
	json_t *ranks = json_array(), *hosts = json_array(), *warns = json_array();
	for (int r = 0; r < t->nranks; r++)
		json_array_append_new(ranks, rank_json(&t->ranks[r]));
	for (int h = 0; h < t->nhosts; h++) {
		json_t *hj = host_json(&t->hosts[h]);
		json_t *rl = json_array();
		for (int r = 0; r < t->nranks; r++)
			if (t->host_of[r] == h)
				json_array_append_new(rl, json_integer(r));
		json_object_set_new(hj, "ranks", rl);
		json_array_append_new(hosts, hj);
	}
	for (size_t i = 0; i < t->nwarnings; i++)
		json_array_append_new(warns, json_pack("{s:s,s:s,s:s}", "kind", t->warnings[i].kind,
		                                       "host", t->warnings[i].host, "message",
		                                       t->warnings[i].message));
	/* Pair classes: counts always; the matrix (class index per pair) up to 256 ranks. */
	json_t *pairs = json_object(), *names = json_array(), *counts = json_object();
	long long n[SB_PAIR_COUNT] = {0};
	json_t *matrix = t->nranks <= 256 ? json_array() : NULL;
	for (int i = 0; i < t->nranks; i++) {
		json_t *row = matrix ? json_array() : NULL;
		for (int j = 0; j < t->nranks; j++) {
			enum sb_pair p =
			    i == j ? SB_PAIR_SAME_CORE : sb_topo_pair(&t->ranks[i], &t->ranks[j]);
			if (j > i)
				n[p]++;
			if (row)
				json_array_append_new(row, json_integer(i == j ? -1 : (int)p));
		}
		if (matrix)
			json_array_append_new(matrix, row);
	}
	for (int p = 0; p < SB_PAIR_COUNT; p++) {
		json_array_append_new(names, json_string(sb_pair_name((enum sb_pair)p)));
		json_object_set_new(counts, sb_pair_name((enum sb_pair)p), json_integer(n[p]));
	}
	json_object_set_new(pairs, "classes", names);
	json_object_set_new(pairs, "counts", counts);
	json_object_set_new(pairs, "matrix", matrix ? matrix : json_null());
	int *all = malloc((size_t)(t->nranks > 0 ? t->nranks : 1) * sizeof *all);
	for (int i = 0; all && i < t->nranks; i++)
		all[i] = i;
	json_object_set_new(o, "span",
	                    json_string(all ? sb_pair_name(sb_topo_span(t, all, t->nranks)) : "?"));
	free(all);
	json_object_set_new(o, "discovery_seconds", json_real(t->seconds));
	json_object_set_new(o, "ranks", ranks);
	json_object_set_new(o, "hosts", hosts);
	json_object_set_new(o, "pairs", pairs);
	json_object_set_new(o, "warnings", warns);
	return o;
}

void sb_topo_free(struct sb_topo *t)
{
	if (!t)
		return;
	free(t->ranks);
	free(t->hosts);
	free(t->host_of);
	free(t->warnings);
	free(t);
}

/* ---- discovery ---- */

/* The i-th GPU of the topology in PCI order, or NULL. */
static hwloc_obj_t nth_gpu(hwloc_topology_t topo, int i)
{
	for (hwloc_obj_t o = hwloc_get_next_pcidev(topo, NULL); o;
	     o = hwloc_get_next_pcidev(topo, o))
		if (is_gpu(o) && i-- == 0)
			return o;
	return NULL;
}

/* The GPU the GPU backends would give this rank: local rank modulo the GPU count, in PCI
 * order. *taker / *takers: this rank's place among the local ranks whose GPUs are local to the
 * same cores (two GPUs on one NUMA node share its cores between their ranks). */
static void local_gpu(hwloc_topology_t topo, int local_rank, int local_size, char *out, size_t len,
                      int *taker, int *takers)
{
	int n = 0;
	while (nth_gpu(topo, n))
		n++;
	out[0] = '\0';
	*taker = 0;
	*takers = 1;
	if (n == 0)
		return;
	hwloc_obj_t mine = nth_gpu(topo, local_rank % n);
	snprintf(out, len, "%04x:%02x:%02x.%01x", mine->attr->pcidev.domain, mine->attr->pcidev.bus,
	         mine->attr->pcidev.dev, mine->attr->pcidev.func);
	hwloc_obj_t area = hwloc_get_non_io_ancestor_obj(topo, mine);
	*takers = 0;
	for (int r = 0; r < local_size; r++)
		if (hwloc_get_non_io_ancestor_obj(topo, nth_gpu(topo, r % n)) == area) {
			if (r == local_rank)
				*taker = *takers;
			(*takers)++;
		}
}

/* Re-bind this process per mode; describe what was done in action. On a topology that is
 * not this machine's (a fixture) nothing can be applied: the planned PUs go to `planned` so
 * the record shows the placement --bind would give, labelled as planned. */
static int rebind(hwloc_topology_t topo, const char *mode, int local_rank, int local_size,
                  const char *gpu, int gpu_rank, int gpu_ranks, char *action, size_t len,
                  hwloc_bitmap_t planned)
{
	action[0] = '\0';
	if (!mode || strcmp(mode, "keep") == 0)
		return 0;
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	char why[200];
	int rc = 0;
	if (strcmp(mode, "none") == 0) {
		hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(topo));
		char pus[96];
		hwloc_bitmap_list_snprintf(pus, sizeof pus, set);
		snprintf(why, sizeof why, "every allowed PU (%s)", pus);
	} else {
		rc = sb_topo_bind_plan(topo, local_rank, local_size, gpu, gpu_rank, gpu_ranks, set,
		                       why, sizeof why);
	}
	if (rc == 0) {
		if (!hwloc_topology_is_thissystem(topo)) {
			snprintf(action, len,
			         "planned only (the topology is not this machine's): %s", why);
			hwloc_bitmap_copy(planned, set);
		} else if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) != 0) {
			snprintf(action, len, "failed (%.60s): %s", strerror(errno), why);
		} else {
			snprintf(action, len, "bound to %s", why);
		}
	} else {
		snprintf(action, len, "not bound: %s", why);
	}
	hwloc_bitmap_free(set);
	return 0;
}

int sb_topo_discover(struct sb_comm *c, int local_rank, int local_size, const char *bind_mode,
                     const char *gpu, struct sb_topo **out)
{
	double t0 = sb_now();
	*out = NULL;
	hwloc_topology_t topo = NULL;
	char err[512] = "";
	int rc = sb_topo_load(&topo, err, sizeof err);
	long long bad = rc ? 1 : 0;
	int crc = sb_ctl_sum(c, &bad, 1);
	if (crc)
		return crc;
	if (bad) {
		if (rc)
			sb_log_usage("%s", err);
		if (topo)
			hwloc_topology_destroy(topo);
		return rc ? rc : SB_EINVAL;
	}

	struct sb_topo_rank me;
	struct sb_topo_host host;
	memset(&me, 0, sizeof me);
	char mygpu[32] = "";
	int gpu_rank = 0, gpu_ranks = 1;
	if (gpu && strcmp(gpu, SB_TOPO_GPU_LOCAL) == 0)
		local_gpu(topo, local_rank, local_size, mygpu, sizeof mygpu, &gpu_rank, &gpu_ranks);
	else if (gpu)
		snprintf(mygpu, sizeof mygpu, "%s", gpu);
	hwloc_bitmap_t planned = hwloc_bitmap_alloc();
	rebind(topo, bind_mode, local_rank, local_size, mygpu, gpu_rank, gpu_ranks, me.bind_action,
	       sizeof me.bind_action, planned);
	sb_topo_describe(topo, hwloc_bitmap_iszero(planned) ? NULL : planned, mygpu, &me);
	hwloc_bitmap_free(planned);
	me.rank = c->rank;
	me.local_rank = local_rank;
	me.local_size = local_size;
	snprintf(me.host, sizeof me.host, "%.63s", c->host);
	me.pid = (long)getpid();
	sb_topo_describe_host(topo, c->host, &host);
	hwloc_topology_destroy(topo);

	json_t *j = json_pack("{s:o,s:o,s:f}", "rank", rank_json(&me), "host", host_json(&host),
	                      "seconds", sb_now() - t0);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return SB_ENOMEM;
	char **all = NULL;
	rc = sb_ctl_gatherv(c, text, &all);
	free(text);
	if (rc || c->rank != 0)
		return rc;

	struct sb_topo *t = calloc(1, sizeof *t);
	if (!t) {
		sb_strv_free(all, c->size);
		return SB_ENOMEM;
	}
	t->nranks = c->size;
	t->ranks = calloc((size_t)c->size, sizeof *t->ranks);
	t->hosts = calloc((size_t)c->size, sizeof *t->hosts);
	t->host_of = calloc((size_t)c->size, sizeof *t->host_of);
	if (!t->ranks || !t->hosts || !t->host_of) {
		sb_strv_free(all, c->size);
		sb_topo_free(t);
		return SB_ENOMEM;
	}
	for (int r = 0; r < c->size; r++) {
		json_t *o = json_loads(all[r], 0, NULL);
		rank_from_json(json_object_get(o, "rank"), &t->ranks[r]);
		t->ranks[r].rank = r;
		double s = json_real_value(json_object_get(o, "seconds"));
		if (s > t->seconds)
			t->seconds = s;
		int h;
		for (h = 0; h < t->nhosts; h++)
			if (strcmp(t->hosts[h].host, t->ranks[r].host) == 0)
				break;
		if (h == t->nhosts)
			host_from_json(json_object_get(o, "host"), &t->hosts[t->nhosts++]);
		t->host_of[r] = h;
		json_decref(o);
	}
	sb_strv_free(all, c->size);
	if ((rc = sb_topo_warn(t))) {
		sb_topo_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void print_mem(FILE *f, unsigned long long b)
{
	fprintf(f, "%.1f GiB", (double)b / (1024.0 * 1024.0 * 1024.0));
}

void sb_topo_print(FILE *f, const struct sb_topo *t)
{
	for (int h = 0; h < t->nhosts; h++) {
		const struct sb_topo_host *H = &t->hosts[h];
		fprintf(f, "host %s: %d package%s, %d NUMA node%s, %d cores, %d PUs, ", H->host,
		        H->packages, H->packages == 1 ? "" : "s", H->numa_nodes,
		        H->numa_nodes == 1 ? "" : "s", H->cores, H->pus);
		print_mem(f, H->memory);
		fprintf(f, "\n  synthetic: %s\n",
		        H->synthetic[0] ? H->synthetic : "(not expressible)");
		fprintf(f, "  GPUs: %s\n  NICs: %s\n", H->gpus ? H->gpu_list : "none",
		        H->nics ? H->nic_list : "none");
		fprintf(f, "  %-6s %-8s %-10s %-12s %-10s %-6s %-8s %-14s %s\n", "rank", "pid",
		        "PUs", "cores", "NUMA", "pkg", "bound", "GPU", "nearest NICs");
		for (int r = 0; r < t->nranks; r++) {
			const struct sb_topo_rank *R = &t->ranks[r];
			if (t->host_of[r] != h)
				continue;
			fprintf(f, "  %-6d %-8ld %-10s %-12s %-10s %-6s %-8s %-14s %s\n", r, R->pid,
			        R->cpuset, R->cores, R->numa, R->packages,
			        !R->bind_known ? "unknown"
			        : R->bound     ? "yes"
			                       : "no",
			        R->gpu[0] ? R->gpu : "-", R->nics[0] ? R->nics : "-");
			if (R->bind_action[0])
				fprintf(f, "         --bind: %s\n", R->bind_action);
		}
	}
	if (t->nranks > 1) {
		long long n[SB_PAIR_COUNT] = {0};
		for (int i = 0; i < t->nranks; i++)
			for (int j = i + 1; j < t->nranks; j++)
				n[sb_topo_pair(&t->ranks[i], &t->ranks[j])]++;
		fprintf(f, "pairs:");
		for (int p = 0; p < SB_PAIR_COUNT; p++)
			if (n[p])
				fprintf(f, " %lld %s", n[p], sb_pair_name((enum sb_pair)p));
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < t->nwarnings; i++)
		fprintf(f, "warning: [%s] host %s: %s\n", t->warnings[i].kind, t->warnings[i].host,
		        t->warnings[i].message);
	fprintf(f, "discovery: %.3f s\n", t->seconds);
}
