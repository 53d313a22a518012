/* Logging: one line per event to stderr, "LEVEL module: message". */
#ifndef SIPHON_BASE_LOG_H
#define SIPHON_BASE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

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
