/* sofia-sip: msg_extract() with sip_default_mclass() parses every header the
 * class knows eagerly into its structure (URLs included) and keeps unknown
 * headers as name/value; memory comes from the msg_t's su_home. */
#include "bench.h"

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include <string.h>

/* Keeps the optimiser from dropping the walk over parsed headers. */
static volatile size_t touched;

/* As tport does for a datagram: copy into the message's buffer, mark the
 * end of stream and extract. Returns the message or NULL. */
static msg_t *parse(const char *buf, size_t len, int *err)
{
	msg_t *msg = msg_create(sip_default_mclass(), 0);
	sip_t *sip;
	void *b;

	*err = -1;
	if (!msg)
		return NULL;
	b = msg_buf_alloc(msg, len + 1);
	if (!b)
		return msg;
	memcpy(b, buf, len);
	msg_buf_commit(msg, len, 1);
	if (msg_extract(msg) <= 0 || msg_has_error(msg)) {
		*err = -2;
		return msg;
	}
	sip = sip_object(msg);
	if (!sip || !sip->sip_call_id || !sip->sip_cseq || !sip->sip_from || !sip->sip_to ||
	    !sip->sip_via) {
		*err = -3;
		return msg;
	}
	*err = 0;
	return msg;
}

int bench_sofia_parse(const char *buf, size_t len)
{
	int err;
	msg_t *msg = parse(buf, len, &err);

	msg_destroy(msg);
	return err;
}

static size_t touch_url(const url_t *u)
{
	return (size_t)u->url_type + (u->url_host ? (size_t)u->url_host[0] : 0) +
	       (u->url_user ? 1u : 0u) + (u->url_params ? 1u : 0u);
}

static size_t touch_list(const msg_list_t *k)
{
	size_t n = 0;

	for (; k; k = k->k_next)
		for (msg_param_t const *p = k->k_items; p && *p; p++)
			n += (unsigned char)**p;
	return n;
}

static size_t touch_auth(msg_t *msg, const msg_auth_t *au)
{
	size_t n = 0;

	for (; au; au = au->au_next) {
		auth_response_t ar;
		memset(&ar, 0, sizeof(ar));
		ar.ar_size = sizeof(ar);
		if (auth_digest_response_get(msg_home(msg), &ar, au->au_params) >= 0)
			n += ar.ar_username ? 1u : 0u;
	}
	return n;
}

static size_t touch(msg_t *msg, const sip_t *sip)
{
	size_t n = 0;

	if (sip->sip_request)
		n += touch_url(sip->sip_request->rq_url);
	if (sip->sip_status)
		n += sip->sip_status->st_status;
	for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
		n += (size_t)v->v_host[0] + (v->v_branch ? 1u : 0u) + (v->v_rport ? 1u : 0u);
	n += touch_url(sip->sip_from->a_url) + (sip->sip_from->a_tag ? 1u : 0u);
	n += touch_url(sip->sip_to->a_url) + (sip->sip_to->a_tag ? 1u : 0u);
	n += sip->sip_cseq->cs_seq + (size_t)sip->sip_call_id->i_id[0];
	if (sip->sip_max_forwards)
		n += sip->sip_max_forwards->mf_count;
	if (sip->sip_content_length)
		n += sip->sip_content_length->l_length;
	if (sip->sip_expires)
		n += sip->sip_expires->ex_delta;
	for (const sip_contact_t *c = sip->sip_contact; c; c = c->m_next)
		n += touch_url(c->m_url) + (c->m_expires ? 1u : 0u);
	for (const sip_route_t *r = sip->sip_route; r; r = r->r_next)
		n += touch_url(r->r_url);
	for (const sip_record_route_t *r = sip->sip_record_route; r; r = r->r_next)
		n += touch_url(r->r_url);
	for (const sip_path_t *r = sip->sip_path; r; r = r->r_next)
		n += touch_url(r->r_url);
	n += touch_list(sip->sip_supported) + touch_list(sip->sip_require) +
	     touch_list(sip->sip_proxy_require) + touch_list(sip->sip_unsupported);
	if (sip->sip_allow)
		n += touch_list((const msg_list_t *)sip->sip_allow);
	n += touch_auth(msg, sip->sip_authorization) + touch_auth(msg, sip->sip_proxy_authorization);
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		n += (size_t)u->un_name[0];
	return n;
}

int bench_sofia_parse_touch(const char *buf, size_t len)
{
	int err;
	msg_t *msg = parse(buf, len, &err);

	if (err == 0)
		touched += touch(msg, sip_object(msg));
	msg_destroy(msg);
	return err;
}

int bench_sofia_bad_headers(const char *buf, size_t len)
{
	int err, n = 0;
	msg_t *msg = parse(buf, len, &err);

	if (err != 0)
		n = -1;
	else
		for (const sip_error_t *e = sip_object(msg)->sip_error; e; e = e->er_next)
			n++;
	msg_destroy(msg);
	return n;
}
