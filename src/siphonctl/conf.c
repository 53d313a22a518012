/* The settings siphonctl takes from siphond's config file: where the data
 * lives, where the HTTP interface listens and the file of its token. */
#include "siphonctl/ctl.h"

#include "base/config.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int on_kv(const char *section, const char *key, const char *value, const char **why,
		 void *arg)
{
	struct ctl_opts *o = arg;
	char **dst = NULL;

	(void)why;
	if (!strcmp(section, "server") && !strcmp(key, "data_dir"))
		dst = &o->cfg_data_dir;
	else if (!strcmp(section, "http") && !strcmp(key, "listen"))
		dst = &o->cfg_http;
	else if (!strcmp(section, "http") && !strcmp(key, "token_file"))
		dst = &o->cfg_token_file;
	if (!dst || !*value)
		return 0; /* siphond checks the rest */
	mem_free(*dst);
	*dst = mem_strndup(value, strlen(value));
	return *dst ? 0 : -ENOMEM;
}

int ctl_conf_load(struct ctl_opts *o)
{
	const char *path = o->config;
	struct config_err err = { 0 };

	if (!path) {
		if (access(CTL_CONFIG_DEFAULT, R_OK) != 0)
			goto defaults;
		path = CTL_CONFIG_DEFAULT;
	}
	if (config_parse_file(path, on_kv, o, &err) < 0) {
		fprintf(stderr, "siphonctl: %s\n", err.msg[0] ? err.msg : path);
		return CTL_EXIT_FAIL;
	}
defaults:
	if (!o->data_dir)
		o->data_dir = o->cfg_data_dir ? o->cfg_data_dir : CTL_DATA_DIR_DEFAULT;
	if (!o->http)
		o->http = o->cfg_http ? o->cfg_http : CTL_HTTP_DEFAULT;
	if (!o->token_file)
		o->token_file = o->cfg_token_file;
	return 0;
}

void ctl_conf_free(struct ctl_opts *o)
{
	mem_free(o->cfg_data_dir);
	mem_free(o->cfg_http);
	mem_free(o->cfg_token_file);
	o->cfg_data_dir = o->cfg_http = o->cfg_token_file = NULL;
}
