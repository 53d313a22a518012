/* The registrar's settings: [domains], [registrar], [location], [auth]
 * (docs/configuration.md). */
#include "siphond/server.h"
#include "siphond/http.h"

#include "auth/auth.h"
#include "base/mem.h"
#include "location/loc.h"
#include "msg/method.h"
#include "msg/uri.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

void sd_config_init_reg(struct sd_config *c)
{
	c->reg_enabled = true;
	c->reg = (struct reg_cfg){
		.min_expires = 60,
		.max_expires = 3600,
		.default_expires = 3600,
		.max_contacts = 10,
		.on_too_many = REG_REJECT,
	};
	c->reg_foreign_code = 403;
	c->loc_backend = LOC_SQLITE;
	c->loc_purge_interval = 10;
	c->auth_methods = 1ull << SIP_METHOD_REGISTER; /* RFC 3261 §10.3 step 3 */
	c->nonce_ttl = 300;
	c->auth_algs[0] = AUTH_ALG_SHA256; /* RFC 8760 §2.4: the stronger first */
	c->auth_algs[1] = AUTH_ALG_MD5;
	c->auth_nalgs = 2;
	c->user_match = SD_MATCH_BOTH;
	c->pxy_enabled = true;
	c->pxy_record_route = true;
	c->pxy_timer_c = 180; /* RFC 3261 §16.6 step 11 asks for more than 3 minutes */
}

void sd_config_clear_reg(struct sd_config *c)
{
	for (unsigned i = 0; i < c->ndomains; i++)
		mem_free(c->domains[i]);
	c->ndomains = 0;
	mem_free(c->loc_database);
	mem_free(c->redis_addr);
	mem_free(c->redis_prefix);
	mem_free(c->redis_password);
	mem_free(c->auth_secret_file);
	mem_free(c->dns_servers);
	c->dns_servers = NULL;
	mem_free(c->http_listen);
	c->http_listen = NULL;
	mem_free(c->http_token_file);
	c->http_token_file = NULL;
	c->loc_database = c->redis_addr = c->redis_prefix = c->redis_password = NULL;
	c->auth_secret_file = NULL;
	for (unsigned i = 0; i < c->nmoved; i++) {
		mem_free(c->moved[i].aor);
		mem_free(c->moved[i].to);
	}
	c->nmoved = 0;
	for (unsigned i = 0; i < c->nroutes; i++) {
		mem_free(c->routes[i].domain);
		mem_free(c->routes[i].hop);
	}
	c->nroutes = 0;
}

/* Call fn on each trimmed, non-empty item of a comma list. */
static int each_item(const char *list, int (*fn)(void *arg, const char *item, size_t n,
						 const char **why),
		     void *arg, const char **why)
{
	const char *p = list;
	bool any = false;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int rc;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			rc = fn(arg, p, n, why);
			if (rc)
				return rc;
			any = true;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!any) {
		*why = "empty list";
		return -EINVAL;
	}
	return 0;
}

/* A domain: host name or IP literal (RFC 3261 §25.1 host), kept lower case. */
static int add_domain(void *arg, const char *item, size_t n, const char **why)
{
	struct sd_config *c = arg;
	char *d;

	if (n > 253) {
		*why = "domain longer than 253 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)item[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != ':' && ch != '[' && ch != ']') {
			*why = "expected domain names (example.com) or IP addresses";
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < c->ndomains; i++)
		if (strlen(c->domains[i]) == n && strncasecmp(c->domains[i], item, n) == 0)
			return 0;
	if (c->ndomains == SD_DOMAINS_MAX) {
		*why = "too many domains (at most 256)";
		return -EINVAL;
	}
	d = mem_strndup(item, n);
	if (!d) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	c->domains[c->ndomains++] = d;
	return 0;
}

int sd_config_add_domains(struct sd_config *c, const char *list, const char **why)
{
	return each_item(list, add_domain, c, why);
}

static int add_method(void *arg, const char *item, size_t n, const char **why)
{
	uint64_t *mask = arg;
	enum sip_method m = sip_method_lookup(str_make(item, n));

	if (n == 4 && strncasecmp(item, "none", 4) == 0)
		return 0;
	/* ACK and CANCEL cannot be challenged (RFC 3261 §22.1) */
	if (m == SIP_METHOD_OTHER || m == SIP_METHOD_ACK || m == SIP_METHOD_CANCEL) {
		*why = "expected SIP methods (REGISTER, INVITE, ...; not ACK or CANCEL) or none";
		return -EINVAL;
	}
	*mask |= 1ull << m;
	return 0;
}

static int add_alg(void *arg, const char *item, size_t n, const char **why)
{
	struct sd_config *c = arg;
	enum auth_alg a;

	if (!n || auth_alg_parse(str_make(item, n), &a) < 0) {
		*why = "expected SHA-256, MD5 or both, in the order to offer them";
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->auth_nalgs; i++)
		if (c->auth_algs[i] == (int)a) {
			*why = "an algorithm is listed twice";
			return -EINVAL;
		}
	c->auth_algs[c->auth_nalgs++] = (int)a;
	return 0;
}

static int set_registrar(struct sd_config *c, const char *key, const char *value,
			 const char **why)
{
	if (strcmp(key, "enabled") == 0)
		return sd_cfg_bool(&c->reg_enabled, value, why);
	if (strcmp(key, "min_expires") == 0)
		return sd_cfg_u32(&c->reg.min_expires, value, 1, 86400,
			       "expected seconds from 1 to 86400", why);
	if (strcmp(key, "max_expires") == 0)
		return sd_cfg_u32(&c->reg.max_expires, value, 1, 31536000,
			       "expected seconds from 1 to 31536000", why);
	if (strcmp(key, "default_expires") == 0)
		return sd_cfg_u32(&c->reg.default_expires, value, 1, 31536000,
			       "expected seconds from 1 to 31536000", why);
	if (strcmp(key, "max_contacts") == 0)
		return sd_cfg_u32(&c->reg.max_contacts, value, 1, REG_MAX_CONTACTS,
			       "expected a number from 1 to 64", why);
	if (strcmp(key, "expires_jitter") == 0)
		return sd_cfg_u32(&c->reg.jitter_percent, value, 0, 50,
			       "expected a percentage from 0 to 50", why);
	if (strcmp(key, "on_too_many") == 0) {
		if (strcmp(value, "reject") == 0)
			c->reg.on_too_many = REG_REJECT;
		else if (strcmp(value, "evict_oldest") == 0)
			c->reg.on_too_many = REG_EVICT_OLDEST;
		else {
			*why = "expected reject or evict_oldest";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "foreign_domain") == 0) {
		if (strcmp(value, "403") == 0)
			c->reg_foreign_code = 403;
		else if (strcmp(value, "404") == 0)
			c->reg_foreign_code = 404;
		else {
			*why = "expected 403 or 404";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown key";
	return -EINVAL;
}

static int set_location(struct sd_config *c, const char *key, const char *value,
			const char **why)
{
	if (strcmp(key, "backend") == 0) {
		enum loc_backend b;

		if (loc_backend_parse(value, &b) < 0) {
			*why = "expected sqlite, memory or redis";
			return -EINVAL;
		}
		c->loc_backend = (int)b;
		return 0;
	}
	if (strcmp(key, "database") == 0)
		return sd_cfg_str(&c->loc_database, value, why);
	if (strcmp(key, "redis") == 0)
		return sd_cfg_str(&c->redis_addr, value, why);
	if (strcmp(key, "redis_prefix") == 0)
		return sd_cfg_str(&c->redis_prefix, value, why);
	if (strcmp(key, "redis_password") == 0)
		return sd_cfg_str(&c->redis_password, value, why);
	if (strcmp(key, "purge_interval") == 0)
		return sd_cfg_uint(&c->loc_purge_interval, value, 1, 3600,
				   "expected seconds from 1 to 3600", why);
	*why = "unknown key";
	return -EINVAL;
}

static int set_auth(struct sd_config *c, const char *key, const char *value, const char **why)
{
	if (strcmp(key, "methods") == 0) {
		uint64_t mask = 0;
		int rc = each_item(value, add_method, &mask, why);

		if (rc == 0)
			c->auth_methods = mask;
		return rc;
	}
	if (strcmp(key, "nonce_ttl") == 0)
		return sd_cfg_uint(&c->nonce_ttl, value, 5, 86400,
				   "expected seconds from 5 to 86400", why);
	if (strcmp(key, "algorithms") == 0) {
		unsigned saved = c->auth_nalgs;
		int rc;

		c->auth_nalgs = 0;
		rc = each_item(value, add_alg, c, why);
		if (rc)
			c->auth_nalgs = saved;
		return rc;
	}
	if (strcmp(key, "secret_file") == 0)
		return sd_cfg_str(&c->auth_secret_file, value, why);
	if (strcmp(key, "register_user_match") == 0) {
		if (strcmp(value, "both") == 0)
			c->user_match = SD_MATCH_BOTH;
		else if (strcmp(value, "to") == 0)
			c->user_match = SD_MATCH_TO;
		else if (strcmp(value, "off") == 0)
			c->user_match = SD_MATCH_OFF;
		else {
			*why = "expected both, to or off";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown key";
	return -EINVAL;
}

static int set_proxy(struct sd_config *c, const char *key, const char *value, const char **why)
{
	if (strcmp(key, "enabled") == 0)
		return sd_cfg_bool(&c->pxy_enabled, value, why);
	if (strcmp(key, "record_route") == 0)
		return sd_cfg_bool(&c->pxy_record_route, value, why);
	if (strcmp(key, "rate_limit") == 0)
		return sd_cfg_uint(&c->rate_limit, value, 0, 1000000,
				   "expected requests a second from 0 (off) to 1000000", why);
	if (strcmp(key, "rate_burst") == 0)
		return sd_cfg_uint(&c->rate_burst, value, 0, 1000000,
				   "expected a number of requests from 0 to 1000000", why);
	if (strcmp(key, "mode") == 0) {
		if (strcmp(value, "stateful") && strcmp(value, "stateless")) {
			*why = "expected stateful or stateless";
			return -EINVAL;
		}
		c->pxy_stateless = strcmp(value, "stateless") == 0;
		return 0;
	}
	if (strcmp(key, "timer_c") == 0)
		return sd_cfg_uint(&c->pxy_timer_c, value, 1, 86400,
				   "expected seconds from 1 to 86400", why);
	*why = "unknown key";
	return -EINVAL;
}

/* "alice@example.com sip:alice@example.net" */
static int add_moved(struct sd_config *c, const char *value, const char **why)
{
	const char *sp = strpbrk(value, " \t"), *to;
	struct sd_moved *mv;
	size_t n;

	*why = "expected USER@DOMAIN and the SIP URI they moved to, e.g. "
	       "alice@example.com sip:alice@example.net";
	if (!sp || !strchr(value, '@') || strchr(value, '@') > sp)
		return -EINVAL;
	to = sp;
	while (*to == ' ' || *to == '\t')
		to++;
	if (strncasecmp(to, "sip:", 4) && strncasecmp(to, "sips:", 5))
		return -EINVAL;
	if (strpbrk(to, " \t"))
		return -EINVAL;
	if (c->nmoved == SD_MOVED_MAX) {
		*why = "too many moved users (at most 256)";
		return -EINVAL;
	}
	mv = &c->moved[c->nmoved];
	n = (size_t)(sp - value);
	mv->aor = mem_strndup(value, n);
	mv->to = mem_strndup(to, strlen(to));
	if (!mv->aor || !mv->to) {
		mem_free(mv->aor);
		mem_free(mv->to);
		*why = "out of memory";
		return -ENOMEM;
	}
	for (char *d = strchr(mv->aor, '@'); *d; d++)
		*d = (char)tolower((unsigned char)*d);
	c->nmoved++;
	return 0;
}

static int set_redirect(struct sd_config *c, const char *key, const char *value,
			const char **why)
{
	if (strcmp(key, "enabled") == 0)
		return sd_cfg_bool(&c->redirect, value, why);
	if (strcmp(key, "moved") == 0)
		return add_moved(c, value, why);
	*why = "unknown key";
	return -EINVAL;
}

/* [routes] DOMAIN = SIP-URI of the next hop (an IP address for now). */
static int add_route(struct sd_config *c, const char *domain, const char *value,
		     const char **why)
{
	struct sip_uri u;
	struct sd_route *r;

	if (sip_uri_parse(&u, value, strlen(value), NULL) != 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || u.user.len ||
	    (u.host_type != SIP_HOST_IPV4 && u.host_type != SIP_HOST_IPV6)) {
		*why = "expected the next hop as a SIP URI with an IP address, e.g. "
		       "sip:192.0.2.10:5060;transport=tcp";
		return -EINVAL;
	}
	if (c->nroutes == SD_ROUTES_MAX) {
		*why = "too many routes (at most 256)";
		return -EINVAL;
	}
	r = &c->routes[c->nroutes];
	r->domain = mem_strndup(domain, strlen(domain));
	r->hop = mem_strndup(value, strlen(value));
	if (!r->domain || !r->hop) {
		mem_free(r->domain);
		mem_free(r->hop);
		*why = "out of memory";
		return -ENOMEM;
	}
	for (char *d = r->domain; *d; d++)
		*d = (char)tolower((unsigned char)*d);
	c->nroutes++;
	return 0;
}

int sd_config_set_reg(struct sd_config *c, const char *section, const char *key,
		      const char *value, const char **why)
{
	if (strcmp(section, "routes") == 0)
		return add_route(c, key, value, why);
	if (strcmp(section, "dns") == 0) {
		if (strcmp(key, "servers") == 0)
			return sd_cfg_str(&c->dns_servers, value, why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "redirect") == 0)
		return set_redirect(c, key, value, why);
	if (strcmp(section, "proxy") == 0)
		return set_proxy(c, key, value, why);
	if (strcmp(section, "domains") == 0) {
		if (strcmp(key, "serve") == 0)
			return sd_config_add_domains(c, value, why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "registrar") == 0)
		return set_registrar(c, key, value, why);
	if (strcmp(section, "location") == 0)
		return set_location(c, key, value, why);
	if (strcmp(section, "auth") == 0)
		return set_auth(c, key, value, why);
	if (strcmp(section, "http") == 0) {
		struct tp_addr a;

		if (strcmp(key, "token_file") == 0)
			return sd_cfg_str(&c->http_token_file, value, why);
		if (strcmp(key, "listen") != 0) {
			*why = "unknown key";
			return -EINVAL;
		}
		if (sd_http_addr_parse(value, &a) < 0) {
			*why = "expected ADDR:PORT, e.g. 127.0.0.1:8080";
			return -EINVAL;
		}
		return sd_cfg_str(&c->http_listen, value, why);
	}
	return -ENOENT;
}
