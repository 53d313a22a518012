/* Transaction timers on a timing wheel (base/wheel.h), for environments
 * whose event loop owns one (the loop keeps it at its current time). */
#include "tsx/tsx.h"

static void on_wheel(void *arg)
{
	struct tsx_timer *tm = arg;
	struct tsx *t = tm->tsx;

	/* the firing may terminate t: hold it until unlocked */
	tsx_ref(t);
	tsx_lock(t);
	tsx_timer_fire(tm);
	tsx_unlock(t);
	tsx_unref(t);
}

void tsx_wheel_start(struct wheel *w, struct tsx_timer *tm, uint32_t ms)
{
	wheel_start(w, &tm->env.wt, ms, on_wheel, tm);
}

void tsx_wheel_stop(struct wheel *w, struct tsx_timer *tm)
{
	wheel_stop(w, &tm->env.wt);
}
