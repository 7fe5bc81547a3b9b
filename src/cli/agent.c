/* agent.c: alert decisions shared by `hook post-new` and `watch`. */
#include "config.h"
#include "agent.h"
#include "cli.h"
#include "store.h"
#include "scanner.h"
#include <stdio.h>
#include <string.h>

char *
bw_agent_config_get(const char *key)
{
    /* Only the nm-*.c adapters link notmuch's API; notmuch's own CLI reads
     * the configuration exactly as the scan does (same NOTMUCH_CONFIG and
     * NOTMUCH_PROFILE lookup).  It runs only at start-up or when an alert
     * is due, never in the idle path. */
    const char *argv[] = { "notmuch", "config", "get", key, NULL };
    g_autofree char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL) || out == NULL)
        return NULL;
    /* A list value comes one item per line: the first one. */
    char *nl = strchr(out, '\n');
    if (nl != NULL)
        *nl = '\0';
    g_strstrip(out);
    return *out != '\0' ? g_steal_pointer(&out) : NULL;
}

char *
bw_agent_owner(void)
{
    g_autofree char *v = bw_agent_config_get("user.primary_email");
    return v != NULL ? bw_address_normalize(v) : NULL;
}

/* The stored alert of this surge: by its key, else by its campaign when that
 * campaign was alerted recently (the detector may move a growing surge's
 * start hour; the campaign id is stable). */
static bw_status_t
find_notified(bw_store_t *store, const bw_alert_t *a, gint64 now, bool *found,
              guint32 *id, unsigned *count)
{
    gint64 when = 0;
    bw_status_t st = bw_store_get_notified(store, a->key, found, id, count, &when);
    if (st != BW_OK || *found)
        return st;
    if (a->campaign != NULL) {
        g_autofree char *ckey = g_strdup_printf("campaign:%s", a->campaign);
        st = bw_store_get_notified(store, ckey, found, id, count, &when);
        if (st == BW_OK && *found && now - when > BW_ALERT_SAME_SURGE_SECONDS)
            *found = false;
        if (st != BW_OK || *found)
            return st;
    }
    /* One takeover, one notification (SPEC 2a): a compromise alert takes
     * over the last one shown (a surge of the run's reports before the
     * signals were seen, or the incident under an earlier name: a notice
     * that arrived late names it by an earlier signal). */
    if (a->status == BW_STATUS_COMPROMISE_SUSPECTED) {
        st = bw_store_get_notified(store, BW_ALERT_COMPROMISE_KEY, found, id, count, &when);
        if (st == BW_OK && *found && now - when > BW_ALERT_SAME_INCIDENT_SECONDS)
            *found = false;
    }
    return st;
}

typedef struct {
    bw_notifier_t **notifier;  /* created on first use when *notifier is NULL */
    char *owner;               /* looked up on first use */
    bool owner_known;
    unsigned shown;
} alert_ctx_t;

static bw_status_t
alert_one(bw_store_t *store, alert_ctx_t *ctx, bw_alert_t *a, gint64 now)
{
    bool found = false;
    guint32 id = 0;
    unsigned count = 0;
    bw_status_t st = find_notified(store, a, now, &found, &id, &count);
    if (st != BW_OK)
        return st;
    /* Growth updates the notification in place; no growth, no noise. */
    if (found && a->count <= count)
        return BW_OK;
    /* Only now the costlier parts: the owner's address (a notmuch process)
     * and the notification server (D-Bus round trips). */
    if (!ctx->owner_known) {
        ctx->owner = bw_agent_owner();
        ctx->owner_known = true;
    }
    g_free(a->owner);
    a->owner = g_strdup(ctx->owner);
    if (*ctx->notifier == NULL)
        *ctx->notifier = bw_notifier_new("bouncewatch", false, NULL, NULL);
    guint32 new_id = 0;
    st = bw_notifier_show(*ctx->notifier, a, found ? id : 0, &new_id);
    if (st != BW_OK)
        return st;
    ctx->shown++;
    /* Without a server the id is 0; the count is still recorded, so the log
     * gets one line per growth, not one per scan. */
    st = bw_store_set_notified(store, a->key, new_id, a->count, now);
    if (st == BW_OK && a->campaign != NULL) {
        g_autofree char *ckey = g_strdup_printf("campaign:%s", a->campaign);
        st = bw_store_set_notified(store, ckey, new_id, a->count, now);
    }
    if (st == BW_OK && a->status == BW_STATUS_COMPROMISE_SUSPECTED)
        st = bw_store_set_notified(store, BW_ALERT_COMPROMISE_KEY, new_id, a->count, now);
    return st;
}

bw_status_t
bw_agent_alert(bw_notifier_t **notifier, const bw_scan_result_t *result,
               const char *state_path, gint64 now, unsigned *shown_out)
{
    if (shown_out != NULL)
        *shown_out = 0;
    /* Cheap check first: most runs have no surge under way. */
    g_autoptr(GPtrArray) alerts = bw_alerts_from_result(result, NULL, now, NULL, NULL);
    if (alerts->len == 0)
        return BW_OK;

    g_autofree char *default_path = NULL;
    if (state_path == NULL)
        state_path = default_path = bw_scanner_default_state_path();
    g_autoptr(bw_store_t) store = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_store_open(state_path, &store, NULL, &detail);
    if (st != BW_OK) {
        fprintf(stderr, _("bouncewatch: cannot open the state %s: %s\n"), state_path,
                detail ? detail : bw_status_to_string(st));
        return st;
    }
    /* One transaction: the hook and the agent may both see the surge; the
     * second one waits here and then finds the first one's record.  Durable
     * at its commit: the notifications are shown already. */
    g_clear_pointer(&detail, g_free);
    st = bw_store_begin_durable(store, &detail);
    if (st != BW_OK) {
        fprintf(stderr, _("bouncewatch: the state is busy: %s\n"),
                detail ? detail : bw_status_to_string(st));
        return st;
    }
    alert_ctx_t ctx = { .notifier = notifier };
    for (guint i = 0; i < alerts->len && st == BW_OK; i++)
        st = alert_one(store, &ctx, g_ptr_array_index(alerts, i), now);
    g_free(ctx.owner);
    if (st != BW_OK) {
        bw_store_rollback(store);
        fprintf(stderr, _("bouncewatch: cannot record the alert: %s\n"),
                bw_status_to_string(st));
        return st;
    }
    g_clear_pointer(&detail, g_free);
    st = bw_store_commit(store, &detail);
    if (st != BW_OK)
        fprintf(stderr, _("bouncewatch: cannot record the alert: %s\n"),
                detail ? detail : bw_status_to_string(st));
    if (shown_out != NULL)
        *shown_out = ctx.shown;
    return st;
}

void
bw_agent_settle(const bw_scan_result_t *result, bw_store_t *store, const char *state_path,
                gint64 now, guint64 save)
{
    if (result == NULL || save == 0)
        return;
    g_autoptr(GPtrArray) alerts = bw_alerts_from_result(result, NULL, now, NULL, NULL);
    g_autofree char *default_path = NULL;
    if (state_path == NULL)
        state_path = default_path = bw_scanner_default_state_path();
    g_autoptr(bw_store_t) own = NULL;
    if (store == NULL && bw_store_open(state_path, &own, NULL, NULL) == BW_OK)
        store = own;
    if (store == NULL || bw_store_begin(store, NULL) != BW_OK)
        return;
    g_autofree char *saves = NULL;
    bw_store_get_meta(store, "saves", &saves);
    bool settled = saves != NULL && g_ascii_strtoull(saves, NULL, 10) == save;
    for (guint i = 0; i < alerts->len && settled; i++) {
        const bw_alert_t *a = g_ptr_array_index(alerts, i);
        bool found = false;
        guint32 id = 0;
        unsigned count = 0;
        gint64 when = 0;
        /* Its own key only: a match by campaign or by the last compromise
         * alert holds for a time (find_notified), the marker for longer. */
        settled = bw_store_get_notified(store, a->key, &found, &id, &count, &when) == BW_OK &&
                  found && count >= a->count;
    }
    g_autofree char *value = settled ? bw_scanner_settled_value(
        save, now, bw_surges_same_until(result->items, now)) : NULL;
    if (settled && bw_store_set_meta(store, BW_SCANNER_SETTLED_META, value) == BW_OK)
        bw_store_commit(store, NULL);
    else
        bw_store_rollback(store);
}

gboolean
bw_agent_is_running(GDBusConnection *bus)
{
    if (bus == NULL)
        return FALSE;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus,
        "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "NameHasOwner", g_variant_new("(s)", BW_AGENT_BUS_NAME), G_VARIANT_TYPE("(b)"),
        G_DBUS_CALL_FLAGS_NO_AUTO_START, 500, NULL, NULL);
    gboolean has = FALSE;
    if (reply != NULL)
        g_variant_get(reply, "(b)", &has);
    return has;
}
