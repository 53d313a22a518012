/* The syslog side of base/log.c, kept apart because <syslog.h> defines
 * LOG_INFO and LOG_DEBUG as macros that clash with enum log_level. */
#ifndef SIPHON_BASE_LOG_SYS_H
#define SIPHON_BASE_LOG_SYS_H

/* openlog() once (ident "siphond", facility daemon, with the pid). */
void log_sys_open(void);
/* Write text at level (0 error, 1 warn, 2 info, 3 debug). */
void log_sys_write(int level, const char *text);

#endif
