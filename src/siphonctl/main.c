/* siphonctl: administration of siphond. Subscribers (digest users) are
 * changed in the data directory's database directly (user.c); the location
 * service, statistics, health and reload go through the running server's
 * HTTP interface (docs/siphonctl.md). */
#include "siphonctl/ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siphonctl [OPTIONS] user add [--replace] USER@DOMAIN\n"
		"       siphonctl [OPTIONS] user del USER@DOMAIN\n"
		"       siphonctl [OPTIONS] user list [DOMAIN]\n"
		"       siphonctl [OPTIONS] location show AOR\n"
		"       siphonctl [OPTIONS] location dump\n"
		"       siphonctl [OPTIONS] location flush [AOR]\n"
		"       siphonctl [OPTIONS] stats | health | reload\n"
		"  -f, --config FILE   siphond's config file, for data_dir and [http] listen\n"
		"                      and token_file\n"
		"                      (default %s, if it exists)\n"
		"  -d, --data-dir DIR  siphond's data directory (default: the config's, else %s)\n"
		"      --http ADDR     siphond's HTTP interface (default: the config's [http]\n"
		"                      listen, else %s)\n"
		"      --token-file F  the HTTP interface's token (default: the config's\n"
		"                      [http] token_file)\n"
		"      --json          print the server's JSON instead of text\n"
		"  -r, --replace       user add: replace an existing subscriber's password\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"user commands work on the database; the others need a running siphond.\n"
		"The password is prompted for twice without echo on a terminal, otherwise\n"
		"read as one line of standard input. location flush without an AoR removes\n"
		"every binding.\n",
		CTL_CONFIG_DEFAULT, CTL_DATA_DIR_DEFAULT, CTL_HTTP_DEFAULT);
}

enum { OPT_HTTP = 256, OPT_JSON, OPT_TOKEN_FILE };

static int dispatch(const struct ctl_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "user"))
		return ctl_user(o, argc - 1, argv + 1);
	if (o->replace)
		return CTL_BAD_ARGS;
	if (!strcmp(cmd, "location"))
		return ctl_location(o, argc - 1, argv + 1);
	if (argc != 1)
		return CTL_BAD_ARGS;
	if (!strcmp(cmd, "stats"))
		return ctl_stats(o);
	if (!strcmp(cmd, "health"))
		return ctl_health(o);
	if (!strcmp(cmd, "reload"))
		return ctl_reload(o);
	return CTL_BAD_ARGS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = { 0 };
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "f:d:rhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.config = optarg;
			break;
		case 'd':
			o.data_dir = optarg;
			break;
		case OPT_HTTP:
			o.http = optarg;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_TOKEN_FILE:
			o.token_file = optarg;
			break;
		case 'r':
			o.replace = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("siphonctl %s\n", SIPHON_VERSION);
			return 0;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_conf_load(&o);
	if (rc == 0)
		rc = dispatch(&o, argc - optind, argv + optind);
	ctl_conf_free(&o);
	if (rc == CTL_BAD_ARGS) {
		usage(stderr);
		rc = CTL_EXIT_USAGE;
	}
	return rc;
}
