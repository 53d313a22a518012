#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int level = LOG_INFO;
static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void log_set_level(enum log_level lvl)
{
	atomic_store(&level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	static const char *const lower[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(name, lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n;
	va_list ap;

	if ((int)lvl > atomic_load(&level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s %s: ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], module);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one write per line so that lines from threads do not interleave */
	fprintf(stderr, "%s\n", line);
}
