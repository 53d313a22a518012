#include "base/log_sys.h"

#include <pthread.h>
#include <syslog.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_once(void)
{
	openlog("siphond", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_sys_open(void)
{
	pthread_once(&once, open_once);
}

void log_sys_write(int level, const char *text)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	log_sys_open();
	syslog(prio[level & 3], "%s", text);
}
