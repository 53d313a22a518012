#include "siphond/regsvc.h"

#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"
#include "location/loc.h"
#include "subscriber/sub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MOD "registrar"

/* A secret shared by every server of a realm, so that a nonce from one is
 * accepted by the others (and survives restarts). */
int sd_read_secret(const char *path, uint8_t buf[SD_SECRET_MAX], size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0) {
		err = -errno; /* before log_err, which may change errno */
		log_err(MOD, "[auth] secret_file %s: %s", path, strerror(-err));
		return err;
	}
	n = read(fd, buf, SD_SECRET_MAX);
	close(fd);
	if (n < SD_SECRET_MIN) {
		log_err(MOD, "[auth] secret_file %s: needs at least %d bytes", path, SD_SECRET_MIN);
		return -EINVAL;
	}
	*len = (size_t)n;
	return 0;
}

static int open_auth(struct sd_regsvc *s, const struct sd_config *cfg, const char *data_dir)
{
	struct auth_server_cfg acfg = { .nonce_ttl = cfg->nonce_ttl, .nalgs = cfg->auth_nalgs };
	enum auth_alg algs[2];
	uint8_t secret[SD_SECRET_MAX];
	size_t slen = 0;
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s/%s", data_dir, SUB_DB_FILE);
	err = sub_open(&s->sub, path);
	if (err < 0) {
		log_err(MOD, "subscribers %s: %s", path, strerror(-err));
		return err;
	}
	for (unsigned i = 0; i < cfg->auth_nalgs; i++)
		algs[i] = (enum auth_alg)cfg->auth_algs[i];
	acfg.algs = algs;
	if (cfg->auth_secret_file) {
		err = sd_read_secret(cfg->auth_secret_file, secret, &slen);
		if (err < 0)
			return err;
		acfg.secret = secret;
		acfg.secret_len = slen;
	}
	err = auth_server_create(&s->auth, &acfg);
	memset(secret, 0, sizeof(secret));
	if (err < 0)
		log_err(MOD, "digest server: %s", strerror(-err));
	return err;
}

int sd_regsvc_create(struct sd_regsvc **out, const struct sd_config *cfg, const char *data_dir)
{
	struct loc_cfg lcfg = { .backend = (enum loc_backend)cfg->loc_backend };
	struct sd_regsvc *s = mem_zalloc(sizeof(*s));
	char path[4096];
	int err;

	if (!s)
		return -ENOMEM;
	s->domains = (char **)cfg->domains;
	s->ndomains = cfg->ndomains;
	s->reg = cfg->reg;
	s->foreign_code = cfg->reg_foreign_code;
	s->auth_methods = cfg->auth_methods;
	s->user_match = cfg->user_match;
	s->purge_ms = cfg->loc_purge_interval * 1000u;
	snprintf(path, sizeof(path), "%s/%s", data_dir, SD_LOC_DB_FILE);
	lcfg.db_path = cfg->loc_database ? cfg->loc_database : path;
	lcfg.redis_addr = cfg->redis_addr;
	lcfg.redis_prefix = cfg->redis_prefix;
	lcfg.redis_password = cfg->redis_password;
	err = loc_create(&s->loc, &lcfg);
	if (err < 0) {
		log_err(MOD, "location service (%s %s): %s", loc_backend_name(lcfg.backend),
			lcfg.backend == LOC_SQLITE ? lcfg.db_path
			: lcfg.backend == LOC_REDIS ? (lcfg.redis_addr ? lcfg.redis_addr : "127.0.0.1:6379")
			: "", strerror(-err));
		goto fail;
	}
	if (s->auth_methods) {
		err = open_auth(s, cfg, data_dir);
		if (err < 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	sd_regsvc_destroy(s);
	return err;
}

void sd_regsvc_destroy(struct sd_regsvc *s)
{
	if (!s)
		return;
	loc_destroy(s->loc);
	sub_close(s->sub);
	auth_server_destroy(s->auth);
	mem_free(s);
}

bool sd_regsvc_serves(const struct sd_regsvc *s, struct str host)
{
	for (unsigned i = 0; i < s->ndomains; i++)
		if (str_caseeq(host, str_cstr(s->domains[i])))
			return true;
	return false;
}
