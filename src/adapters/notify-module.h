/* notify-module.h: the notification server's side of the notifier, in a
 * module of its own (bouncewatch-notify.so, notify-server.c).
 *
 * libnotify pulls in gdk-pixbuf, libpng, libjpeg...: linked into the engine,
 * every engine run (each `hook` after `notmuch new`) mapped and relocated
 * them, while a notification is shown only when a surge starts or grows.
 * So the notifier (notify.c) loads this module with dlopen() when it is
 * first created, from the directory the engine module was loaded from (in
 * the build tree: .libs/ next to bouncewatch-engine.so; installed: both in
 * $(pkglibdir); BOUNCEWATCH_NOTIFY_MODULE names another).  The module is
 * never unloaded: libnotify registers GTypes.  Without it (or with one of
 * another version) the notifier says so once on stderr and has no server:
 * alerts go to the log, and the load is tried again before the next alert
 * (at most once a second: the agent runs for days, and a package upgrade
 * or a partial install may be put right meanwhile); said once when it
 * succeeds.
 *
 * The module only talks to the server: what an alert says is formatted by
 * notify.c (bw_alert_format), and the fallback to the log is notify.c's too.
 * Plain data crosses the boundary (the module links no part of the core). */
#ifndef BW_NOTIFY_MODULE_H
#define BW_NOTIFY_MODULE_H

#include "notify.h"

G_BEGIN_DECLS

typedef struct bw_notify_server bw_notify_server_t;

/* One notification.  Every string is ours or already made safe by the
 * caller (escaped when the server takes markup). */
typedef struct {
    const char *summary;
    const char *body;
    const char *icon;        /* icon name */
    const char *category;    /* or NULL */
    bool critical;           /* critical urgency, never expires */
    bool persistent;         /* normal urgency, never expires (a notice) */
    guint32 replaces_id;     /* update notification replaces_id in place; 0: new */
    /* The alert the actions are about: with a key, and a server that shows
     * actions asked for, the actions are offered; `campaign` (may be NULL)
     * adds "Mute this campaign". */
    const char *key;
    const char *campaign;
} bw_notify_message_t;

typedef struct {
    const char *version;     /* PACKAGE_VERSION of the module */
    /* Connect (as bw_notifier_new: never NULL, looks for a server). */
    bw_notify_server_t *(*open)(const char *app_name, bool with_actions,
                                bw_notifier_action_fn on_action, void *action_data);
    void (*close)(bw_notify_server_t *s);
    /* Looks for a server again while none answered. */
    void (*probe)(bw_notify_server_t *s);
    bool (*has_server)(const bw_notify_server_t *s);
    bool (*has_markup)(const bw_notify_server_t *s);
    bool (*has_actions)(const bw_notify_server_t *s);
    /* Show; false when the server failed (said on stderr).  *id_out gets
     * the notification's id. */
    bool (*show)(bw_notify_server_t *s, const bw_notify_message_t *m, guint32 *id_out);
    /* Close notification `id` (shown by this or another process). */
    void (*close_id)(bw_notify_server_t *s, guint32 id);
} bw_notify_module_t;

/* The module's one exported symbol. */
#define BW_NOTIFY_MODULE_SYMBOL "bw_notify_module"
const bw_notify_module_t *bw_notify_module(void);

G_END_DECLS

#endif /* BW_NOTIFY_MODULE_H */
