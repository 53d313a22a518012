#include "dns/rr.h"

#include "base/mem.h"

struct dns_rrset *dns_rrset_new(uint16_t type, size_t n)
{
	struct dns_rrset *s;

	if (n > (SIZE_MAX - sizeof(*s)) / sizeof(s->rr[0]))
		return NULL;
	s = mem_zalloc(sizeof(*s) + n * sizeof(s->rr[0]));
	if (!s)
		return NULL;
	s->refs = 1;
	s->type = type;
	s->n = n;
	return s;
}

struct dns_rrset *dns_rrset_ref(struct dns_rrset *s)
{
	if (s)
		s->refs++;
	return s;
}

void dns_rrset_unref(struct dns_rrset *s)
{
	if (s && --s->refs == 0)
		mem_free(s);
}
