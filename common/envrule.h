/* The provenance rule: which environment variables a run file may keep (results/README.md,
 * provenance.env). Shared by the runs scalebench writes and the files the collector imports
 * from peer tools, whose environments travel into the same histories. */
#ifndef SB_ENVRULE_H
#define SB_ENVRULE_H

enum sb_env_verdict { SB_ENV_DROP, SB_ENV_KEEP, SB_ENV_REDACT };

/* What to do with NAME=VALUE: drop it, keep it, or keep the name with "<redacted>". */
enum sb_env_verdict sb_env_rule(const char *name, const char *value);

#endif
