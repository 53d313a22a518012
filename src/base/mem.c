#include "base/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long live;
static atomic_long attempts;
static atomic_long fail_at = -1;

static int should_fail(void)
{
	long n = atomic_fetch_add(&attempts, 1);
	long f = atomic_load(&fail_at);
	return f >= 0 && n >= f;
}

void *mem_alloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		atomic_fetch_add(&live, 1);
	return p;
}

void *mem_zalloc(size_t size)
{
	void *p = mem_alloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *mem_realloc(void *p, size_t size)
{
	void *q;

	if (!p)
		return mem_alloc(size);
	if (should_fail())
		return NULL;
	q = realloc(p, size ? size : 1);
	return q;
}

void mem_free(void *p)
{
	if (!p)
		return;
	atomic_fetch_sub(&live, 1);
	free(p);
}

char *mem_strndup(const char *s, size_t len)
{
	char *d = mem_alloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

long mem_live_blocks(void)
{
	return atomic_load(&live);
}

void mem_fail_after(long n)
{
	atomic_store(&attempts, 0);
	atomic_store(&fail_at, n);
}

long mem_attempts(void)
{
	return atomic_load(&attempts);
}
