/* The location service's own threads (writer, redis subscriber) start with
 * every signal blocked: signals belong to the application's threads, and a
 * write to a socket Redis closed then fails with EPIPE instead of killing
 * the process with SIGPIPE (hiredis writes with plain write()). */
#include "location/loc_int.h"

#include <errno.h>
#include <signal.h>

int loc_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg); /* the thread inherits the mask */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return rc == EAGAIN ? -ENOMEM : -rc;
	return 0;
}
