/* The siphon command line: options shared by every command, the exit
 * statuses, and the output (progress on stderr, --json events on stdout). */
#ifndef SIPHON_SIPHON_CLI_H
#define SIPHON_SIPHON_CLI_H

#include "ua/ua.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses (documented in --help and siphon(1)). */
#define EXIT_OK 0          /* 2xx / the call was answered */
#define EXIT_REJECTED 1    /* another final response */
#define EXIT_TIMEOUT 2     /* no response at all */
#define EXIT_TRANSPORT 3   /* transport or DNS error */
#define EXIT_BUSY 4        /* 486 Busy Here, 600 Busy Everywhere */
#define EXIT_NOANSWER 5    /* 480, 408 from the far end, 487 not asked by us */
#define EXIT_AUTH 6        /* credentials refused or missing (401/407, 403) */
#define EXIT_CANCELLED 7   /* we cancelled before the answer (Ctrl-C) */
#define EXIT_MEDIA 8       /* no codec in common (488, 606) or no RTP ports */
#define EXIT_USAGE 64

#define CLI_EXTRA_MAX 3072

struct cli_opts {
	const char *cmd;
	const char *uri;      /* call, message, options */
	const char *text;     /* message */
	/* global */
	const char *user;
	const char *password_file;
	const char *proxy;
	const char *listen;
	const char *dns_server;
	const char *ca_file;
	unsigned protos;
	uint32_t t1_ms;
	bool json, verbose;
	/* commands */
	uint32_t expires;     /* register: 0 = 3600 */
	double duration;      /* seconds; < 0: unlimited */
	const char *play, *record;
	const char *dtmf;
	bool auto_answer;
	uint32_t reject;
	uint32_t count;       /* call: sequential calls */
	double hold_at, hold_len; /* call: hold after hold_at s for hold_len s; < 0 none */
	double answer_after;  /* listen: seconds of ringing before the answer */
	bool no_register;
	bool interactive;     /* call, listen: commands from stdin */
	char extra[CLI_EXTRA_MAX];
	size_t extra_len;
};

/* One JSON object per line on stdout (--json). */
struct cli_json {
	char b[2048];
	size_t n;
};
void cli_json_start(struct cli_json *j, const char *event);
void cli_json_str(struct cli_json *j, const char *key, const char *val);
void cli_json_num(struct cli_json *j, const char *key, double val);
void cli_json_end(struct cli_json *j);

/* The password from --password-file (first line) into buf. 0 or -errno. */
int cli_read_password(const char *path, char *buf, size_t cap);
/* A UA for o (identity, proxy, listen, password). Returns an exit status
 * (0 on success). */
int cli_ua_create(const struct cli_opts *o, struct ua **out);
/* Exit status for a final status of a request (not INVITE). */
int cli_status_exit(int status, bool local, bool auth_failed);
void cli_trace(bool out, enum tp_proto proto, const struct tp_addr *peer, const char *buf,
	       size_t len, void *arg);

int cmd_options(struct cli_opts *o);
int cmd_register(struct cli_opts *o);
int cmd_message(struct cli_opts *o);
int cmd_call(struct cli_opts *o);
int cmd_listen(struct cli_opts *o);

#endif
