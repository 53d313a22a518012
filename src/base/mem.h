/* Allocation wrappers: every heap allocation in Siphon goes through these, so
 * tests can count live blocks (leak check) and fail the Nth allocation. */
#ifndef SIPHON_BASE_MEM_H
#define SIPHON_BASE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_zalloc(size_t size);
void *mem_realloc(void *p, size_t size);
void mem_free(void *p);
/* NUL-terminated copy of len bytes of s. */
char *mem_strndup(const char *s, size_t len);

/* Live blocks allocated through mem_* (only counted, never tracked by address). */
long mem_live_blocks(void);
/* Make allocation number n (0-based, counted from now) and all after it fail;
 * n < 0 disables failure injection. */
void mem_fail_after(long n);
/* Allocations attempted since the last mem_fail_after(). */
long mem_attempts(void);

#endif
