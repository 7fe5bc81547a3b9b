/* notify.h: desktop alerts about backscatter surges.
 *
 * Two layers:
 *   - bw_alert_t and its functions are plain data: which surges deserve an
 *     alert (bw_alerts_from_result) and what the alert says (bw_alert_format).
 *     They need no display and are unit-tested.
 *   - bw_notifier_t wraps libnotify (notify.c is the only file that includes
 *     it).  One notification per surge: a later call with the id of the
 *     earlier notification updates it in place (replaces_id), which works
 *     across processes, so the hook and the agent can share one notification
 *     through the id kept in the state store.  With no notification server
 *     (no D-Bus session, no daemon) the alert is written to stderr, which the
 *     journal collects under systemd, and the call still succeeds.
 *
 * Every piece of text that comes from mail (subjects, addresses, names) is
 * untrusted: the body of a notification takes markup, so it is escaped with
 * g_markup_escape_text; the stderr fallback drops control characters. */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include "bw.h"
#include "bw-scan.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ alerts */

typedef struct {
    char *key;               /* stable identity of the surge (see notify.c) */
    char *campaign;          /* id of its largest unmuted campaign, or NULL */
    unsigned count;          /* backscatter reports in the surge so far */
    unsigned n_campaigns;    /* unmuted campaigns in the surge */
    gint64 start;            /* the surge's first report (Unix time) */
    gint64 end;              /* surge end (Unix time) */
    bw_assessment_status_t status;
    char *owner;             /* the mailbox owner's address, or NULL */
    char *subject;           /* a sample forged subject (untrusted), or NULL */
    char *forged_sender;     /* a forged sender (untrusted), or NULL */
    char *first_step;        /* the first piece of advice (translated), or NULL */
    /* An incident the signals made compromise-suspected (SPEC 2a, 2b): what
     * they say (translated, may quote addresses: untrusted), or NULL for a
     * surge alone.  Its key is the incident's ("incident:KIND:ID"); the
     * surges under way belong to it and get no alert of their own. */
    char *signals_summary;
    unsigned n_signals;      /* signals of the incident (count adds the
                                run's messages and the surges' reports) */
} bw_alert_t;

/* An incident's signals alert while its newest signal is at most this old:
 * older ones are history, for the report. */
#define BW_ALERT_INCIDENT_RECENT_SECONDS (7 * 86400)

bw_alert_t *bw_alert_new(void);
void bw_alert_free(bw_alert_t *alert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_alert_t, bw_alert_free)

/* The alerts a scan result calls for: one for the signals' incident when
 * they make compromise-suspected and it is recent (its surges under way
 * fold into it), else one per surge that is ongoing at `now`
 * (its window reaches now), leaving out surges whose campaigns are all muted
 * (bw_campaign_t.muted, or `is_muted` when non-NULL says so).  `owner` is the
 * owner's primary address (may be NULL).  Returns a GPtrArray of bw_alert_t*
 * (free with g_ptr_array_unref), possibly empty, never NULL. */
typedef bool (*bw_alert_muted_fn)(void *data, const char *campaign);
GPtrArray *bw_alerts_from_result(const bw_scan_result_t *result, const char *owner,
                                 gint64 now, bw_alert_muted_fn is_muted,
                                 void *muted_data);

/* Summary (plain text: servers do not render markup in it) and body of an
 * alert, translated.  With `markup` the body is for a server with the
 * body-markup capability: untrusted text is escaped and a few words are
 * bold; without, it is plain text with control characters removed.  Both
 * outputs are g_malloc'd. */
void bw_alert_format(const bw_alert_t *alert, bool markup,
                     char **summary_out, char **body_out);

/* ------------------------------------------------------------ notifier */

typedef enum {
    BW_ACTION_SHOW_REPORT = 0,  /* "Show report" (also a click: "default") */
    BW_ACTION_SECURE,           /* "How to secure my account" */
    BW_ACTION_MUTE,             /* "Mute this campaign" */
} bw_action_t;

/* Action ids as sent to the server ("show-report", "secure", "mute"). */
const char *bw_action_to_string(bw_action_t action);

/* Called on the main loop when the user picks an action; `key` and
 * `campaign` (may be NULL) are those of the alert. */
typedef void (*bw_notifier_action_fn)(void *data, bw_action_t action,
                                      const char *key, const char *campaign);

typedef struct bw_notifier bw_notifier_t;

/* Connect to the notification server.  Never NULL: without a server the
 * notifier falls back to logging, and looks for a server again before each
 * alert (the agent may start before the desktop's notification daemon).  `with_actions`: offer the actions (only a
 * process with a running main loop, i.e. the agent, can receive them). */
bw_notifier_t *bw_notifier_new(const char *app_name, bool with_actions,
                               bw_notifier_action_fn on_action, void *action_data);
void bw_notifier_free(bw_notifier_t *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_notifier_t, bw_notifier_free)

/* A notification server answered. */
bool bw_notifier_has_server(const bw_notifier_t *n);
/* The notification module is loaded (without it there is no server to ask,
 * whatever the session has: bw_notifier_new said why on stderr; it is tried
 * again before each later alert). */
bool bw_notifier_has_module(const bw_notifier_t *n);
/* The server shows actions (capability "actions") and actions were asked. */
bool bw_notifier_has_actions(const bw_notifier_t *n);

/* Show an alert, or update notification `replaces_id` in place (0: a new
 * one).  *id_out (may be NULL) receives the id to pass next time (0 when the
 * alert went to the log).  Falls back to the log when the server fails;
 * always returns BW_OK unless `alert` is NULL (BW_E_INVALID). */
bw_status_t bw_notifier_show(bw_notifier_t *n, const bw_alert_t *alert,
                             guint32 replaces_id, guint32 *id_out);

/* Show a notice of bouncewatch's own (not an alert about mail): "not
 * configured", say.  `summary` and `body` are our own plain text (escaped
 * for a markup server all the same: the body may quote an address read from
 * mail).  It stays until the user closes it.  It is also written to stderr
 * (the journal), with a server or without.  *id_out (may be NULL) as for bw_notifier_show. */
bw_status_t bw_notifier_show_notice(bw_notifier_t *n, const char *summary, const char *body,
                                    guint32 replaces_id, guint32 *id_out);

/* Close notification `id` (shown by this or another process); 0: nothing. */
void bw_notifier_close(bw_notifier_t *n, guint32 id);

/* Whether the notification server's module (bouncewatch-notify.so, which
 * holds libnotify: notify-module.h) can be loaded; it is loaded if so.
 * *path_out (may be NULL): where it was looked for; *why_out (may be NULL):
 * why it could not be, or NULL.  Both g_malloc'd.  Without it every alert
 * goes to the log. */
bool bw_notify_module_check(char **path_out, char **why_out);

G_END_DECLS

#endif /* BW_NOTIFY_H */
