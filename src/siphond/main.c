/* siphond: command line, configuration, data directory, and the main
 * thread's event loop, which takes the signals (SIGTERM/SIGINT stop, SIGHUP)
 * while the workers (server.h) serve. */
#include "base/config.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
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
		"               [--workers N] [-h] [-V]\n"
		"  -f, --config FILE   read settings from an INI file (docs/configuration.md)\n"
		"  -c, --check         check the configuration and exit (0 valid, 2 invalid)\n"
		"  -l, --listen SPEC   udp:127.0.0.1:5060, tcp:[::1]:5060, tls:127.0.0.1:5061\n"
		"                      (repeatable; replaces the file's listen list;\n"
		"                      default %s)\n"
		"  -d, --data-dir DIR  where siphond stores its data (default ./%s)\n"
		"  -D, --domain D      a domain whose users register here (repeatable; adds\n"
		"                      to [domains] serve; none: the server's own addresses)\n"
		"      --location B    location backend: sqlite (default), memory or redis\n"
		"      --redirect      answer calls to our users with 3xx and their contacts\n"
		"  -L, --log-level L   error, warn, info (default) or debug\n"
		"  -w, --workers N     worker threads, 1-%u (default: one per CPU)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n",
		SD_LISTEN_DEFAULT, SD_DATA_DIR_DEFAULT, SD_WORKERS_MAX);
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

static void on_stop_signal(int signo, void *arg)
{
	log_info("siphond", "%s received: stopping", strsignal(signo));
	loop_stop(arg);
}

static void on_hup(int signo, void *arg)
{
	(void)signo;
	(void)arg;
	log_warn("siphond", "SIGHUP: configuration reload is not implemented yet; ignored");
}

static int run(const struct sd_config *cfg)
{
	struct loop *l = NULL;
	struct sd_server *s = NULL;
	char addrs[SD_LISTEN_MAX * 56];
	int err;

	err = loop_create(&l);
	if (err < 0) {
		log_err("siphond", "event loop: %s", strerror(-err));
		return 1;
	}
	if ((err = loop_signal_add(l, SIGTERM, on_stop_signal, l)) < 0 ||
	    (err = loop_signal_add(l, SIGINT, on_stop_signal, l)) < 0 ||
	    (err = loop_signal_add(l, SIGHUP, on_hup, l)) < 0) {
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
       OPT_DOMAIN = 'D', OPT_LOCATION = 256, OPT_REDIRECT };

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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *data_dir = NULL, *level = NULL, *workers = NULL;
	const char *listens[SD_LISTEN_MAX], *domains[SD_DOMAINS_MAX], *location = NULL;
	unsigned nlistens = 0, ndomains = 0;
	bool check = false, redirect = false;
	struct sd_config cfg;
	struct config_err cerr = { 0 };
	const char *why = NULL;
	char msg[512];
	int opt, rc = EXIT_CONFIG;

	while ((opt = getopt_long(argc, argv, "f:cl:d:L:w:D:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			file = optarg;
			break;
		case 'c':
			check = true;
			break;
		case OPT_LISTEN:
			if (nlistens == SD_LISTEN_MAX) {
				fprintf(stderr, "siphond: too many --listen options\n");
				return EXIT_CONFIG;
			}
			listens[nlistens++] = optarg;
			break;
		case OPT_DATA_DIR:
			data_dir = optarg;
			break;
		case OPT_DOMAIN:
			if (ndomains == SD_DOMAINS_MAX) {
				fprintf(stderr, "siphond: too many --domain options\n");
				return EXIT_CONFIG;
			}
			domains[ndomains++] = optarg;
			break;
		case OPT_LOCATION:
			location = optarg;
			break;
		case OPT_REDIRECT:
			redirect = true;
			break;
		case OPT_LOG_LEVEL:
			level = optarg;
			break;
		case OPT_WORKERS:
			workers = optarg;
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
	if (file && sd_config_load(&cfg, file, &cerr) < 0) {
		fprintf(stderr, "siphond: %s\n", cerr.msg);
		goto out;
	}
	/* the command line overrides the file; its --listen list replaces the file's */
	if (nlistens) {
		cfg.nlisten = 0;
		for (unsigned i = 0; i < nlistens; i++) {
			if (sd_config_add_listen(&cfg, listens[i], &why) < 0) {
				fprintf(stderr, "siphond: --listen %s: %s\n", listens[i], why);
				goto out;
			}
		}
	}
	if (data_dir && sd_config_set(&cfg, "server", "data_dir", data_dir, &why) < 0) {
		fprintf(stderr, "siphond: --data-dir: %s\n", why);
		goto out;
	}
	/* --domain adds to the file's domains */
	for (unsigned i = 0; i < ndomains; i++) {
		if (sd_config_add_domains(&cfg, domains[i], &why) < 0) {
			fprintf(stderr, "siphond: --domain %s: %s\n", domains[i], why);
			goto out;
		}
	}
	if (location && sd_config_set(&cfg, "location", "backend", location, &why) < 0) {
		fprintf(stderr, "siphond: --location %s: %s\n", location, why);
		goto out;
	}
	if (redirect)
		cfg.redirect = true;
	if (level && sd_config_set(&cfg, "log", "level", level, &why) < 0) {
		fprintf(stderr, "siphond: --log-level %s: %s\n", level, why);
		goto out;
	}
	if (workers && sd_config_set(&cfg, "server", "workers", workers, &why) < 0) {
		fprintf(stderr, "siphond: --workers %s: %s\n", workers, why);
		goto out;
	}
	if (!cfg.nlisten && sd_config_add_listen(&cfg, SD_LISTEN_DEFAULT, &why) < 0)
		goto out; /* cannot happen: the default is valid */
	if (sd_config_validate(&cfg, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "siphond: %s%s%s\n", file ? file : "", file ? ": " : "", msg);
		goto out;
	}
	if (check) {
		struct tp_tls_ctx *srv, *cli;

		/* the files the running server would read must be usable too */
		if (sd_tls_create(&cfg, &srv, &cli, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "siphond: TLS: %s\n", msg);
			goto out;
		}
		tp_tls_ctx_free(srv);
		tp_tls_ctx_free(cli);
		printf("siphond: configuration %s is valid\n", file ? file : "(defaults)");
		rc = 0;
		goto out;
	}

	log_set_level(cfg.log_level);
	rc = 1;
	if (data_dir_prepare(cfg.data_dir ? cfg.data_dir : SD_DATA_DIR_DEFAULT) < 0)
		goto out;
	rc = run(&cfg);
out:
	sd_config_clear(&cfg);
	return rc;
}
