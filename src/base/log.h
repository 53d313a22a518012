/* Logging: one line per event, "HH:MM:SS.mmm LEVEL module: message", to
 * stderr (default) or syslog (journald picks up either). The level, the
 * target and the SIP trace can change while threads log (a reload). */
#ifndef SIPHON_BASE_LOG_H
#define SIPHON_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
/* Parse "stderr", "syslog"; returns 0 or -EINVAL. */
int log_target_parse(const char *name, enum log_target *out);
/* Where lines go from now on (syslog: ident "siphond", facility daemon). */
void log_set_target(enum log_target t);
enum log_target log_get_target(void);

/* SIP trace: every message received and sent, in full, at debug level. */
void log_set_sip_trace(bool on);
bool log_sip_trace_on(void);
/* One traced message: "recv 412 bytes udp from 192.0.2.1:5060" then the
 * message. Call only when log_sip_trace_on() (keeps the formatting off the
 * hot path). */
void log_sip(bool sent, const char *proto, const char *peer, const char *buf, size_t len);

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_write(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_write(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) \
	do { \
		if (log_get_level() >= LOG_DEBUG) \
			log_write(LOG_DEBUG, mod, __VA_ARGS__); \
	} while (0)

#endif
