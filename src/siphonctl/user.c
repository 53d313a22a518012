/* siphonctl user add|del|list: the subscriber store (digest users) in the
 * data directory, used directly. The password comes from a no-echo prompt
 * on a terminal or from one line of stdin; it is hashed (subscriber/sub.h)
 * and wiped, never stored, echoed or logged. */
#include "siphonctl/ctl.h"

#include "base/fs.h"
#include "base/log.h"
#include "subscriber/sub.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_FAIL CTL_EXIT_FAIL
#define EXIT_USAGE CTL_EXIT_USAGE
#define PASSWORD_MAX 1024

/* mkdir -p, as siphond does for its own data directory. */
static int data_dir_prepare(const char *dir)
{
	char failed[PATH_MAX];
	int err = fs_mkdir_p(dir, 0750, failed, sizeof(failed));

	if (err == -EINVAL)
		fprintf(stderr, "siphonctl: bad data directory '%s'\n", dir);
	else if (err < 0)
		fprintf(stderr, "siphonctl: cannot create %s: %s\n", failed, strerror(-err));
	return err;
}

/* ---- password input ---- */

static struct termios tty_saved;
static volatile sig_atomic_t tty_changed;

static void tty_restore(void)
{
	if (tty_changed) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
		tty_changed = 0;
	}
}

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void on_signal(int signo)
{
	tty_restore();
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Read one line with read(2), byte by byte: no stdio buffer keeps a copy and
 * nothing after the newline is consumed. Returns the length (newline
 * stripped), -ENOSPC (too long) or -EIO. */
static int read_line(char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -EIO;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			OPENSSL_cleanse(buf, cap);
			return -ENOSPC;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

static int prompt(const char *text, char *buf, size_t cap)
{
	struct termios t = tty_saved;
	int n;

	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	fputs(text, stderr);
	fflush(stderr);
	tty_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0) {
		tty_changed = 0;
		return -errno;
	}
	n = read_line(buf, cap);
	tty_restore();
	return n;
}

/* The password into pw (NUL-terminated): on a terminal asked twice without
 * echo, otherwise exactly one line of stdin. Returns its length or -errno
 * (reason printed). */
static int password_read(char pw[PASSWORD_MAX])
{
	char again[PASSWORD_MAX];
	int n, m;

	if (!isatty(STDIN_FILENO)) {
		n = read_line(pw, PASSWORD_MAX);
	} else {
		if (tcgetattr(STDIN_FILENO, &tty_saved) < 0) {
			fprintf(stderr, "siphonctl: terminal: %s\n", strerror(errno));
			return -EIO;
		}
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		n = prompt("Password: ", pw, PASSWORD_MAX);
		m = n < 0 ? n : prompt("Retype password: ", again, sizeof(again));
		if (n >= 0 && m >= 0 && (n != m || memcmp(pw, again, (size_t)n) != 0)) {
			fprintf(stderr, "siphonctl: the passwords do not match\n");
			n = -EINVAL;
		} else if (m < 0) {
			n = m;
		}
		OPENSSL_cleanse(again, sizeof(again));
	}
	if (n == -ENOSPC)
		fprintf(stderr, "siphonctl: password longer than %d bytes\n", PASSWORD_MAX - 1);
	else if (n == 0)
		fprintf(stderr, "siphonctl: empty password refused\n");
	else if (n < 0 && n != -EINVAL)
		fprintf(stderr, "siphonctl: cannot read the password: %s\n", strerror(-n));
	if (n <= 0) {
		OPENSSL_cleanse(pw, PASSWORD_MAX);
		return n < 0 ? n : -EINVAL;
	}
	return n;
}

/* ---- user commands ---- */

struct aor {
	char buf[SUB_USER_MAX + SUB_DOMAIN_MAX + 2];
	struct str user, domain;
};

/* Check USER@DOMAIN; the domain is lowercased, as hostnames compare
 * case-insensitively (RFC 3261 §19.1.4) and the realm must be one string. */
static int aor_get(const char *arg, struct aor *a)
{
	const char *why = NULL;
	size_t n = strlen(arg);

	if (n >= sizeof(a->buf)) {
		fprintf(stderr, "siphonctl: '%s': too long\n", arg);
		return -EINVAL;
	}
	memcpy(a->buf, arg, n + 1);
	if (sub_aor_parse(str_make(a->buf, n), &a->user, &a->domain, &why) < 0) {
		fprintf(stderr, "siphonctl: '%s': %s\n", arg, why);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->domain.len; i++)
		a->buf[a->user.len + 1 + i] = (char)tolower((unsigned char)a->domain.s[i]);
	return 0;
}

static int user_add(struct sub *s, const struct aor *a, bool replace)
{
	char pw[PASSWORD_MAX];
	int n = password_read(pw), err;

	if (n < 0)
		return EXIT_FAIL;
	err = sub_add(s, a->user, a->domain, str_make(pw, (size_t)n), replace);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (err == -EEXIST) {
		fprintf(stderr, "siphonctl: %s already exists (use --replace)\n", a->buf);
		return EXIT_FAIL;
	}
	if (err < 0) {
		fprintf(stderr, "siphonctl: cannot add %s: %s\n", a->buf, strerror(-err));
		return EXIT_FAIL;
	}
	return 0;
}

static int user_del(struct sub *s, const struct aor *a)
{
	int err = sub_del(s, a->user, a->domain);

	if (err == -ENOENT) {
		fprintf(stderr, "siphonctl: %s not found\n", a->buf);
		return EXIT_FAIL;
	}
	if (err < 0) {
		fprintf(stderr, "siphonctl: cannot delete %s: %s\n", a->buf, strerror(-err));
		return EXIT_FAIL;
	}
	return 0;
}

static int print_entry(void *arg, const struct sub_entry *e)
{
	(void)arg;
	/* strongest first, as the challenges offer them (RFC 8760 §2.4) */
	printf("%.*s@%.*s  algorithms:%s%s\n", STR_FMT(e->user), STR_FMT(e->domain),
	       e->has_sha256 ? " SHA-256" : "", e->has_md5 ? " MD5" : "");
	return 0;
}

static int user_list(struct sub *s, const char *domain)
{
	struct str d;
	int err;

	if (domain) {
		char buf[SUB_DOMAIN_MAX + 1];
		size_t n = strlen(domain);

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1; /* too long to match anything anyway */
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)tolower((unsigned char)domain[i]);
		d = str_make(buf, n);
		err = sub_list(s, &d, print_entry, NULL);
	} else {
		err = sub_list(s, NULL, print_entry, NULL);
	}
	if (fflush(stdout) != 0 && !err)
		err = -EIO;
	if (err < 0) {
		fprintf(stderr, "siphonctl: cannot list: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	return 0;
}

enum cmd { CMD_ADD, CMD_DEL, CMD_LIST };

static int run(const char *data_dir, enum cmd cmd, const char *arg, bool replace)
{
	char path[PATH_MAX];
	struct aor a;
	struct sub *s = NULL;
	int rc, err;

	/* validate before touching the disk */
	if (cmd != CMD_LIST && aor_get(arg, &a) < 0)
		return EXIT_USAGE;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, SUB_DB_FILE) >=
	    sizeof(path)) {
		fprintf(stderr, "siphonctl: data directory path too long\n");
		return EXIT_USAGE;
	}
	if (data_dir_prepare(data_dir) < 0)
		return EXIT_FAIL;
	err = sub_open(&s, path);
	if (err < 0) {
		fprintf(stderr, "siphonctl: cannot open %s: %s\n", path, strerror(-err));
		return EXIT_FAIL;
	}
	switch (cmd) {
	case CMD_ADD:
		rc = user_add(s, &a, replace);
		break;
	case CMD_DEL:
		rc = user_del(s, &a);
		break;
	default:
		rc = user_list(s, arg);
		break;
	}
	sub_close(s);
	return rc;
}

int ctl_user(const struct ctl_opts *o, int argc, char **argv)
{
	const char *verb, *arg;
	enum cmd cmd;

	if (argc < 1)
		return CTL_BAD_ARGS;
	verb = argv[0];
	arg = argc > 1 ? argv[1] : NULL;
	if (!strcmp(verb, "add") && argc == 2)
		cmd = CMD_ADD;
	else if (!strcmp(verb, "del") && argc == 2 && !o->replace)
		cmd = CMD_DEL;
	else if (!strcmp(verb, "list") && argc <= 2 && !o->replace)
		cmd = CMD_LIST;
	else
		return CTL_BAD_ARGS;
	/* the sqlite layer logs its reasons through base/log */
	log_set_level(LOG_ERROR);
	return run(o->data_dir, cmd, arg, o->replace);
}
