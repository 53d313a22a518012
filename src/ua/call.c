/* INVITE sessions with audio: RFC 3261 §13-§15, offer/answer (RFC 3264),
 * hold (§8.4), 3xx recursion (§8.1.3.4), CANCEL (§9), BYE (§15). */
#include "ua/call.h"

#include "base/log.h"
#include "base/mem.h"
#include "media/media.h"
#include "sdp/sdp.h"
#include "ua/dialog.h"
#include "ua/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP_MAX 1024
#define URI_MAX 256
#define UA_CALL_FORKS_MAX 4 /* other early dialogs whose reliable 1xx we PRACK */

enum state { ST_CALLING, ST_EARLY, ST_ANSWERED, ST_BYE_SENT, ST_ENDED };

struct ua_call {
	struct ua *ua;
	struct ua_call_cfg cfg;
	bool outgoing;
	enum state st;
	bool has_dialog, cancelling, ringing_sent, early_media;
	unsigned redirects;
	char target[URI_MAX];

	struct ua_dialog dlg;
	struct media_stream *media;
	uint64_t sess_id, sess_version;
	enum sdp_dir local_dir;   /* sendrecv, or sendonly while we hold */
	enum sdp_dir cur_dir;     /* the direction last negotiated, our view */
	char local_sdp[SDP_MAX];

	/* UAC */
	struct ua_out *inv;       /* the INVITE (or re-INVITE) in progress */
	bool reinvite;
	uint32_t inv_cseq;
	char ack[UA_REQUEST_MAX]; /* the ACK for the last 2xx, resent on its retransmissions */
	size_t ack_len;
	struct tp_addr ack_dest;
	struct ua_out *bye;

	/* UAS */
	struct ua_srv *srv;       /* the INVITE (or re-INVITE) being answered */
	bool offer_in_invite;
	char local_tag[UA_TAG_LEN + 1];
	struct loop_timer retx;   /* 2xx retransmission (§13.3.1.4) */
	uint32_t retx_ms, retx_total;
	struct ua_resp ok;        /* the 2xx being retransmitted */
	char ok_extra[192];

	/* UAS: the media negotiated from the INVITE, started at the answer (no
	 * RTP before the 200: there was no 183 for early media) */
	bool media_pending;
	struct tp_addr pend_addr;
	uint8_t pend_pt, pend_te;
	bool pend_send, pend_recv;

	/* RFC 3262 reliable provisionals */
	uint32_t last_rseq;       /* UAC: the highest RSeq we PRACKed */
	/* UAC: the other early dialogs of a forked INVITE (§13.2.2.1) whose
	 * reliable provisionals we PRACKed, each in its own dialog (RFC 3262
	 * §4: RSeq and our CSeq count per dialog) */
	struct ua_fork {
		char tag[128];
		uint32_t last_rseq, cseq;
	} forks[UA_CALL_FORKS_MAX];
	unsigned nforks;
	bool rel_pending;         /* UAS: our reliable 180 awaits its PRACK */
	bool answer_after_prack;
	uint32_t rseq;
	struct loop_timer rel_retx;
	uint32_t rel_ms, rel_total;

	/* RFC 4028 session timer */
	uint32_t se;              /* session interval (s); 0: none */
	bool we_refresh;
	bool peer_timer;          /* the UAC said Supported: timer */
	struct loop_timer st_timer;
	struct loop_timer glare;  /* a re-INVITE again after a 491 */

	uint64_t t_answer, t_end;
	enum ua_call_end end;
	struct loop_timer later;  /* deferred end event */
};

static void emit(struct ua_call *c, enum ua_call_ev ev, int status, const char *text)
{
	struct ua_call_info i = { .ev = ev, .end = c->end, .status = status, .text = text };

	if (c->cfg.cb)
		c->cfg.cb(c->cfg.arg, c, &i);
}

static void finish(struct ua_call *c, enum ua_call_end end, int status, const char *text)
{
	if (c->st == ST_ENDED)
		return;
	c->st = ST_ENDED;
	c->end = end;
	c->t_end = loop_now(ua_loop(c->ua));
	loop_timer_cancel(ua_loop(c->ua), &c->retx);
	loop_timer_cancel(ua_loop(c->ua), &c->rel_retx);
	loop_timer_cancel(ua_loop(c->ua), &c->st_timer);
	loop_timer_cancel(ua_loop(c->ua), &c->glare);
	emit(c, UA_CALL_EV_ENDED, status, text);
}

static const char *dir_name(enum sdp_dir d)
{
	static const char *const n[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	return n[d];
}

/* ---- media ---- */

static void on_dtmf(char digit, unsigned duration_ms, void *arg)
{
	struct ua_call *c = arg;
	char d[2] = { digit, 0 };

	(void)duration_ms;
	emit(c, UA_CALL_EV_DTMF, 0, d);
}

static int media_open(struct ua_call *c)
{
	char host[64];
	struct media_cfg mc = {
		.local_ip = tp_addr_host_fmt(ua_local(c->ua), host, sizeof(host)),
		.play_wav = c->cfg.play_wav,
		.play_loop = c->cfg.play_loop,
		.record_wav = c->cfg.record_wav,
		.symmetric = true,
		.on_dtmf = on_dtmf,
		.arg = c,
	};
	char hx[13];

	/* o= session id: random, so that two calls never share one (RFC 4566 §5.2) */
	if (ua_rand_hex(hx, 6) < 0)
		return -EIO;
	c->sess_id = strtoull(hx, NULL, 16) + 1;
	c->sess_version = 1;
	return media_create(&c->media, ua_loop(c->ua), &mc);
}

/* Our SDP: an offer of PCMU, PCMA and telephone-event, or the answer with
 * the one codec chosen. */
static int write_sdp(struct ua_call *c, const uint8_t *pts, unsigned n, uint8_t te,
		     enum sdp_dir dir)
{
	int len = sdp_write(c->local_sdp, sizeof(c->local_sdp), "siphon", c->sess_id,
			    c->sess_version, media_local(c->media), pts, n, te, dir);

	return len < 0 ? len : 0;
}

static int write_offer(struct ua_call *c)
{
	static const uint8_t pts[] = { SDP_PT_PCMU, SDP_PT_PCMA };

	return write_sdp(c, pts, 2, SDP_PT_TE_DEFAULT, c->local_dir);
}

static void set_dir(struct ua_call *c, enum sdp_dir d)
{
	bool changed = c->cur_dir != d;

	c->cur_dir = d;
	if (changed && c->st >= ST_ANSWERED)
		emit(c, UA_CALL_EV_HOLD, 0, dir_name(d));
}

static int start_media(struct ua_call *c, const struct sdp_audio *a, uint8_t pt, uint8_t te,
		       enum sdp_dir ours)
{
	bool send = ours == SDP_SENDRECV || ours == SDP_SENDONLY;
	bool recv = ours == SDP_SENDRECV || ours == SDP_RECVONLY;

	set_dir(c, ours);
	if (a->port_zero)
		return 0;
	if (!c->outgoing && c->st < ST_ANSWERED) {
		c->media_pending = true;
		c->pend_addr = a->addr;
		c->pend_pt = pt;
		c->pend_te = te;
		c->pend_send = send;
		c->pend_recv = recv;
		return 0;
	}
	return media_start(c->media, &a->addr, pt, te, send, recv);
}

/* An offer from the far end: our answer into local_sdp, media started. */
static int take_offer(struct ua_call *c, const struct sip_msg *m)
{
	struct sdp_session s;
	uint8_t pt, te;
	enum sdp_dir ans;

	if (sdp_parse(&s, m->body.s, m->body.len) < 0 || !s.has_audio)
		return -EINVAL;
	if (sdp_negotiate(&s.audio, c->local_dir, &pt, &te, &ans) < 0)
		return -ENOTSUP;
	c->sess_version++;
	if (write_sdp(c, &pt, 1, te, ans) < 0)
		return -ENOSPC;
	return start_media(c, &s.audio, pt, te, ans);
}

/* The answer to our offer. */
static int take_answer(struct ua_call *c, const struct sip_msg *m)
{
	struct sdp_session s;
	uint8_t pt = 255, te = 0;
	enum sdp_dir ours;

	if (!m->body.len)
		return -ENOENT;
	if (sdp_parse(&s, m->body.s, m->body.len) < 0 || !s.has_audio)
		return -EINVAL;
	for (unsigned i = 0; i < s.audio.nfmt; i++) {
		const struct sdp_fmt *f = &s.audio.fmt[i];

		if (pt == 255 && (f->pt == SDP_PT_PCMU || f->pt == SDP_PT_PCMA))
			pt = f->pt;
		if (!te && strcasecmp(f->name, "telephone-event") == 0)
			te = f->pt;
	}
	if (pt == 255)
		return -ENOTSUP;
	/* RFC 3264 §6.1: their sendonly is our recvonly, and so on */
	switch (s.audio.dir) {
	case SDP_SENDONLY: ours = SDP_RECVONLY; break;
	case SDP_RECVONLY: ours = SDP_SENDONLY; break;
	case SDP_INACTIVE: ours = SDP_INACTIVE; break;
	default: ours = c->local_dir; break;
	}
	if (c->local_dir == SDP_SENDONLY && ours == SDP_SENDRECV)
		ours = SDP_SENDONLY;
	return start_media(c, &s.audio, pt, te, ours);
}

static bool has_sdp(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);

	return m->body.len && h && str_caseeq_lit(str_trim(h->value), "application/sdp");
}

/* ---- RFC 4028 session timers ---- */

static const char *hdr_value(const struct sip_msg *m, const char *name, char *buf, size_t cap)
{
	const struct sip_hdr *h = sip_msg_hdr_by_name(m, str_cstr(name));

	if (!h || str_copy(buf, cap, str_trim(h->value)) < 0)
		return NULL;
	return buf;
}

/* "1800;refresher=uac": the interval and who refreshes. */
static uint32_t parse_se(const struct sip_msg *m, char *refresher, size_t cap)
{
	char v[128];
	struct str val, params = STR_NULL, r;
	uint32_t se;
	ptrdiff_t semi;

	refresher[0] = 0;
	if (!hdr_value(m, "Session-Expires", v, sizeof(v)))
		return 0;
	val = str_cstr(v);
	semi = str_chr(val, ';');
	if (semi >= 0) {
		params = str_make(val.s + semi + 1, val.len - (size_t)semi - 1);
		val.len = (size_t)semi;
	}
	if (str_to_u32(str_trim(val), 86400, &se) < 0 || se == 0)
		return 0;
	if (params.len && sip_param_find(params, STR_LIT("refresher"), &r) == 1)
		str_copy(refresher, cap, r);
	return se;
}

static void send_bye(struct ua_call *c);
static int reinvite(struct ua_call *c);

static void on_session_timer(void *arg)
{
	struct ua_call *c = arg;

	if (c->st != ST_ANSWERED)
		return;
	if (c->we_refresh) {
		/* §7.2 / §9: refresh halfway; busy with another offer: soon */
		if (reinvite(c) < 0)
			loop_timer_add(ua_loop(c->ua), &c->st_timer, 1000, on_session_timer, c);
		return;
	}
	/* §10: no refresh came in time: the session is over */
	log_warn("ua", "session timer expired without a refresh: BYE");
	send_bye(c);
}

/* Arm the timer for the interval just agreed. */
static void arm_session_timer(struct ua_call *c)
{
	uint64_t ms;

	loop_timer_cancel(ua_loop(c->ua), &c->st_timer);
	if (!c->se)
		return;
	if (c->we_refresh)
		ms = (uint64_t)c->se * 500;
	else /* §10: expire at SE - min(32, SE/3) */
		ms = ((uint64_t)c->se - (c->se / 3 < 32 ? c->se / 3 : 32)) * 1000;
	loop_timer_add(ua_loop(c->ua), &c->st_timer, ms ? ms : 500, on_session_timer, c);
}

/* UAC: the 2xx to an INVITE we sent says the interval and the refresher
 * (relative to that transaction: "uac" is us). */
static void se_from_2xx(struct ua_call *c, const struct sip_msg *m)
{
	char who[16];
	uint32_t se = parse_se(m, who, sizeof(who));

	if (!se) {
		c->se = 0;
		arm_session_timer(c);
		return;
	}
	c->se = se;
	c->we_refresh = strcasecmp(who, "uas") != 0;
	arm_session_timer(c);
}

/* UAS: an INVITE we answer may ask for a session timer (§9). */
static void se_from_request(struct ua_call *c, const struct sip_msg *m)
{
	char who[16];
	uint32_t se = parse_se(m, who, sizeof(who));

	c->peer_timer = ua_hdr_has_token(m, SIP_HDR_SUPPORTED, "timer");
	c->se = se;
	if (!se)
		return;
	/* §9: absent refresher: the UAC refreshes when it supports timers */
	if (!who[0])
		c->we_refresh = !c->peer_timer;
	else
		c->we_refresh = strcasecmp(who, "uas") == 0;
}

/* Session-Expires and Require lines of our 2xx (§9). */
static const char *se_lines(struct ua_call *c, char *buf, size_t cap)
{
	if (!c->se)
		return "Supported: timer\r\n";
	snprintf(buf, cap, "Supported: timer\r\nSession-Expires: %u;refresher=%s\r\n%s",
		 (unsigned)c->se, c->we_refresh ? "uas" : "uac",
		 c->peer_timer ? "Require: timer\r\n" : "");
	return buf;
}

/* ---- RFC 3262 PRACK (UAC) ---- */

static void send_prack(struct ua_call *c, uint32_t rseq, uint32_t cseq)
{
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX], extra[64];
	struct ua_req_desc d;

	ua_dialog_request(&c->dlg, "PRACK", &d, bufs, sizeof(bufs));
	snprintf(extra, sizeof(extra), "RAck: %u %u INVITE\r\n", (unsigned)rseq, (unsigned)cseq);
	d.extra = extra;
	if (ua_out_send(c->ua, &d, NULL, NULL, NULL) < 0)
		log_warn("ua", "cannot send the PRACK");
}

/* The other early dialog with this To tag, or NULL. */
static struct ua_fork *fork_find(struct ua_call *c, struct str tag)
{
	for (unsigned i = 0; i < c->nforks; i++)
		if (str_eq(tag, str_cstr(c->forks[i].tag)))
			return &c->forks[i];
	return NULL;
}

/* RFC 3262 §4: the first reliable provisional of a dialog sets its RSeq;
 * then only the next one in order is PRACKed (a retransmission or one out
 * of order is not, and is not processed further). */
static bool rseq_next(uint32_t last, uint32_t rseq)
{
	return last == 0 || rseq == last + 1;
}

/* The RSeq of a reliable provisional (Require: 100rel), or false. */
static bool reliable_rseq(const struct sip_msg *m, uint32_t *rseq)
{
	char v[32];

	return ua_hdr_has_token(m, SIP_HDR_REQUIRE, "100rel") && hdr_value(m, "RSeq", v, sizeof(v)) &&
	       str_to_u32(str_cstr(v), UINT32_MAX, rseq) == 0;
}

/* A reliable provisional of another fork than c->dlg's (§13.2.2.1: an
 * early dialog of its own): its PRACK goes within that dialog, to its
 * remote target, with its To tag and its own CSeq (RFC 3262 §4). */
static void fork_prack(struct ua_call *c, struct ua_out *o, const struct sip_msg *m,
		       uint32_t rseq)
{
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX], extra[64];
	struct ua_fork *f = fork_find(c, m->to.tag);
	struct ua_req_desc q;
	struct ua_dialog *d;

	if (!f) {
		if (c->nforks == UA_CALL_FORKS_MAX || m->to.tag.len >= sizeof(f->tag)) {
			log_info("ua", "a reliable provisional of one fork too many: not PRACKed");
			return;
		}
		f = &c->forks[c->nforks++];
		memcpy(f->tag, m->to.tag.s, m->to.tag.len);
		f->tag[m->to.tag.len] = '\0';
		f->last_rseq = 0;
		f->cseq = ua_out_cseq(o);
	}
	if (!rseq_next(f->last_rseq, rseq))
		return; /* a retransmission (already PRACKed), or out of order */
	d = mem_alloc(sizeof(*d));
	if (!d)
		return;
	if (ua_dialog_uac(d, m, ua_aor(c->ua), ua_out_from_tag(o), f->cseq) == 0) {
		f->last_rseq = rseq;
		ua_dialog_request(d, "PRACK", &q, bufs, sizeof(bufs));
		f->cseq = d->local_cseq;
		snprintf(extra, sizeof(extra), "RAck: %u %u INVITE\r\n", (unsigned)rseq,
			 (unsigned)ua_out_cseq(o));
		q.extra = extra;
		if (ua_out_send(c->ua, &q, NULL, NULL, NULL) < 0)
			log_warn("ua", "cannot send the PRACK");
	}
	mem_free(d);
}

/* A reliable provisional (Require: 100rel, RSeq): PRACK it once (§4),
 * within the early dialog it belongs to. */
static void maybe_prack(struct ua_call *c, struct ua_out *o, const struct sip_msg *m)
{
	uint32_t rseq;

	if (!c->has_dialog || !reliable_rseq(m, &rseq))
		return;
	if (m->to.has_tag && !str_eq(m->to.tag, str_cstr(c->dlg.remote_tag))) {
		fork_prack(c, o, m, rseq);
		return;
	}
	if (!rseq_next(c->last_rseq, rseq))
		return; /* a retransmission (already PRACKed), or out of order */
	c->last_rseq = rseq;
	send_prack(c, rseq, ua_out_cseq(o));
}

/* ---- UAC ---- */

static int send_invite(struct ua_call *c);

static void send_bye(struct ua_call *c);

/* §13.2.2.4: a 2xx from a second fork of our INVITE: its own dialog,
 * ACKed and at once ended with a BYE (we keep one call). */
static void other_fork(struct ua_call *c, struct ua_out *o, const struct sip_msg *m)
{
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX], ack[UA_REQUEST_MAX];
	struct ua_dialog *d = mem_alloc(sizeof(*d));
	struct ua_req_desc q;
	struct tp_addr dest;
	int n;

	if (!d)
		return;
	if (ua_dialog_uac(d, m, ua_aor(c->ua), ua_out_from_tag(o), ua_out_cseq(o)) == 0) {
		struct ua_fork *f = fork_find(c, m->to.tag);

		/* its BYE follows the PRACKs it had (§12.2.1.1: CSeq grows) */
		if (f && f->cseq > d->local_cseq)
			d->local_cseq = f->cseq;
		n = ua_dialog_ack(d, c->ua, ua_out_cseq(o), NULL, NULL, ack, sizeof(ack));
		ua_dialog_hop_addr(d, ua_out_dest(o), &dest);
		if (n > 0)
			ua_send_raw(c->ua, &dest, ack, (size_t)n);
		ua_dialog_request(d, "BYE", &q, bufs, sizeof(bufs));
		if (ua_out_send(c->ua, &q, NULL, NULL, NULL) == 0)
			log_info("ua", "a second fork answered: ACK and BYE to it");
	}
	mem_free(d);
}

static void on_glare(void *arg);

/* Another fork than c->dlg's answered first: c->dlg's early dialog joins
 * the other forks (a 2xx of its own later gets ACK and BYE with the right
 * CSeq), and the answering fork's CSeq so far is returned (0: none). */
static uint32_t swap_early(struct ua_call *c, struct str tag)
{
	struct ua_fork *f = fork_find(c, tag);
	uint32_t used = f ? f->cseq : 0, rseq = f ? f->last_rseq : 0;
	size_t n = strlen(c->dlg.remote_tag);

	if (f) {
		/* the answering fork leaves the list: c->dlg is its dialog now */
		*f = c->forks[--c->nforks];
	}
	if (c->nforks < UA_CALL_FORKS_MAX && n < sizeof(c->forks[0].tag)) {
		f = &c->forks[c->nforks++];
		memcpy(f->tag, c->dlg.remote_tag, n + 1);
		f->cseq = c->dlg.local_cseq;
		f->last_rseq = c->last_rseq;
	}
	c->last_rseq = rseq;
	return used;
}

static void on_invite(void *arg, struct ua_out *o, int status, const struct sip_msg *m,
		      const char *why)
{
	struct ua_call *c = arg;
	char reason[64];

	if (o != c->inv)
		return;
	if (status < 200) {
		if (c->reinvite || c->st >= ST_ANSWERED)
			return;
		if (m && m->to.has_tag && !c->has_dialog &&
		    ua_dialog_uac(&c->dlg, m, ua_aor(c->ua), ua_out_from_tag(o), ua_out_cseq(o)) == 0)
			c->has_dialog = true; /* early dialog (§12.1.2) */
		if (m)
			maybe_prack(c, o, m);
		/* early media: a 183 (or 180) with the answer starts the audio now */
		if (m && has_sdp(m) && !c->early_media && take_answer(c, m) == 0)
			c->early_media = true;
		c->st = ST_EARLY;
		if (status == 180 || status == 183)
			emit(c, UA_CALL_EV_RINGING, status, NULL);
		return;
	}
	if (status < 300) {
		bool first = c->ack_len == 0 || c->inv_cseq != ua_out_cseq(o);

		if (!first && !c->reinvite && m->to.has_tag &&
		    !str_eq(m->to.tag, str_cstr(c->dlg.remote_tag))) {
			other_fork(c, o, m);
			return;
		}
		if (first) {
			uint32_t used = c->has_dialog ? c->dlg.local_cseq : 0;

			if (!c->reinvite && c->has_dialog && m->to.has_tag &&
			    !str_eq(m->to.tag, str_cstr(c->dlg.remote_tag)))
				used = swap_early(c, m->to.tag);
			c->inv_cseq = ua_out_cseq(o);
			if (!c->reinvite &&
			    ua_dialog_uac(&c->dlg, m, ua_aor(c->ua), ua_out_from_tag(o), c->inv_cseq) < 0) {
				finish(c, UA_END_REJECTED, 502, "bad 2xx (no To tag or Contact)");
				return;
			}
			c->has_dialog = true;
			/* a PRACK may have used a CSeq above the INVITE's */
			c->dlg.local_cseq = used > c->inv_cseq ? used : c->inv_cseq;
			if (c->reinvite)
				ua_dialog_refresh(&c->dlg, m);
			int n = ua_dialog_ack(&c->dlg, c->ua, c->inv_cseq, NULL, NULL, c->ack,
					      sizeof(c->ack));
			c->ack_len = n > 0 ? (size_t)n : 0;
			ua_dialog_hop_addr(&c->dlg, ua_out_dest(o), &c->ack_dest);
		}
		if (c->ack_len) /* §13.2.2.4: every 2xx retransmission gets the ACK again */
			ua_send_raw(c->ua, &c->ack_dest, c->ack, c->ack_len);
		if (!first)
			return;
		if (c->cancelling || c->st == ST_ENDED) {
			/* the 2xx raced our CANCEL: the call must end with a BYE (§15) */
			c->st = ST_ANSWERED;
			send_bye(c);
			return;
		}
		if (take_answer(c, m) < 0 && !c->reinvite) {
			c->st = ST_ANSWERED;
			send_bye(c);
			finish(c, UA_END_MEDIA, 488, "no usable SDP answer");
			return;
		}
		if (!c->reinvite) {
			c->st = ST_ANSWERED;
			c->t_answer = loop_now(ua_loop(c->ua));
			emit(c, UA_CALL_EV_ANSWERED, status, NULL);
		}
		c->reinvite = false;
		se_from_2xx(c, m);
		return;
	}
	/* a final non-2xx */
	c->inv = NULL;
	ua_out_free(o);
	if (c->reinvite) {
		/* §14.1: a failed re-INVITE leaves the session as it was */
		c->reinvite = false;
		if (status == 481 || status == 408)
			finish(c, UA_END_REMOTE_BYE, status, "dialog gone");
		else if (status == 491) /* glare: try again 2.1-4 s later (§14.1) */
			loop_timer_add(ua_loop(c->ua), &c->glare, 2100 + (loop_now(ua_loop(c->ua)) % 1900),
				       on_glare, c);
		return;
	}
	if (status >= 300 && status < 400 && m && c->redirects < c->cfg.max_redirects) {
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);

		/* §8.1.3.4: recurse on the first Contact */
		if (h && ua_hdr_uri(h->value, c->target, sizeof(c->target)) == 0) {
			c->redirects++;
			emit(c, UA_CALL_EV_REDIRECT, status, c->target);
			if (send_invite(c) == 0)
				return;
		}
	}
	snprintf(reason, sizeof(reason), "%.*s", m ? (int)m->reason.len : 0, m ? m->reason.s : "");
	if (!m)
		finish(c, status == 408 ? UA_END_TIMEOUT
			  : status == 487 ? UA_END_CANCELLED : UA_END_NETWORK, status, why);
	else if (status == 487 && c->cancelling)
		finish(c, UA_END_CANCELLED, status, reason);
	else if ((status == 401 || status == 407) && (ua_out_auth_failed(o) || 1))
		finish(c, UA_END_AUTH, status, reason);
	else
		finish(c, UA_END_REJECTED, status, reason);
}

static int send_invite(struct ua_call *c)
{
	struct ua_req_desc d = {
		.method = "INVITE",
		.ruri = c->target,
		.extra = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK\r\n"
			 "Supported: timer, 100rel\r\n",
		.ctype = "application/sdp",
		.body = c->local_sdp,
	};

	c->ack_len = 0;
	c->has_dialog = false;
	c->last_rseq = 0; /* a new INVITE (3xx recursion): new early dialogs */
	c->nforks = 0;
	return ua_out_send(c->ua, &d, on_invite, c, &c->inv);
}

static void on_bye(void *arg, struct ua_out *o, int status, const struct sip_msg *m,
		   const char *why)
{
	struct ua_call *c = arg;

	(void)m;
	(void)why;
	if (status < 200)
		return;
	ua_out_free(o);
	c->bye = NULL;
	if (c->cancelling)
		finish(c, UA_END_CANCELLED, 487, "cancelled");
	else
		finish(c, UA_END_LOCAL_BYE, status, NULL);
}

static void send_bye(struct ua_call *c)
{
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX];
	struct ua_req_desc d;

	if (c->bye || !c->has_dialog)
		return;
	c->st = ST_BYE_SENT;
	loop_timer_cancel(ua_loop(c->ua), &c->retx);
	ua_dialog_request(&c->dlg, "BYE", &d, bufs, sizeof(bufs));
	if (ua_out_send(c->ua, &d, on_bye, c, &c->bye) < 0)
		finish(c, UA_END_LOCAL_BYE, 0, "BYE not sent");
}

static struct ua_call *call_new(struct ua *u, const struct ua_call_cfg *cfg)
{
	struct ua_call *c = mem_zalloc(sizeof(*c));

	if (!c)
		return NULL;
	c->ua = u;
	c->cfg = *cfg;
	if (!c->cfg.max_redirects)
		c->cfg.max_redirects = 5;
	c->local_dir = SDP_SENDRECV;
	c->cur_dir = SDP_SENDRECV;
	return c;
}

int ua_call_out(struct ua *u, const char *uri, const struct ua_call_cfg *cfg, struct ua_call **out)
{
	struct ua_call *c = call_new(u, cfg);
	int rc;

	if (!c)
		return -ENOMEM;
	c->outgoing = true;
	if (str_copy(c->target, sizeof(c->target), str_cstr(uri)) < 0) {
		mem_free(c);
		return -EINVAL;
	}
	rc = media_open(c);
	if (rc == 0)
		rc = write_offer(c);
	if (rc == 0)
		rc = send_invite(c);
	if (rc) {
		ua_call_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- UAS ---- */

static void on_retx(void *arg)
{
	struct ua_call *c = arg;

	if (!c->srv)
		return;
	if (c->retx_total >= 64 * 500) {
		/* §13.3.1.4: no ACK: the session ends with a BYE */
		ua_srv_free(c->srv);
		c->srv = NULL;
		send_bye(c);
		return;
	}
	ua_srv_respond(c->srv, 200, NULL, &c->ok);
	c->retx_total += c->retx_ms;
	c->retx_ms = c->retx_ms * 2 > 4000 ? 4000 : c->retx_ms * 2;
	loop_timer_add(ua_loop(c->ua), &c->retx, c->retx_ms, on_retx, c);
}

/* Answer the INVITE or re-INVITE in c->srv with 2xx and keep resending it
 * until the ACK. */
static int send_ok(struct ua_call *c)
{
	int rc;

	c->ok = (struct ua_resp){
		.to_tag = c->local_tag,
		.contact = true,
		.record_route = !c->has_dialog || c->st < ST_ANSWERED,
		.extra = se_lines(c, c->ok_extra, sizeof(c->ok_extra)),
		.ctype = "application/sdp",
		.body = c->local_sdp,
	};
	rc = ua_srv_respond(c->srv, 200, NULL, &c->ok);
	if (rc)
		return rc;
	c->retx_ms = 500;
	c->retx_total = 0;
	return loop_timer_add(ua_loop(c->ua), &c->retx, c->retx_ms, on_retx, c);
}

static void send_ringing(struct ua_call *c)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "Require: 100rel\r\nRSeq: %u\r\n", (unsigned)c->rseq);
	ua_srv_respond(c->srv, 180, NULL, &(struct ua_resp){
		.to_tag = c->local_tag, .contact = true, .record_route = true,
		.extra = c->rel_pending ? extra : NULL });
}

/* RFC 3262 §3: the reliable 180 again, T1 doubling, until its PRACK; none
 * after 64*T1: the INVITE is refused. */
static void on_rel_retx(void *arg)
{
	struct ua_call *c = arg;

	if (!c->rel_pending || !c->srv)
		return;
	if (c->rel_total >= 64 * 500) {
		c->rel_pending = false;
		ua_call_reject(c, 504);
		return;
	}
	send_ringing(c);
	c->rel_total += c->rel_ms;
	c->rel_ms = c->rel_ms * 2 > 4000 ? 4000 : c->rel_ms * 2;
	loop_timer_add(ua_loop(c->ua), &c->rel_retx, c->rel_ms, on_rel_retx, c);
}

int ua_call_in(struct ua *u, struct ua_srv *s, const struct ua_call_cfg *cfg,
	       struct ua_call **out)
{
	const struct sip_msg *m = ua_srv_msg(s);
	struct ua_call *c = call_new(u, cfg);
	int rc;

	if (!c) {
		ua_srv_respond(s, 500, NULL, NULL);
		return -ENOMEM;
	}
	if (ua_tag_new(c->local_tag) < 0 || ua_dialog_uas(&c->dlg, m, c->local_tag) < 0) {
		ua_srv_respond(s, 400, "Bad Dialog Request", NULL);
		mem_free(c);
		return -EINVAL;
	}
	c->has_dialog = true;
	snprintf(c->target, sizeof(c->target), "%s", c->dlg.remote_uri);
	rc = media_open(c);
	if (rc) {
		ua_srv_respond(s, 503, "No Media Ports", NULL);
		ua_call_free(c);
		return rc;
	}
	c->offer_in_invite = has_sdp(m);
	if (c->offer_in_invite) {
		rc = take_offer(c, m);
		if (rc) {
			ua_srv_respond(s, 488, NULL, NULL);
			ua_call_free(c);
			return rc;
		}
	} else if (write_offer(c) < 0) {
		ua_srv_respond(s, 500, NULL, NULL);
		ua_call_free(c);
		return -ENOSPC;
	}
	ua_srv_keep(s);
	c->srv = s;
	c->st = ST_EARLY;
	se_from_request(c, m);
	if (ua_hdr_has_token(m, SIP_HDR_REQUIRE, "100rel")) {
		/* RFC 3262 §3: the peer requires a reliable 180 */
		c->rel_pending = true;
		c->rseq = 1;
		c->rel_ms = 500;
		c->rel_total = 0;
		send_ringing(c);
		loop_timer_add(ua_loop(u), &c->rel_retx, c->rel_ms, on_rel_retx, c);
	} else {
		send_ringing(c);
	}
	c->ringing_sent = true;
	*out = c;
	return 0;
}

int ua_call_answer(struct ua_call *c)
{
	int rc;

	if (c->outgoing || c->st != ST_EARLY || !c->srv)
		return -EINVAL;
	if (c->rel_pending) {
		c->answer_after_prack = true; /* the 200 follows the PRACK */
		return 0;
	}
	rc = send_ok(c);
	if (rc)
		return rc;
	c->st = ST_ANSWERED;
	arm_session_timer(c);
	if (c->media_pending) {
		c->media_pending = false;
		rc = media_start(c->media, &c->pend_addr, c->pend_pt, c->pend_te, c->pend_send,
				 c->pend_recv);
		if (rc)
			log_warn("ua", "cannot start the media: %s", strerror(-rc));
	}
	c->t_answer = loop_now(ua_loop(c->ua));
	emit(c, UA_CALL_EV_ANSWERED, 200, NULL);
	return 0;
}

int ua_call_reject(struct ua_call *c, uint16_t code)
{
	if (c->outgoing || c->st != ST_EARLY || !c->srv)
		return -EINVAL;
	ua_srv_respond(c->srv, code, NULL, &(struct ua_resp){ .to_tag = c->local_tag });
	ua_srv_free(c->srv);
	c->srv = NULL;
	finish(c, UA_END_REJECTED, code, "rejected");
	return 0;
}

int ua_call_hangup(struct ua_call *c)
{
	switch (c->st) {
	case ST_CALLING:
	case ST_EARLY:
		if (!c->outgoing)
			return ua_call_reject(c, 603);
		c->cancelling = true;
		return c->inv ? ua_out_cancel(c->inv) : 0;
	case ST_ANSWERED:
		send_bye(c);
		return 0;
	default:
		return -EALREADY;
	}
}

/* A re-INVITE with our offer for local_dir (hold, resume, or a session
 * refresh, RFC 4028 §7.4). */
static int reinvite(struct ua_call *c)
{
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX], extra[128];
	struct ua_req_desc d;
	int rc;

	if (c->st != ST_ANSWERED)
		return -EINVAL;
	if (c->reinvite || c->srv)
		return -EBUSY; /* §14.1: one offer at a time */
	c->sess_version++;
	rc = write_offer(c);
	if (rc)
		return rc;
	ua_dialog_request(&c->dlg, "INVITE", &d, bufs, sizeof(bufs));
	d.ctype = "application/sdp";
	d.body = c->local_sdp;
	if (c->se)
		snprintf(extra, sizeof(extra), "Supported: timer\r\nSession-Expires: %u;refresher=uac\r\n",
			 (unsigned)c->se);
	else
		snprintf(extra, sizeof(extra), "Supported: timer\r\n");
	d.extra = extra;
	if (c->inv)
		ua_out_free(c->inv);
	c->inv = NULL;
	c->reinvite = true;
	rc = ua_out_send(c->ua, &d, on_invite, c, &c->inv);
	if (rc)
		c->reinvite = false;
	return rc;
}

static void on_glare(void *arg)
{
	struct ua_call *c = arg;

	if (reinvite(c) == -EBUSY) /* another offer under way: later */
		loop_timer_add(ua_loop(c->ua), &c->glare, 1000, on_glare, c);
}

int ua_call_hold(struct ua_call *c, bool hold)
{
	enum sdp_dir old = c->local_dir;
	int rc;

	if (c->st != ST_ANSWERED)
		return -EINVAL;
	if (c->reinvite || c->srv)
		return -EBUSY;
	c->local_dir = hold ? SDP_SENDONLY : SDP_SENDRECV;
	rc = reinvite(c);
	if (rc)
		c->local_dir = old;
	return rc;
}

int ua_call_dtmf(struct ua_call *c, const char *digits)
{
	if (c->st != ST_ANSWERED || !c->media)
		return -EINVAL;
	return media_send_dtmf(c->media, digits);
}

/* INFO with application/dtmf-relay: "Signal=5". */
static void info_dtmf(struct ua_call *c, const struct sip_msg *m)
{
	const char *p = m->body.len ? memmem(m->body.s, m->body.len, "Signal=", 7) : NULL;

	if (p && (size_t)(p + 7 - m->body.s) < m->body.len) {
		char d[2] = { p[7], 0 };

		emit(c, UA_CALL_EV_DTMF, 0, d);
	}
}

/* A re-INVITE (or UPDATE with an offer) in the dialog (§14.2). */
static void reoffer(struct ua_call *c, struct ua_srv *s, const struct sip_msg *m)
{
	bool invite = m->method_id == SIP_METHOD_INVITE;

	if (invite && (c->srv || c->reinvite)) {
		/* §14.2: an offer while ours is pending */
		ua_srv_respond(s, c->reinvite ? 491 : 500, NULL,
			       &(struct ua_resp){ .extra = "Retry-After: 1\r\n" });
		return;
	}
	ua_dialog_refresh(&c->dlg, m); /* a target refresh (§12.2.2) */
	if (has_sdp(m)) {
		if (take_offer(c, m) < 0) {
			ua_srv_respond(s, 488, NULL, NULL);
			return;
		}
	} else {
		c->sess_version++;
		/* no offer: ours goes in the 2xx, the answer in the ACK */
		if (invite && write_offer(c) < 0) {
			ua_srv_respond(s, 500, NULL, NULL);
			return;
		}
	}
	if (!invite) {
		ua_srv_respond(s, 200, NULL, &(struct ua_resp){
			.contact = true,
			.ctype = has_sdp(m) ? "application/sdp" : NULL,
			.body = has_sdp(m) ? c->local_sdp : NULL });
		return;
	}
	ua_srv_keep(s);
	c->srv = s;
	c->offer_in_invite = has_sdp(m);
	se_from_request(c, m); /* a refresh (RFC 4028 §10) restarts the timer */
	if (send_ok(c) < 0) {
		ua_srv_free(s);
		c->srv = NULL;
		return;
	}
	arm_session_timer(c);
}

bool ua_call_request(struct ua_call *c, struct ua_srv *s, const struct sip_msg *m)
{
	if (!c->has_dialog || !ua_dialog_match(&c->dlg, m))
		return false;
	if (m->method_id == SIP_METHOD_ACK) {
		/* §13.3.1.4: the ACK ends the 2xx retransmissions */
		if (c->srv && m->cseq.num == ua_srv_msg(c->srv)->cseq.num) {
			loop_timer_cancel(ua_loop(c->ua), &c->retx);
			if (!c->offer_in_invite && has_sdp(m))
				take_answer(c, m);
			ua_srv_free(c->srv);
			c->srv = NULL;
		}
		return true;
	}
	if (ua_dialog_check_cseq(&c->dlg, m) < 0) {
		ua_srv_respond(s, 500, "CSeq Out of Order", NULL);
		return true;
	}
	switch (m->method_id) {
	case SIP_METHOD_BYE:
		ua_srv_respond(s, 200, NULL, NULL);
		if (c->srv && c->st < ST_ANSWERED) {
			ua_srv_respond(c->srv, 487, NULL, &(struct ua_resp){ .to_tag = c->local_tag });
		}
		ua_srv_free(c->srv);
		c->srv = NULL;
		finish(c, UA_END_REMOTE_BYE, 200, NULL);
		break;
	case SIP_METHOD_INVITE:
	case SIP_METHOD_UPDATE:
		if (c->st != ST_ANSWERED) {
			ua_srv_respond(s, m->method_id == SIP_METHOD_UPDATE ? 200 : 491, NULL, NULL);
			break;
		}
		reoffer(c, s, m);
		break;
	case SIP_METHOD_PRACK: {
		char v[64];
		uint32_t rseq = 0;

		/* RFC 3262 §3: "RAck: rseq cseq INVITE" must name our 180 */
		if (hdr_value(m, "RAck", v, sizeof(v)))
			rseq = (uint32_t)strtoul(v, NULL, 10);
		if (!c->rel_pending || rseq != c->rseq) {
			ua_srv_respond(s, 481, NULL, NULL);
			break;
		}
		c->rel_pending = false;
		loop_timer_cancel(ua_loop(c->ua), &c->rel_retx);
		ua_srv_respond(s, 200, NULL, NULL);
		if (c->answer_after_prack) {
			c->answer_after_prack = false;
			ua_call_answer(c);
		}
		break;
	}
	case SIP_METHOD_INFO:
		info_dtmf(c, m);
		ua_srv_respond(s, 200, NULL, NULL);
		break;
	case SIP_METHOD_OPTIONS:
		ua_srv_respond(s, 200, NULL, &(struct ua_resp){ .extra = "Accept: application/sdp\r\n" });
		break;
	default:
		ua_srv_respond(s, 405, NULL, NULL);
		break;
	}
	return true;
}

bool ua_call_cancelled(struct ua_call *c, struct ua_srv *invite)
{
	if (c->srv != invite)
		return false;
	/* §9.2: the INVITE ends with 487 */
	ua_srv_respond(c->srv, 487, NULL, &(struct ua_resp){ .to_tag = c->local_tag });
	ua_srv_free(c->srv);
	c->srv = NULL;
	finish(c, UA_END_CANCELLED, 487, "cancelled by the caller");
	return true;
}

bool ua_call_answered(const struct ua_call *c)
{
	return c->t_answer != 0;
}

bool ua_call_ended(const struct ua_call *c)
{
	return c->st == ST_ENDED;
}

uint64_t ua_call_duration_ms(const struct ua_call *c)
{
	uint64_t end = c->t_end ? c->t_end : loop_now(ua_loop(c->ua));

	return c->t_answer ? end - c->t_answer : 0;
}

const char *ua_call_peer(const struct ua_call *c)
{
	return c->outgoing ? c->target : c->dlg.remote_uri;
}

void ua_call_stats(const struct ua_call *c, struct media_stats *st)
{
	if (c->media)
		media_get_stats(c->media, st);
	else
		memset(st, 0, sizeof(*st));
}

void ua_call_free(struct ua_call *c)
{
	if (!c)
		return;
	loop_timer_cancel(ua_loop(c->ua), &c->retx);
	loop_timer_cancel(ua_loop(c->ua), &c->later);
	loop_timer_cancel(ua_loop(c->ua), &c->rel_retx);
	loop_timer_cancel(ua_loop(c->ua), &c->st_timer);
	loop_timer_cancel(ua_loop(c->ua), &c->glare);
	ua_out_free(c->inv);
	ua_out_free(c->bye);
	ua_srv_free(c->srv);
	media_destroy(c->media);
	mem_free(c);
}
