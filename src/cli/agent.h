/* agent.h: what `hook post-new` and `watch` share: deciding which surges to
 * alert about against the state store, and the D-Bus name of the agent. */
#ifndef BW_CLI_AGENT_H
#define BW_CLI_AGENT_H

#include "bw.h"
#include "bw-scan.h"
#include "notify.h"
#include "store.h"
#include <gio/gio.h>

/* The agent owns this name on the session bus while it runs; the hook then
 * leaves the alert to it (it has the main loop that actions need). */
#define BW_AGENT_BUS_NAME   "org.bouncewatch.Agent"
#define BW_AGENT_OBJECT     "/org/bouncewatch/Agent"
#define BW_AGENT_INTERFACE  "org.bouncewatch.Agent"

/* How long a stored alert of a campaign still counts as "the same surge"
 * when the surge's start hour moved: beyond this, a new surge of an old
 * campaign gets a notification of its own. */
#define BW_ALERT_SAME_SURGE_SECONDS (6 * 3600)
/* The last compromise alert shown (a surge or the signals' incident): a
 * compromise alert within this time of it updates it instead of raising
 * another (one takeover, one notification). */
#define BW_ALERT_COMPROMISE_KEY "compromise:last"
#define BW_ALERT_SAME_INCIDENT_SECONDS (7 * 86400)

/* A notmuch configuration value ("user.primary_email",
 * "bouncewatch.report_command"): its first line (g_free), or NULL. */
char *bw_agent_config_get(const char *key);

/* The owner's primary address as notmuch's config gives it (g_free), or NULL. */
char *bw_agent_owner(void);

/* Show or update one notification per ongoing surge of `result`, using and
 * updating the "notified" records of the state store at `state_path` (NULL:
 * the default).  A surge alerted before is shown again only when it grew,
 * and then in place.  *notifier may be NULL: a notifier without actions is
 * then created on the first alert actually due (the caller frees it), so a
 * run with nothing to show makes no D-Bus call.  *shown (may be NULL) gets
 * the number of notifications shown or updated.  Problems go to stderr;
 * returns BW_OK or the store's error. */
bw_status_t bw_agent_alert(bw_notifier_t **notifier, const bw_scan_result_t *result,
                           const char *state_path, gint64 now, unsigned *shown);

/* After the hook's alerts for `result` (made from save `save` of the state
 * `store`, the scan's open connection (scanner.h: store_out), or when NULL
 * the one at `state_path`, at `now`): when every alert due is recorded as shown
 * under its own key with at least its count, and the state is still at
 * that save, mark the save settled until the surges can change
 * (bw_surges_same_until), all in one transaction, so that the next runs
 * with nothing new stop after reading the state (scanner.h,
 * BW_SCANNER_SETTLED_META).  Otherwise (an alert not shown: --no-notify,
 * the state was busy, the agent has not shown it yet) nothing is written
 * and the next run goes the long way and retries it.  Quiet: a failure
 * only costs the next run its shortcut. */
void bw_agent_settle(const bw_scan_result_t *result, bw_store_t *store, const char *state_path,
                     gint64 now, guint64 save);

/* The agent owns BW_AGENT_BUS_NAME on the session bus (no bus: FALSE).
 * Bounded by a short timeout: the hook must stay fast. */
gboolean bw_agent_is_running(GDBusConnection *bus);

#endif
