/* siphond: command line, configuration, data directory, and the main
 * thread's event loop, which takes the signals (SIGTERM/SIGINT stop, SIGHUP)
 * while the workers (server.h) serve. */
#include "base/config.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/token.h"
#include "siphond/server.h"
#include "transport/tls.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit codes: 0 ok, 1 runtime failure (bind, data dir, TLS certificate or key
 * files), 2 usage/config error (with -c, unusable TLS files too). */
#define EXIT_CONFIG 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siphond [-f FILE] [-c] [--listen PROTO:ADDR:PORT]... [--data-dir DIR]\n"
		"               [--domain D]... [--location BACKEND] [--redirect] [--log-level LEVEL]\n"
		"               [--workers N] [--syslog] [--trace] [-h] [-V]\n"
		"  -f, --config FILE   read settings from an INI file (docs/configuration.md)\n"
		"  -c, --check         check the configuration and exit (0 valid, 2 invalid)\n"
		"  -l, --listen SPEC   udp:127.0.0.1:5060, tcp:[::1]:5060, tls:127.0.0.1:5061\n"
		"                      (repeatable; replaces the file's listen list;\n"
		"                      default %s)\n"
		"  -d, --data-dir DIR  where siphond stores its data (default %s%s)\n"
		"  -D, --domain D      a domain whose users register here (repeatable; adds\n"
		"                      to [domains] serve; none: the server's own addresses)\n"
		"      --location B    location backend: sqlite (default), memory or redis\n"
		"      --redirect      answer calls to our users with 3xx and their contacts\n"
		"  -L, --log-level L   error, warn, info (default) or debug\n"
		"  -w, --workers N     worker threads, 1-%u (default: one per CPU)\n"
		"      --syslog        log to syslog (journald) instead of stderr\n"
		"      --trace         log every SIP message received and sent (debug level)\n"
		"      --http ADDR     serve metrics, the JSON API and the status page on\n"
		"                      ADDR:PORT, e.g. 127.0.0.1:8080 ([http] listen)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n",
		SD_LISTEN_DEFAULT, SD_DATA_DIR_DEFAULT[0] == '/' ? "" : "./", SD_DATA_DIR_DEFAULT,
		SD_WORKERS_MAX);
}

/* mkdir -p, then prove we can write there. */
static int data_dir_prepare(const char *dir)
{
	char failed[PATH_MAX];
	struct stat st;
	int err = fs_mkdir_p(dir, 0750, failed, sizeof(failed));

	if (err == -EINVAL) {
		log_err("siphond", "data_dir: bad path '%s'", dir);
		return err;
	}
	if (err < 0) {
		log_err("siphond", "data_dir: cannot create %s: %s", failed, strerror(-err));
		return err;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("siphond", "data_dir: %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		log_err("siphond", "data_dir: %s is not writable: %s", dir, strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* What the command line says: applied over the file at start and again on
 * every reload (SIGHUP), so a reload keeps the command line's overrides. */
struct sd_cli {
	const char *file, *data_dir, *level, *workers, *location;
	const char *listens[SD_LISTEN_MAX], *domains[SD_DOMAINS_MAX];
	unsigned nlistens, ndomains;
	bool redirect, trace, syslog;
	const char *http; /* --http ADDR:PORT */
};

/* cfg (initialised) from the file and the command line, validated. Returns
 * 0, or -EINVAL with msg naming the file, line and key (or the option). */
static int sd_cli_config(struct sd_config *cfg, const struct sd_cli *o, char *msg, size_t cap)
{
	struct config_err cerr = { 0 };
	const char *why = NULL;
	char vmsg[256];

	if (o->file && sd_config_load(cfg, o->file, &cerr) < 0) {
		snprintf(msg, cap, "%s", cerr.msg);
		return -EINVAL;
	}
	/* the command line overrides the file; its --listen list replaces the file's */
	if (o->nlistens) {
		cfg->nlisten = 0;
		for (unsigned i = 0; i < o->nlistens; i++) {
			if (sd_config_add_listen(cfg, o->listens[i], &why) < 0) {
				snprintf(msg, cap, "--listen %s: %s", o->listens[i], why);
				return -EINVAL;
			}
		}
	}
	if (o->data_dir && sd_config_set(cfg, "server", "data_dir", o->data_dir, &why) < 0) {
		snprintf(msg, cap, "--data-dir: %s", why);
		return -EINVAL;
	}
	/* --domain adds to the file's domains */
	for (unsigned i = 0; i < o->ndomains; i++) {
		if (sd_config_add_domains(cfg, o->domains[i], &why) < 0) {
			snprintf(msg, cap, "--domain %s: %s", o->domains[i], why);
			return -EINVAL;
		}
	}
	if (o->location && sd_config_set(cfg, "location", "backend", o->location, &why) < 0) {
		snprintf(msg, cap, "--location %s: %s", o->location, why);
		return -EINVAL;
	}
	if (o->redirect)
		cfg->redirect = true;
	if (o->level && sd_config_set(cfg, "log", "level", o->level, &why) < 0) {
		snprintf(msg, cap, "--log-level %s: %s", o->level, why);
		return -EINVAL;
	}
	if (o->trace) {
		cfg->log_sip_trace = true;
		cfg->log_level = LOG_DEBUG;
	}
	if (o->syslog)
		cfg->log_target = LOG_TARGET_SYSLOG;
	if (o->http && sd_config_set(cfg, "http", "listen", o->http, &why) < 0) {
		snprintf(msg, cap, "--http %s: %s", o->http, why);
		return -EINVAL;
	}
	if (o->workers && sd_config_set(cfg, "server", "workers", o->workers, &why) < 0) {
		snprintf(msg, cap, "--workers %s: %s", o->workers, why);
		return -EINVAL;
	}
	if (!cfg->nlisten && sd_config_add_listen(cfg, SD_LISTEN_DEFAULT, &why) < 0) {
		snprintf(msg, cap, "default listen: %s", why); /* cannot happen */
		return -EINVAL;
	}
	if (sd_config_validate(cfg, vmsg, sizeof(vmsg)) < 0) {
		snprintf(msg, cap, "%s%s%s", o->file ? o->file : "", o->file ? ": " : "", vmsg);
		return -EINVAL;
	}
	return 0;
}

static void on_stop_signal(int signo, void *arg)
{
	log_info("siphond", "%s received: stopping", strsignal(signo));
	loop_stop(arg);
}

/* What SIGHUP needs: the file and options to read again, the server. */
struct sd_hup {
	struct loop *l;
	struct sd_server *s;
	const struct sd_cli *cli;
};

/* SIGHUP: read the file again (with the command line's overrides) and hand
 * it to the server; a configuration that does not validate is refused
 * whole and the running one stays. */
static void on_hup(int signo, void *arg)
{
	struct sd_hup *h = arg;
	struct sd_config *ncfg;
	char msg[512];

	(void)signo;
	if (!h->s)
		return;
	log_info("siphond", "SIGHUP: reloading %s", h->cli->file ? h->cli->file : "(no file)");
	ncfg = mem_alloc(sizeof(*ncfg));
	if (!ncfg) {
		log_err("siphond", "reload: out of memory; the running configuration stays");
		return;
	}
	sd_config_init(ncfg);
	if (sd_cli_config(ncfg, h->cli, msg, sizeof(msg)) < 0) {
		log_err("siphond", "reload refused, the running configuration stays: %s", msg);
		sd_config_clear(ncfg);
		mem_free(ncfg);
		return;
	}
	sd_server_reload(h->s, ncfg, h->l); /* takes ncfg */
}

static int run(const struct sd_config *cfg, const struct sd_cli *cli)
{
	struct loop *l = NULL;
	struct sd_server *s = NULL;
	struct sd_hup hup = { .cli = cli };
	char addrs[SD_LISTEN_MAX * 56];
	int err;

	err = loop_create(&l);
	if (err < 0) {
		log_err("siphond", "event loop: %s", strerror(-err));
		return 1;
	}
	if ((err = loop_signal_add(l, SIGTERM, on_stop_signal, l)) < 0 ||
	    (err = loop_signal_add(l, SIGINT, on_stop_signal, l)) < 0 ||
	    (err = loop_signal_add(l, SIGHUP, on_hup, &hup)) < 0) {
		log_err("siphond", "signals: %s", strerror(-err));
		loop_destroy(l);
		return 1;
	}
	/* signals are blocked from here on, so the workers inherit the mask */
	err = sd_server_create(&s, cfg);
	if (err < 0) {
		loop_destroy(l);
		return 1;
	}
	err = sd_server_start(s);
	if (err < 0) {
		sd_server_destroy(s);
		loop_destroy(l);
		return 1;
	}
	hup.l = l;
	hup.s = s;
	log_info("siphond", "siphond %s listening on %s (%u worker%s, data_dir %s)",
		 SIPHON_VERSION, sd_server_addrs(s, addrs, sizeof(addrs)), sd_server_workers(s),
		 sd_server_workers(s) == 1 ? "" : "s",
		 cfg->data_dir ? cfg->data_dir : SD_DATA_DIR_DEFAULT);
	err = loop_run(l);
	sd_server_destroy(s); /* stops and joins the workers */
	loop_destroy(l);
	log_info("siphond", "siphond stopped%s", err < 0 ? " on an event loop error" : "");
	return err < 0 ? 1 : 0;
}

enum { OPT_LISTEN = 'l', OPT_DATA_DIR = 'd', OPT_LOG_LEVEL = 'L', OPT_WORKERS = 'w',
       OPT_DOMAIN = 'D', OPT_LOCATION = 256, OPT_REDIRECT, OPT_SYSLOG, OPT_TRACE,
       OPT_HTTP = 300 };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "location", required_argument, NULL, OPT_LOCATION },
		{ "redirect", no_argument, NULL, OPT_REDIRECT },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sd_cli cli; /* read again on SIGHUP */
	bool check = false;
	struct sd_config cfg;
	char msg[512];
	int opt, rc = EXIT_CONFIG;

	while ((opt = getopt_long(argc, argv, "f:cl:d:L:w:D:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			cli.file = optarg;
			break;
		case 'c':
			check = true;
			break;
		case OPT_LISTEN:
			if (cli.nlistens == SD_LISTEN_MAX) {
				fprintf(stderr, "siphond: too many --listen options\n");
				return EXIT_CONFIG;
			}
			cli.listens[cli.nlistens++] = optarg;
			break;
		case OPT_DATA_DIR:
			cli.data_dir = optarg;
			break;
		case OPT_DOMAIN:
			if (cli.ndomains == SD_DOMAINS_MAX) {
				fprintf(stderr, "siphond: too many --domain options\n");
				return EXIT_CONFIG;
			}
			cli.domains[cli.ndomains++] = optarg;
			break;
		case OPT_LOCATION:
			cli.location = optarg;
			break;
		case OPT_REDIRECT:
			cli.redirect = true;
			break;
		case OPT_SYSLOG:
			cli.syslog = true;
			break;
		case OPT_TRACE:
			cli.trace = true;
			break;
		case OPT_HTTP:
			cli.http = optarg;
			break;
		case OPT_LOG_LEVEL:
			cli.level = optarg;
			break;
		case OPT_WORKERS:
			cli.workers = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("siphond %s\n", SIPHON_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "siphond: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}

	sd_config_init(&cfg);
	if (sd_cli_config(&cfg, &cli, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "siphond: %s\n", msg);
		goto out;
	}
	if (check) {
		struct tp_tls_ctx *srv, *tcli;

		/* the files the running server would read must be usable too */
		if (sd_tls_create(&cfg, &srv, &tcli, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "siphond: TLS: %s\n", msg);
			goto out;
		}
		tp_tls_ctx_free(srv);
		tp_tls_ctx_free(tcli);
		{
			char tok[TOKEN_MAX + 1];

			if (sd_http_token_load(&cfg, tok, msg, sizeof(msg)) < 0) {
				fprintf(stderr, "siphond: %s\n", msg);
				goto out;
			}
			explicit_bzero(tok, sizeof(tok));
		}
		printf("siphond: configuration %s is valid\n", cli.file ? cli.file : "(defaults)");
		rc = 0;
		goto out;
	}

	log_set_level(cfg.log_level);
	log_set_sip_trace(cfg.log_sip_trace);
	log_set_target(cfg.log_target);
	rc = 1;
	if (data_dir_prepare(cfg.data_dir ? cfg.data_dir : SD_DATA_DIR_DEFAULT) < 0)
		goto out;
	rc = run(&cfg, &cli);
out:
	sd_config_clear(&cfg);
	return rc;
}
