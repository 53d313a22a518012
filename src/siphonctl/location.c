/* siphonctl location show AOR | dump | flush [AOR], through /api/location. */
#include "siphonctl/ctl.h"

#include <stdio.h>
#include <string.h>

#define DUMP_PAGE 1000

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void print_aor(const json_t *a)
{
	const json_t *cs = json_object_get(a, "contacts");
	size_t i;
	json_t *c;

	printf("%s\n", jstr(a, "aor"));
	if (!json_array_size(cs))
		printf("  (no bindings)\n");
	json_array_foreach(cs, i, c) {
		printf("  %s\n    expires in %llds, q=%.3g, received %s\n", jstr(c, "contact"),
		       (long long)json_integer_value(json_object_get(c, "expires_in")),
		       json_number_value(json_object_get(c, "q")), jstr(c, "received"));
		if (*jstr(c, "path"))
			printf("    path %s\n", jstr(c, "path"));
		if (*jstr(c, "user_agent"))
			printf("    user agent %s\n", jstr(c, "user_agent"));
	}
}

static int show(const struct ctl_opts *o, const char *aor)
{
	char q[3200], path[3300];
	json_t *j;

	if (ctl_urlencode(aor, q, sizeof(q)) < 0) {
		fprintf(stderr, "siphonctl: AoR too long\n");
		return CTL_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/api/location?aor=%s", q);
	if (ctl_api(o, "GET", path, &j))
		return CTL_EXIT_FAIL;
	if (o->json)
		ctl_print_json(j);
	else
		print_aor(j);
	json_decref(j);
	return 0;
}

/* Every AoR, a page at a time; with --json one object {"aors": [...]}. */
static int dump(const struct ctl_opts *o)
{
	json_t *all = json_array();
	unsigned offset = 0;
	int rc = 0;

	for (;;) {
		char path[128];
		json_t *j, *list;

		snprintf(path, sizeof(path), "/api/location?offset=%u&limit=%u", offset, DUMP_PAGE);
		if (ctl_api(o, "GET", path, &j)) {
			rc = CTL_EXIT_FAIL;
			break;
		}
		list = json_object_get(j, "list");
		if (o->json) {
			json_array_extend(all, list);
		} else {
			size_t i;
			json_t *a;

			json_array_foreach(list, i, a)
				print_aor(a);
		}
		offset += DUMP_PAGE;
		if (json_array_size(list) < DUMP_PAGE) {
			json_decref(j);
			break;
		}
		json_decref(j);
	}
	if (!rc && o->json) {
		json_t *out = json_pack("{s:O}", "aors", all);

		ctl_print_json(out);
		json_decref(out);
	}
	json_decref(all);
	return rc;
}

static int flush(const struct ctl_opts *o, const char *aor)
{
	char q[3200], path[3300];
	json_t *j;

	if (aor) {
		if (ctl_urlencode(aor, q, sizeof(q)) < 0) {
			fprintf(stderr, "siphonctl: AoR too long\n");
			return CTL_EXIT_USAGE;
		}
		snprintf(path, sizeof(path), "/api/location?aor=%s", q);
	} else {
		snprintf(path, sizeof(path), "/api/location?all=1");
	}
	if (ctl_api(o, "DELETE", path, &j))
		return CTL_EXIT_FAIL;
	if (o->json)
		ctl_print_json(j);
	else
		printf("removed %lld bindings of %lld AoRs\n",
		       (long long)json_integer_value(json_object_get(j, "bindings")),
		       (long long)json_integer_value(json_object_get(j, "aors")));
	json_decref(j);
	return 0;
}

int ctl_location(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[0], "show"))
		return show(o, argv[1]);
	if (argc == 1 && !strcmp(argv[0], "dump"))
		return dump(o);
	if ((argc == 1 || argc == 2) && !strcmp(argv[0], "flush"))
		return flush(o, argc == 2 ? argv[1] : NULL);
	return CTL_BAD_ARGS;
}
