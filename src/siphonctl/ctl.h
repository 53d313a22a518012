/* siphonctl's parts: the subscriber commands work on the database directly
 * (user.c); the others talk to a running siphond's HTTP interface
 * (http_client.c, location.c, server.c). */
#ifndef SIPHON_SIPHONCTL_CTL_H
#define SIPHON_SIPHONCTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sysexits.h>

/* Exit codes: 0 ok, 1 failure (exists, not found, database, server
 * unreachable or refusing), 64 usage. */
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE EX_USAGE
/* Returned by the command functions for a malformed command line: the
 * caller prints the usage and exits with CTL_EXIT_USAGE. */
#define CTL_BAD_ARGS (-1)

/* the build's (CMakeLists.txt: SIPHON_DATA_DIR, SIPHON_CONF_DIR), as for siphond */
#ifdef SIPHON_DATA_DIR_DEFAULT
#define CTL_DATA_DIR_DEFAULT SIPHON_DATA_DIR_DEFAULT
#else
#define CTL_DATA_DIR_DEFAULT "var"
#endif
#ifdef SIPHON_CONFIG_DEFAULT
#define CTL_CONFIG_DEFAULT SIPHON_CONFIG_DEFAULT
#else
#define CTL_CONFIG_DEFAULT "/etc/siphon/siphon.conf"
#endif
#define CTL_HTTP_DEFAULT "127.0.0.1:8080"

struct ctl_opts {
	const char *config;   /* -f; NULL: CTL_CONFIG_DEFAULT if it exists */
	const char *data_dir; /* --data-dir, else [server] data_dir, else var */
	const char *http;     /* --http, else [http] listen, else CTL_HTTP_DEFAULT */
	const char *token_file; /* --token-file, else [http] token_file, else none */
	bool replace;         /* user add --replace */
	bool json;            /* --json: the server's JSON as is */
	/* owned copies of what the config file said */
	char *cfg_data_dir, *cfg_http, *cfg_token_file;
};

/* conf.c: read data_dir, [http] listen and token_file from the config file (the
 * default one only if it exists). Returns 0, or CTL_EXIT_FAIL with the
 * reason printed. */
int ctl_conf_load(struct ctl_opts *o);
void ctl_conf_free(struct ctl_opts *o);

/* user.c: user add|del|list; args after "user". Returns an exit code. */
int ctl_user(const struct ctl_opts *o, int argc, char **argv);

/* http_client.c: one request to the server ("GET", "/api/health"), with
 * token (NULL: none) as its bearer token; the
 * status into *status and the body (NUL-terminated, malloc'd) into *body.
 * Returns 0 or CTL_EXIT_FAIL with the reason printed. */
int ctl_http(const char *addr, const char *token, const char *method, const char *path,
	     int *status, char **body);
/* GET/DELETE path and parse the JSON answer; a non-2xx status is printed
 * with the server's "error" and fails. *out is a new reference. */
int ctl_api(const struct ctl_opts *o, const char *method, const char *path, json_t **out);
/* The same, also taking status `also` (with its JSON body) as an answer;
 * *status_out (may be NULL) gets the HTTP status. */
int ctl_api_status(const struct ctl_opts *o, const char *method, const char *path, int also,
		   json_t **out, int *status_out);
/* Percent-encode s for a query value into out. Returns 0 or -ENOSPC. */
int ctl_urlencode(const char *s, char *out, size_t cap);
/* Print j (compact JSON, one line). */
void ctl_print_json(const json_t *j);

/* location.c: location show AOR | dump | flush [AOR]; args after "location". */
int ctl_location(const struct ctl_opts *o, int argc, char **argv);

/* server.c: stats, health, reload. */
int ctl_stats(const struct ctl_opts *o);
int ctl_health(const struct ctl_opts *o);
int ctl_reload(const struct ctl_opts *o);

#endif
