#include "base/log.h"
#include "base/log_sys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* relaxed: each is one independent flag, read on every log call */
static atomic_int level = LOG_INFO;
static atomic_int target = LOG_TARGET_STDERR;
static atomic_bool sip_trace;
static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void log_set_level(enum log_level lvl)
{
	atomic_store_explicit(&level, (int)lvl, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&level, memory_order_relaxed);
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

int log_target_parse(const char *name, enum log_target *out)
{
	if (strcmp(name, "stderr") == 0)
		*out = LOG_TARGET_STDERR;
	else if (strcmp(name, "syslog") == 0)
		*out = LOG_TARGET_SYSLOG;
	else
		return -EINVAL;
	return 0;
}

void log_set_target(enum log_target t)
{
	if (t == LOG_TARGET_SYSLOG)
		log_sys_open();
	atomic_store_explicit(&target, (int)t, memory_order_relaxed);
}

enum log_target log_get_target(void)
{
	return (enum log_target)atomic_load_explicit(&target, memory_order_relaxed);
}

void log_set_sip_trace(bool on)
{
	atomic_store_explicit(&sip_trace, on, memory_order_relaxed);
}

bool log_sip_trace_on(void)
{
	return atomic_load_explicit(&sip_trace, memory_order_relaxed) &&
	       atomic_load_explicit(&level, memory_order_relaxed) >= LOG_DEBUG;
}

/* One write per line (or per traced message) so that threads do not
 * interleave; syslog gets the text without our timestamp. */
static void emit(enum log_level lvl, char *line, size_t n, size_t text_at)
{
	if (atomic_load_explicit(&target, memory_order_relaxed) == LOG_TARGET_SYSLOG) {
		log_sys_write((int)lvl, line + text_at);
		return;
	}
	line[n] = '\n';
	if (write(STDERR_FILENO, line, n + 1) < 0) {
		/* nowhere left to say it */
	}
}

static size_t stamp(char *line, size_t cap, enum log_level lvl, const char *module,
		    size_t *text_at)
{
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, cap, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000);
	*text_at = n > 0 ? (size_t)n : 0;
	n = snprintf(line + *text_at, cap - *text_at, "%s %s: ", names[lvl], module);
	return *text_at + (n > 0 ? (size_t)n : 0);
}

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
{
	char line[1024];
	size_t n, at;
	int w;
	va_list ap;

	if ((int)lvl > atomic_load_explicit(&level, memory_order_relaxed))
		return;
	n = stamp(line, sizeof(line) - 1, lvl, module, &at);
	va_start(ap, fmt);
	w = vsnprintf(line + n, sizeof(line) - 1 - n, fmt, ap);
	va_end(ap);
	if (w > 0)
		n += (size_t)w < sizeof(line) - 1 - n ? (size_t)w : sizeof(line) - 2 - n;
	emit(lvl, line, n, at);
}

void log_sip(bool sent, const char *proto, const char *peer, const char *buf, size_t len)
{
	size_t cap = len + 256, n, at;
	char *line = malloc(cap);
	int w;

	if (!line)
		return;
	n = stamp(line, cap - 1, LOG_DEBUG, "sip", &at);
	w = snprintf(line + n, cap - 1 - n, "%s %zu bytes %s %s %s:\n", sent ? "sent" : "recv", len,
		     proto, sent ? "to" : "from", peer);
	if (w > 0 && (size_t)w < cap - 1 - n)
		n += (size_t)w;
	/* the message as it was on the wire, without its final CRLF pair */
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len > cap - 1 - n)
		len = cap - 1 - n;
	memcpy(line + n, buf, len);
	n += len;
	line[n] = '\0';
	emit(LOG_DEBUG, line, n, at);
	free(line);
}
