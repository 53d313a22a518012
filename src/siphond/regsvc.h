/* What siphond's registrar shares between workers: the location service,
 * the subscriber store, the digest server and the policy (RFC 3261 §10.3
 * steps 1-5, §22). Read-only once created; the objects lock themselves. */
#ifndef SIPHON_SIPHOND_REGSVC_H
#define SIPHON_SIPHOND_REGSVC_H

#include "base/str.h"
#include "siphond/server.h"

#include <stdbool.h>
#include <stdint.h>

struct auth_server;
struct loc;
struct sub;

struct sd_regsvc {
	struct loc *loc;
	struct sub *sub;           /* NULL when no method needs credentials */
	struct auth_server *auth;  /* likewise */
	char **domains;            /* lower case; borrowed from the config */
	unsigned ndomains;
	struct reg_cfg reg;
	uint16_t foreign_code;
	uint64_t auth_methods;
	enum sd_user_match user_match;
	unsigned purge_ms;
};

/* Open the location service (cfg's backend; database under data_dir),
 * the subscriber store and the digest server. data_dir must exist. Logs
 * what fails. cfg must outlive the service. Returns 0 or -errno. */
int sd_regsvc_create(struct sd_regsvc **out, const struct sd_config *cfg, const char *data_dir);
/* After every worker is gone (their completion queues drained). */
void sd_regsvc_destroy(struct sd_regsvc *s);

#define SD_SECRET_MIN 16
#define SD_SECRET_MAX 64 /* auth_server_cfg.secret_len limit */

/* Read [auth] secret_file: at least SD_SECRET_MIN bytes, the first
 * SD_SECRET_MAX used. Logs what fails. Returns 0 or -errno / -EINVAL. */
int sd_read_secret(const char *path, uint8_t buf[SD_SECRET_MAX], size_t *len);

/* Is host (as written, lower or upper case) one of the served domains? */
bool sd_regsvc_serves(const struct sd_regsvc *s, struct str host);

#endif
