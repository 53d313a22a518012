/* Header lines of a registrar's 200 (OK) (RFC 3261 §10.3 step 8): every
 * current binding with its remaining interval, Path (RFC 3327 §5.3), Date. */
#include "registrar/reg.h"

#include <errno.h>
#include <stdio.h>

/* Fixed bytes of one Contact line besides the URI, instance and path. */
#define LINE_OVERHEAD (sizeof("Contact: <>;expires=4294967295;q=0.000;+sip.instance=;reg-id=4294967295\r\n"))
#define DATE_LEN (sizeof("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"))

size_t reg_response_headers_size(const struct loc_binding *b, size_t n, struct str path)
{
	size_t need = DATE_LEN + 1;

	for (size_t i = 0; i < n; i++)
		need += LINE_OVERHEAD + b[i].contact.len + b[i].instance.len;
	if (path.len)
		need += sizeof("Path: \r\n") + path.len;
	return need;
}

struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(struct out *o, unsigned long v)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%lu", v);

	put(o, tmp, (size_t)k);
}

/* q per-mille as a qvalue without trailing zeros: 500 -> "0.5". */
static void putq(struct out *o, unsigned q)
{
	char tmp[8] = "0.";
	size_t k = 2;

	if (!q) {
		put(o, "0", 1);
		return;
	}
	for (unsigned d = 100; d && q; d /= 10) {
		tmp[k++] = (char)('0' + q / d);
		q %= d;
	}
	put(o, tmp, k);
}

/* rfc1123-date (§20.17, §25.1), independent of the locale. */
static void putdate(struct out *o, time_t now)
{
	static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char tmp[48];
	struct tm tm;
	int k;

	gmtime_r(&now, &tm);
	k = snprintf(tmp, sizeof(tmp), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
		     wd[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12], tm.tm_year + 1900,
		     tm.tm_hour, tm.tm_min, tm.tm_sec);
	put(o, tmp, (size_t)k);
}

int reg_response_headers(char *out, size_t cap, const struct loc_binding *b, size_t n,
			 struct str path, time_t now)
{
	struct out o = { .p = out, .cap = cap };

	for (size_t i = 0; i < n; i++) {
		puts_(&o, "Contact: <");
		put(&o, b[i].contact.s, b[i].contact.len);
		puts_(&o, ">;expires=");
		putu(&o, b[i].expires > now ? (unsigned long)(b[i].expires - now) : 0);
		if (b[i].q < 1000) {
			puts_(&o, ";q=");
			putq(&o, b[i].q);
		}
		if (b[i].instance.len) {
			/* RFC 5626 §6: the flow's identity goes back to the UA */
			puts_(&o, ";+sip.instance=");
			put(&o, b[i].instance.s, b[i].instance.len);
			if (b[i].reg_id) {
				puts_(&o, ";reg-id=");
				putu(&o, b[i].reg_id);
			}
		}
		puts_(&o, "\r\n");
	}
	if (path.len) {
		puts_(&o, "Path: ");
		put(&o, path.s, path.len);
		puts_(&o, "\r\n");
	}
	putdate(&o, now);
	if (o.full || o.len > INT32_MAX)
		return -ENOSPC;
	return (int)o.len;
}
