/* siphond's settings and its wiring: listeners -> message core -> replies. */
#ifndef SIPHON_SIPHOND_SERVER_H
#define SIPHON_SIPHOND_SERVER_H

#include "base/config.h"
#include "base/log.h"
#include "base/loop.h"
#include "transport/addr.h"

#include <stdbool.h>

#define SD_LISTEN_MAX 32
#define SD_DATA_DIR_DEFAULT "var"
#define SD_LISTEN_DEFAULT "udp:127.0.0.1:5060,tcp:127.0.0.1:5060"
#define SD_TLS_HANDSHAKE_TIMEOUT_DEFAULT 10 /* seconds */

struct sd_listen {
	enum tp_proto proto;
	struct tp_addr addr;
};

/* Everything siphond can be told, from the config file and the command line
 * (docs/configuration.md). Strings are owned (mem_*), freed by sd_config_clear. */
struct sd_config {
	struct sd_listen listen[SD_LISTEN_MAX];
	unsigned nlisten;
	char *data_dir;          /* NULL: SD_DATA_DIR_DEFAULT */
	char *server_name;       /* NULL: "Siphon/<version>" */
	unsigned workers;        /* accepted; 1 for now */
	enum log_level log_level;
	unsigned tcp_max_conns;
	unsigned tcp_idle_timeout;    /* seconds */
	unsigned tcp_partial_timeout; /* seconds */
	/* [tls]: server certificate chain and key (PEM), CA file for verifying
	 * TLS peers we connect to (NULL: system store) */
	char *tls_certificate;
	char *tls_private_key;
	char *tls_ca_file;
	bool tls_verify_peer;
	unsigned tls_handshake_timeout; /* seconds */
};

void sd_config_init(struct sd_config *c);
void sd_config_clear(struct sd_config *c);

/* Apply one "[section] key = value". Returns 0, -EINVAL (*why says why) or
 * -ENOMEM. "listen" adds (a comma list adds each). */
int sd_config_set(struct sd_config *c, const char *section, const char *key, const char *value,
		  const char **why);
/* Add listen addresses from "udp:127.0.0.1:5060[,tcp:...]". */
int sd_config_add_listen(struct sd_config *c, const char *list, const char **why);
/* Read a config file into c. Returns 0 or negative with err->msg filled. */
int sd_config_load(struct sd_config *c, const char *path, struct config_err *err);
/* Rules across keys (a tls listener needs a certificate and a key). Returns
 * 0 or -EINVAL with msg filled. */
int sd_config_validate(const struct sd_config *c, char *msg, size_t cap);

struct tp_tls_ctx;
/* The TLS contexts c asks for: *srv when it has a certificate, *cli when any
 * TLS is configured; NULL otherwise. Reads the certificate, key and CA
 * files: on failure msg names the file and the reason, and the return is
 * negative (tp_tls_*_ctx_create codes). */
int sd_tls_create(const struct sd_config *c, struct tp_tls_ctx **srv, struct tp_tls_ctx **cli,
		  char *msg, size_t cap);

struct sd_server;

/* Create the core and the TLS contexts, bind every listen address of cfg on
 * l. On a bind or TLS error the logged message names the address or file.
 * Returns 0, -ENOMEM or a negated errno. */
int sd_server_create(struct sd_server **out, struct loop *l, const struct sd_config *cfg);
void sd_server_destroy(struct sd_server *s);

/* "udp:127.0.0.1:5060 tcp:[::1]:5060 tls:..." (real ports) into buf. */
const char *sd_server_addrs(const struct sd_server *s, char *buf, size_t cap);

#endif
