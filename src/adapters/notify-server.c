/* notify-server.c: the notification server, through libnotify; the module
 * bouncewatch-notify.so (see notify-module.h).  The only file that includes
 * libnotify. */
#include "config.h"
#include "notify-module.h"
#include <glib/gi18n.h>
#include <libnotify/notify.h>
#include <stdio.h>
#include <string.h>

/* libnotify 0.8.1 defines no autoptr cleanup. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NotifyNotification, g_object_unref)

/* Notifications the agent keeps alive to receive their actions.  Surges are
 * rare; the bound only guards against a runaway. */
#define BW_NOTIFIER_LIVE_MAX 32

struct bw_notify_server {
    char *app_name;
    bool want_actions;       /* the caller can receive actions */
    bool initialised;        /* notify_init succeeded: call notify_uninit */
    bool server;
    bool markup;
    bool actions;
    bw_notifier_action_fn on_action;
    void *action_data;
    /* key -> NotifyNotification*: kept alive while their actions may fire. */
    GHashTable *live;
    GQueue live_order;       /* char* keys (owned by `live`), oldest first */
};

typedef struct {
    bw_notify_server_t *n;
    bw_action_t action;
    char *key;
    char *campaign;
} action_ctx_t;

static void
action_ctx_free(gpointer p)
{
    action_ctx_t *c = p;
    g_free(c->key);
    g_free(c->campaign);
    g_free(c);
}

static bool
has_cap(GList *caps, const char *cap)
{
    for (GList *l = caps; l != NULL; l = l->next)
        if (l->data != NULL && strcmp(l->data, cap) == 0)
            return true;
    return false;
}

/* Look for a notification server.  Called again before an alert while none
 * was found: the agent may start before the desktop's notification daemon. */
static void
probe_server(bw_notify_server_t *n)
{
    /* Without a session bus libnotify would only fail later, at show time,
     * after GDBus has logged warnings: look first, quietly. */
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
    if (bus == NULL)
        return;
    if (!n->initialised) {
        if (!notify_is_initted() && !notify_init(n->app_name))
            return;
        n->initialised = true;
    }
    char *name = NULL, *vendor = NULL, *version = NULL, *spec = NULL;
    if (notify_get_server_info(&name, &vendor, &version, &spec)) {
        n->server = true;
        GList *caps = notify_get_server_caps();
        n->markup = has_cap(caps, "body-markup");
        n->actions = n->want_actions && n->on_action != NULL && has_cap(caps, "actions");
        g_list_free_full(caps, g_free);
    }
    g_free(name);
    g_free(vendor);
    g_free(version);
    g_free(spec);
}

static bw_notify_server_t *
server_open(const char *app_name, bool with_actions, bw_notifier_action_fn on_action,
            void *action_data)
{
    bw_notify_server_t *n = g_new0(bw_notify_server_t, 1);
    n->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    g_queue_init(&n->live_order);
    n->app_name = g_strdup(app_name ? app_name : "bouncewatch");
    n->want_actions = with_actions;
    n->on_action = on_action;
    n->action_data = action_data;
    probe_server(n);
    return n;
}

static void
server_close(bw_notify_server_t *n)
{
    if (n == NULL)
        return;
    g_queue_clear(&n->live_order);
    g_hash_table_destroy(n->live);
    if (n->initialised)
        notify_uninit();
    g_free(n->app_name);
    g_free(n);
}

static void
server_probe(bw_notify_server_t *n)
{
    if (!n->server)
        probe_server(n);
}

static bool
server_has_server(const bw_notify_server_t *n)
{
    return n->server;
}

static bool
server_has_markup(const bw_notify_server_t *n)
{
    return n->markup;
}

static bool
server_has_actions(const bw_notify_server_t *n)
{
    return n->actions;
}

static void
forget_live(bw_notify_server_t *n, const char *key)
{
    GList *l = g_queue_find_custom(&n->live_order, key, (GCompareFunc)strcmp);
    if (l != NULL)
        g_queue_delete_link(&n->live_order, l);
    g_hash_table_remove(n->live, key);
}

static void
on_action_cb(NotifyNotification *nn, char *action, gpointer data)
{
    action_ctx_t *c = data;
    if (c->n->on_action != NULL)
        c->n->on_action(c->n->action_data, c->action, c->key, c->campaign);
    (void)nn;
    (void)action;
}

static void
on_closed_cb(NotifyNotification *nn, gpointer data)
{
    bw_notify_server_t *n = data;
    /* Closed by the user or expired: no action can come any more. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, n->live);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (v == nn) {
            g_autofree char *key = g_strdup(k);
            forget_live(n, key);
            return;
        }
    }
}

static void
add_action(bw_notify_server_t *n, NotifyNotification *nn, const bw_notify_message_t *m,
           const char *id, bw_action_t action, const char *label)
{
    action_ctx_t *c = g_new0(action_ctx_t, 1);
    c->n = n;
    c->action = action;
    c->key = g_strdup(m->key);
    c->campaign = g_strdup(m->campaign);
    notify_notification_add_action(nn, id, label, on_action_cb, c, action_ctx_free);
}

static bool
server_show(bw_notify_server_t *n, const bw_notify_message_t *m, guint32 *id_out)
{
    if (id_out != NULL)
        *id_out = 0;
    /* The "id" property makes the server replace notification `replaces_id`
     * even when another process (the hook, an earlier agent) showed it. */
    g_autoptr(NotifyNotification) nn = g_object_new(NOTIFY_TYPE_NOTIFICATION,
        "id", (gint)MIN(m->replaces_id, (guint32)G_MAXINT32),
        "summary", m->summary, "body", m->body, "icon-name", m->icon, NULL);
    notify_notification_set_app_name(nn, "bouncewatch");
    if (m->category != NULL)
        notify_notification_set_category(nn, m->category);
    notify_notification_set_hint_string(nn, "desktop-entry", "bouncewatch");
    if (m->critical) {
        /* The spec: critical notifications should not expire on their own. */
        notify_notification_set_urgency(nn, NOTIFY_URGENCY_CRITICAL);
        notify_notification_set_timeout(nn, NOTIFY_EXPIRES_NEVER);
    } else {
        notify_notification_set_urgency(nn, NOTIFY_URGENCY_NORMAL);
        notify_notification_set_timeout(nn, m->persistent ? NOTIFY_EXPIRES_NEVER
                                                          : NOTIFY_EXPIRES_DEFAULT);
    }
    bool actions = n->actions && m->key != NULL;
    if (actions) {
        add_action(n, nn, m, "default", BW_ACTION_SHOW_REPORT, _("Show report"));
        add_action(n, nn, m, "show-report", BW_ACTION_SHOW_REPORT, _("Show report"));
        add_action(n, nn, m, "secure", BW_ACTION_SECURE, _("How to secure my account"));
        if (m->campaign != NULL)
            add_action(n, nn, m, "mute", BW_ACTION_MUTE, _("Mute this campaign"));
    }
    g_autoptr(GError) err = NULL;
    if (!notify_notification_show(nn, &err)) {
        fprintf(stderr, "bouncewatch: %s: %s\n", _("the notification server failed"),
                err ? err->message : "?");
        return false;
    }
    gint id = 0;
    g_object_get(nn, "id", &id, NULL);
    if (id_out != NULL)
        *id_out = (guint32)MAX(id, 0);
    if (actions) {
        /* Keep the object: its action signals arrive on the main loop.  An
         * update replaces the earlier object of the same surge. */
        forget_live(n, m->key);
        g_signal_connect(nn, "closed", G_CALLBACK(on_closed_cb), n);
        char *key = g_strdup(m->key);
        g_hash_table_insert(n->live, key, g_object_ref(nn));
        g_queue_push_tail(&n->live_order, key);
        while (g_queue_get_length(&n->live_order) > BW_NOTIFIER_LIVE_MAX) {
            g_autofree char *old = g_strdup(g_queue_peek_head(&n->live_order));
            forget_live(n, old);
        }
    }
    return true;
}

static void
server_close_id(bw_notify_server_t *n, guint32 id)
{
    if (id == 0 || !n->server)
        return;
    g_autoptr(NotifyNotification) nn = g_object_new(NOTIFY_TYPE_NOTIFICATION,
        "id", (gint)MIN(id, (guint32)G_MAXINT32), "summary", "", NULL);
    (void)notify_notification_close(nn, NULL);
}

static const bw_notify_module_t module = {
    .version = PACKAGE_VERSION,
    .open = server_open,
    .close = server_close,
    .probe = server_probe,
    .has_server = server_has_server,
    .has_markup = server_has_markup,
    .has_actions = server_has_actions,
    .show = server_show,
    .close_id = server_close_id,
};

const bw_notify_module_t *
bw_notify_module(void)
{
    return &module;
}
