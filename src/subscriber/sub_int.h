/* Subscriber store internals shared by store.c and lookup.c. */
#ifndef SIPHON_SUBSCRIBER_SUB_INT_H
#define SIPHON_SUBSCRIBER_SUB_INT_H

#include "subscriber/sub.h"

#include <sqlite3.h>

enum { SUB_ST_INSERT, SUB_ST_UPSERT, SUB_ST_DEL, SUB_ST_LOOKUP, SUB_ST_N };

struct sub {
	sqlite3 *h;
	sqlite3_stmt *st[SUB_ST_N];
};

/* Log sqlite's reason for what and return -EIO (-ENOMEM when out of memory). */
int sub_fail(struct sub *s, const char *what);

#endif
