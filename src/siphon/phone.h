/* What `siphon call` and `siphon listen` share: the UA with its incoming
 * request handler (in-dialog requests to their call, MESSAGE printed, new
 * INVITEs to the listener), the calls in progress, and the progress lines
 * and --json events of a call. */
#ifndef SIPHON_SIPHON_PHONE_H
#define SIPHON_SIPHON_PHONE_H

#include "siphon/cli.h"
#include "ua/call.h"
#include "ua/reg.h"

#define PHONE_CALLS 8

struct phone;

/* A new INVITE outside a dialog (listen); NULL: 486 Busy Here... no: 405. */
typedef void (*phone_invite_fn)(struct phone *p, struct ua_srv *s);
/* A call ended (after its event was printed). */
typedef void (*phone_ended_fn)(struct phone *p, struct ua_call *c, const struct ua_call_info *i);
typedef void (*phone_answered_fn)(struct phone *p, struct ua_call *c);
/* 'q' typed in --interactive mode. */
typedef void (*phone_quit_fn)(struct phone *p);

struct phone {
	struct cli_opts *o;
	struct ua *ua;
	struct ua_reg *reg;
	struct ua_call *calls[PHONE_CALLS];
	struct ua_call *dead[PHONE_CALLS]; /* ended, freed from the loop */
	struct loop_timer reap;
	phone_invite_fn on_invite;
	phone_ended_fn on_ended;
	phone_answered_fn on_answered;
	phone_quit_fn on_quit;
	char line[256];    /* --interactive: the line being typed */
	size_t line_len;
	bool stdin_on;
	void *arg;
	unsigned messages, dtmf;
};

/* Create the UA for p->o and install the handlers. Returns an exit status. */
int phone_init(struct phone *p);
void phone_fini(struct phone *p);
/* The call configuration with p's callback (play/record from the options). */
void phone_call_cfg(struct phone *p, struct ua_call_cfg *cfg);
int phone_add(struct phone *p, struct ua_call *c);
size_t phone_ncalls(const struct phone *p);
/* Exit status for how a call ended. */
int phone_end_status(const struct ua_call_info *i);

#endif
