/* Binding records: one allocation per binding, shared by reference between
 * the index, the writer queue and lookup results. */
#include "location/loc_int.h"

#include "base/mem.h"

#include <string.h>

static struct str put(char **p, struct str s)
{
	struct str d = { *p, s.len };

	if (s.len)
		memcpy(*p, s.s, s.len);
	(*p)[s.len] = '\0'; /* handy for SQLite and printf; not part of the slice */
	*p += s.len + 1;
	return d;
}

struct loc_rec *loc_rec_new(const struct loc_binding *b)
{
	size_t len = b->aor.len + b->contact.len + b->call_id.len + b->path.len +
		     b->instance.len + b->received.len + b->user_agent.len + 7;
	struct loc_rec *r = mem_alloc(sizeof(*r) + len);
	char *p;

	if (!r)
		return NULL;
	atomic_init(&r->ref, 1);
	r->b = *b;
	p = r->data;
	r->b.aor = put(&p, b->aor);
	r->b.contact = put(&p, b->contact);
	r->b.call_id = put(&p, b->call_id);
	r->b.path = put(&p, b->path);
	r->b.instance = put(&p, b->instance);
	r->b.received = put(&p, b->received);
	r->b.user_agent = put(&p, b->user_agent);
	if (!r->b.updated)
		r->b.updated = time(NULL);
	r->b.ref_ = r;
	return r;
}

void loc_rec_put(struct loc_rec *r)
{
	if (r && atomic_fetch_sub_explicit(&r->ref, 1, memory_order_acq_rel) == 1)
		mem_free(r);
}

void loc_op_free(struct loc_op *op)
{
	loc_rec_put(op->rec);
	loc_rec_put(op->old);
	mem_free(op);
}
