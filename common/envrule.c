#include "envrule.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* What of the environment a run file keeps (results/README.md, provenance). Run files travel
 * into CI artifacts and shared histories, so the rule is an allow-list: a variable is kept when
 * its name starts with a tuning prefix, then dropped when it is the launcher's wiring, a per-job
 * identity or a per-rank value (rank 0's alone would mislead), and its value replaced by
 * "<redacted>" when its name says credential or endpoint or its value holds an endpoint or a
 * key. OpenMPI's own variables other than OMPI_MCA_*, PMIx's, PRRTE's and hydra's PMI_* are
 * never tuning and never kept. */
static const char *const env_tuning[] = {"NCCL_",  "UCX_",       "FI_",    "CUDA_",  "OMPI_MCA_",
                                         "MPICH_", "MPIR_CVAR_", "I_MPI_", "HWLOC_", "OMP_",
                                         "SLURM_", "SB_",        NULL};

/* Set by mpirun or srun, not by the user; fnmatch(3) patterns. */
static const char env_internal[] =
    /* OpenMPI's wiring: job id, daemon URIs, the transport key, session directories */
    "OMPI_MCA_orte_* OMPI_MCA_ess OMPI_MCA_ess_* OMPI_MCA_pmix OMPI_MCA_pmix_* OMPI_MCA_prte_* "
    "OMPI_MCA_initial_wdir OMPI_MCA_shmem_RUNTIME_QUERY_hint "
    /* the job's identity, its user and where it was submitted from */
    "SLURM_*JOB_ID SLURM_*JOBID SLURM_ARRAY_TASK_ID SLURM_STEP_ID SLURM_STEPID SLURM_JOB_USER "
    "SLURM_JOB_UID SLURM_JOB_GID SLURM_JOB_ACCOUNT SLURM_SUBMIT_* SLURM_WORKING_* "
    "SLURM_JOB_START_TIME SLURM_JOB_END_TIME SLURM_UMASK SLURM_PRIO_PROCESS SLURM_CONF "
    /* srun's wiring: addresses, ports, the PMIx server */
    "SLURM_SRUN_COMM_* SLURM_STEP_LAUNCHER_PORT SLURM_STEP_RESV_PORTS SLURM_LAUNCH_NODE_IPADDR "
    "SLURM_PMIX* SLURM_SCRIPT_CONTEXT "
    /* rank 0's own place in the job */
    "SLURM_PROCID SLURM_LOCALID SLURM_NODEID SLURM_GTIDS SLURM_TASK_PID SLURM_CPU_BIND_LIST";

/* Names that say credential or endpoint, matched upper-cased: the name stays (that it was set
 * may explain a result), the value does not. NCCL_COMM_ID is the bootstrap root's host:port. */
static const char env_secret[] = "*TOKEN* *SECRET* *PASSW* *CREDENTIAL* *APIKEY* *_KEY *_KEY_* "
                                 "*_KEYS *_URI *_URI_* *_URL *_URL_* *_AUTH *_AUTH_* NCCL_COMM_ID";

/* Whether name matches one of the space-separated patterns. */
static int env_match(const char *pats, const char *name)
{
	for (const char *p = pats; *p;) {
		size_t n = strcspn(p, " ");
		char pat[64];
		snprintf(pat, sizeof pat, "%.*s", (int)n, p);
		if (n && fnmatch(pat, name, 0) == 0)
			return 1;
		p += n + (p[n] == ' ');
	}
	return 0;
}

/* The number of digits at s, at most max. */
static size_t digits(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

/* An IPv4 address with a port at p: four groups of 1-3 digits joined by '.', ':', digits. */
static int ipv4_port_at(const char *p)
{
	for (int part = 0; part < 4; part++) {
		size_t n = digits(p, 3);
		if (n == 0 || p[n] != (part < 3 ? '.' : ':'))
			return 0;
		p += n + 1;
	}
	return digits(p, 5) > 0;
}

/* A key in the n token characters at p: 16 or more hex digits in a row, letters and digits among
 * them, not written 0x.. (a mask); or 32 or more characters with upper- and lower-case letters
 * and digits (base64 and the like). GPU UUIDs (runs of 12 at most, '-' between) and library
 * names (lower case) are not keys. */
static int key_in(const char *p, size_t n)
{
	int up = 0, lo = 0, dg = 0;
	for (size_t i = 0; i < n; i++) {
		up |= isupper((unsigned char)p[i]);
		lo |= islower((unsigned char)p[i]);
		dg |= isdigit((unsigned char)p[i]);
	}
	if (n >= 32 && up && lo && dg)
		return 1;
	for (size_t i = 0; i < n;) {
		size_t h = 0;
		int al = 0, hd = 0;
		for (; i + h < n && isxdigit((unsigned char)p[i + h]); h++) {
			al |= isalpha((unsigned char)p[i + h]);
			hd |= isdigit((unsigned char)p[i + h]);
		}
		int mask = i >= 2 && p[i - 2] == '0' && (p[i - 1] == 'x' || p[i - 1] == 'X');
		if (h >= 16 && al && hd && !mask)
			return 1;
		i += h ? h : 1;
	}
	return 0;
}

/* An endpoint or a key in a value: a URI (scheme://), an IPv4 address with a port, an IPv6
 * literal with a port ([..]:port), or a key (key_in, on each run of letters, digits, '_', '+',
 * '='). Bare addresses and subnets stay: they choose the network a run measured
 * (OMPI_MCA_btl_tcp_if_include=10.0.0.0/8), as do device:port lists (NCCL_IB_HCA=mlx5_0:1). */
static int env_value_secret(const char *v)
{
	if (strstr(v, "://"))
		return 1;
	for (const char *p = v; *p; p++) {
		int start = p == v || !(isdigit((unsigned char)p[-1]) || p[-1] == '.');
		if ((start && ipv4_port_at(p)) ||
		    (p[0] == ']' && p[1] == ':' && isdigit((unsigned char)p[2])))
			return 1;
	}
	static const char tok[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=";
	for (const char *p = v; *p;) {
		size_t n = strspn(p, tok);
		if (n && key_in(p, n))
			return 1;
		p += n ? n : 1;
	}
	return 0;
}

enum sb_env_verdict sb_env_rule(const char *name, const char *value)
{
	size_t i;
	for (i = 0; env_tuning[i]; i++)
		if (strncmp(name, env_tuning[i], strlen(env_tuning[i])) == 0)
			break;
	if (!env_tuning[i] || env_match(env_internal, name))
		return SB_ENV_DROP;
	char up[256];
	for (i = 0; name[i] && i + 1 < sizeof up; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = 0;
	return env_match(env_secret, up) || env_value_secret(value) ? SB_ENV_REDACT : SB_ENV_KEEP;
}
