#include "msg/scan.h"

#include <errno.h>

/* token octets are gen-value octets too */
#define T (SC_TOKEN | SC_GENVAL)
#define A (SC_ALNUM | T | SC_UNRESERVED | SC_WORD)
/* controls: no URI may hold them (prescan) and neither may <> */
#define C (SC_URISTOP | SC_NABAD)
#define W (C | SC_LWS) /* HTAB, CR (and SP below): LWS may start here */
/* non-ASCII: only a URI must reject it raw (UTF8-NONASCII is fine in <>) */
#define N SC_URISTOP
#define N16 N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N

/* Built by hand from RFC 3261 §25.1; indices are octets. */
const uint16_t sip_scan_class[256] = {
	[0x00] = C, C, C, C, C, C, C, C, C, W /* HTAB */, C, C, C, W /* CR */, C, C,
	[0x10] = C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	[' '] = W,
	[0x7f] = C,
	[0x80] = N16, N16, N16, N16, N16, N16, N16, N16,
	['0'] = A, ['1'] = A, ['2'] = A, ['3'] = A, ['4'] = A, ['5'] = A, ['6'] = A, ['7'] = A,
	['8'] = A, ['9'] = A,
	['a'] = A, ['b'] = A, ['c'] = A, ['d'] = A, ['e'] = A, ['f'] = A, ['g'] = A, ['h'] = A,
	['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A, ['o'] = A, ['p'] = A,
	['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A, ['u'] = A, ['v'] = A, ['w'] = A, ['x'] = A,
	['y'] = A, ['z'] = A,
	['A'] = A, ['B'] = A, ['C'] = A, ['D'] = A, ['E'] = A, ['F'] = A, ['G'] = A, ['H'] = A,
	['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A, ['O'] = A, ['P'] = A,
	['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A, ['U'] = A, ['V'] = A, ['W'] = A, ['X'] = A,
	['Y'] = A, ['Z'] = A,
	['-'] = T | SC_UNRESERVED | SC_WORD,
	['.'] = T | SC_UNRESERVED | SC_WORD,
	['!'] = T | SC_UNRESERVED | SC_WORD,
	['%'] = T | SC_WORD | SC_URISTOP,
	['*'] = T | SC_UNRESERVED | SC_WORD,
	['_'] = T | SC_UNRESERVED | SC_WORD,
	['+'] = T | SC_USER | SC_PARAM | SC_HNV | SC_PASSWORD | SC_WORD,
	['`'] = T | SC_WORD,
	['\''] = T | SC_UNRESERVED | SC_WORD,
	['~'] = T | SC_UNRESERVED | SC_WORD,
	['('] = SC_UNRESERVED | SC_WORD,
	[')'] = SC_UNRESERVED | SC_WORD,
	['&'] = SC_USER | SC_PARAM | SC_PASSWORD,
	['='] = SC_USER | SC_PASSWORD,
	['$'] = SC_USER | SC_PARAM | SC_HNV | SC_PASSWORD,
	[','] = SC_USER | SC_PASSWORD,
	[';'] = SC_USER,
	['?'] = SC_USER | SC_HNV | SC_WORD,
	['/'] = SC_USER | SC_PARAM | SC_HNV | SC_WORD,
	['['] = SC_GENVAL | SC_PARAM | SC_HNV | SC_WORD,
	[']'] = SC_GENVAL | SC_PARAM | SC_HNV | SC_WORD,
	[':'] = SC_GENVAL | SC_PARAM | SC_HNV | SC_WORD,
	['<'] = SC_WORD | SC_URISTOP | SC_NABAD,
	['>'] = SC_WORD | SC_URISTOP,
	['\\'] = SC_WORD,
	['"'] = SC_WORD | SC_NABAD,
	['{'] = SC_WORD,
	['}'] = SC_WORD,
};

void sc_skip_lws_slow(struct str *cur)
{
	size_t i = 0;

	for (;;) {
		while (i < cur->len && sc_wsp((unsigned char)cur->s[i]))
			i++;
		/* a folded line: CRLF followed by at least one WSP */
		if (i + 2 < cur->len && cur->s[i] == '\r' && cur->s[i + 1] == '\n' &&
		    sc_wsp((unsigned char)cur->s[i + 2])) {
			i += 2;
			continue;
		}
		break;
	}
	sc_advance(cur, i);
}

int sc_take_quoted(struct str *cur, struct str *out)
{
	size_t i = 1;

	if (cur->len == 0 || cur->s[0] != '"')
		return -EINVAL;
	while (i < cur->len) {
		unsigned char c = (unsigned char)cur->s[i];
		if (c == '"') {
			*out = str_make(cur->s, i + 1);
			sc_advance(cur, i + 1);
			return 0;
		}
		if (c == '\\') {
			/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
			if (i + 1 >= cur->len)
				return -EINVAL;
			c = (unsigned char)cur->s[i + 1];
			if (c == '\n' || c == '\r' || c > 0x7f)
				return -EINVAL;
			i += 2;
			continue;
		}
		if (c == '\r') {
			/* only folding may break a quoted string across lines */
			if (i + 2 < cur->len && cur->s[i + 1] == '\n' && sc_wsp((unsigned char)cur->s[i + 2])) {
				i += 3;
				continue;
			}
			return -EINVAL;
		}
		/* qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII */
		if (c < 0x20 && c != '\t')
			return -EINVAL;
		if (c == 0x7f)
			return -EINVAL;
		i++;
	}
	return -EINVAL;
}
