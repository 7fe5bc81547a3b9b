/* notify.c: desktop alerts (see notify.h).  The notification server is
 * reached through the module bouncewatch-notify.so (notify-server.c, the
 * only file that includes libnotify), loaded when a notifier is first
 * created (notify-module.h). */
#include "config.h"
#include "notify.h"
#include "notify-module.h"
#include "bw-signals.h"
#include <dlfcn.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#ifndef BW_NOTIFY_MODULE_PATH
#define BW_NOTIFY_MODULE_PATH "/usr/local/lib/bouncewatch/bouncewatch-notify.so"
#endif
#define BW_NOTIFY_MODULE_NAME "bouncewatch-notify.so"

/* Untrusted text is cut to this many characters: a 10 KB subject must not
 * fill the screen (or the server's memory) and push the advice out of view. */
#define BW_ALERT_TEXT_MAX 120

/* ------------------------------------------------------------ alerts */

bw_alert_t *
bw_alert_new(void)
{
    return g_new0(bw_alert_t, 1);
}

void
bw_alert_free(bw_alert_t *a)
{
    if (a == NULL)
        return;
    g_free(a->key);
    g_free(a->campaign);
    g_free(a->owner);
    g_free(a->subject);
    g_free(a->forged_sender);
    g_free(a->first_step);
    g_free(a->signals_summary);
    g_free(a);
}

static const bw_campaign_t *
find_campaign(const bw_scan_result_t *r, const char *id)
{
    if (r->campaigns == NULL || id == NULL)
        return NULL;
    for (guint i = 0; i < r->campaigns->len; i++) {
        const bw_campaign_t *c = g_ptr_array_index(r->campaigns, i);
        if (c->id != NULL && strcmp(c->id, id) == 0)
            return c;
    }
    return NULL;
}

static const char *
first_string(const GPtrArray *a)
{
    return (a != NULL && a->len > 0) ? g_ptr_array_index(a, 0) : NULL;
}

/* Backscatter reports of muted campaigns inside the surge's window. */
static unsigned
count_muted(const bw_scan_result_t *r, const bw_surge_t *s, bw_alert_muted_fn is_muted,
            void *muted_data)
{
    unsigned n = 0;
    for (guint i = 0; r->items != NULL && i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->campaign == NULL ||
            it->date_unix < s->start || it->date_unix > s->end)
            continue;
        const bw_campaign_t *c = find_campaign(r, it->campaign);
        if ((c != NULL && c->muted) || (is_muted != NULL && is_muted(muted_data, it->campaign)))
            n++;
    }
    return n;
}

/* When the surge really began: its first backscatter report.  The window
 * starts on the hour ("Since 00:00" for a first report at 00:25). */
static gint64
first_report(const bw_scan_result_t *r, const bw_surge_t *s)
{
    gint64 first = G_MAXINT64;
    for (guint i = 0; r->items != NULL && i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        if (it->klass == BW_CLASS_BACKSCATTER && it->date_unix >= s->start &&
            it->date_unix <= s->end)
            first = MIN(first, it->date_unix);
    }
    return first != G_MAXINT64 ? first : s->start;
}

GPtrArray *
bw_alerts_from_result(const bw_scan_result_t *r, const char *owner, gint64 now,
                      bw_alert_muted_fn is_muted, void *muted_data)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)bw_alert_free);
    if (r == NULL)
        return out;
    /* The signals' incident: one alert for the takeover, whatever shows it
     * (notices, the run in Sent, replies, the surge of its reports). */
    const bw_signals_assessment_t *sa = r->signals_assessment;
    bw_alert_t *incident = NULL;
    if (sa != NULL && sa->compromise && sa->incident_key != NULL &&
        sa->incident_last >= now - BW_ALERT_INCIDENT_RECENT_SECONDS) {
        incident = bw_alert_new();
        incident->key = g_strdup_printf("incident:%s", sa->incident_key);
        incident->count = sa->incident_weight;
        incident->n_signals = r->signals ? r->signals->len : 0;
        incident->start = sa->incident_start;
        incident->end = MAX(sa->incident_last, sa->incident_start);
        incident->status = BW_STATUS_COMPROMISE_SUSPECTED;
        incident->owner = g_strdup(owner);
        incident->signals_summary = g_strdup(sa->summary);
        if (r->assessment != NULL)
            incident->first_step = g_strdup(first_string(r->assessment->advice));
        g_ptr_array_add(out, incident);
    }
    if (r->surges == NULL)
        return out;
    for (guint i = 0; i < r->surges->len; i++) {
        const bw_surge_t *s = g_ptr_array_index(r->surges, i);
        /* Only a surge under way deserves a desktop alert: an old one is
         * history, and belongs in the report. */
        if (!s->ongoing && s->end < now)
            continue;
        const bw_campaign_t *main = NULL;
        unsigned unmuted = 0, n_campaigns = s->campaigns ? s->campaigns->len : 0;
        for (unsigned j = 0; j < n_campaigns; j++) {
            const char *id = g_ptr_array_index(s->campaigns, j);
            const bw_campaign_t *c = find_campaign(r, id);
            bool muted = (c != NULL && c->muted) ||
                         (is_muted != NULL && is_muted(muted_data, id));
            if (muted)
                continue;
            unmuted++;
            if (c != NULL && (main == NULL || c->members->len > main->members->len))
                main = c;
        }
        /* A surge made only of muted campaigns stays silent; a surge with no
         * campaign at all (reports without an original) still alerts. */
        if (n_campaigns > 0 && unmuted == 0)
            continue;
        /* Count only what is not muted: otherwise a muted campaign growing
         * inside a mixed surge would update the alert, i.e. speak up. */
        unsigned count = s->count;
        if (unmuted < n_campaigns) {
            unsigned muted_count = count_muted(r, s, is_muted, muted_data);
            count = count > muted_count ? count - muted_count : 0;
            if (count == 0)
                continue;
        }
        if (incident != NULL) {
            /* the same takeover: its reports grow the incident's alert */
            incident->count += count;
            incident->end = MAX(incident->end, s->end);
            if (incident->campaign == NULL && main != NULL)
                incident->campaign = g_strdup(main->id);
            continue;
        }
        bw_alert_t *a = bw_alert_new();
        /* The start hour identifies a surge; the caller also matches a
         * stored alert by campaign, in case the detector moves the start as
         * the surge grows. */
        a->key = g_strdup_printf("surge-%" G_GINT64_FORMAT, s->start);
        a->campaign = main ? g_strdup(main->id) : NULL;
        a->count = count;
        a->n_campaigns = unmuted;
        a->start = first_report(r, s);
        a->end = s->end;
        a->status = r->assessment ? r->assessment->status : BW_STATUS_SPOOFING;
        if (a->status == BW_STATUS_CLEAR)
            a->status = BW_STATUS_SPOOFING;  /* a surge is at least spoofing */
        a->owner = g_strdup(owner);
        if (main != NULL) {
            a->subject = g_strdup(first_string(main->subjects));
            a->forged_sender = g_strdup(first_string(main->forged_senders));
        }
        if (r->assessment != NULL)
            a->first_step = g_strdup(first_string(r->assessment->advice));
        g_ptr_array_add(out, a);
    }
    return out;
}

/* A multi-line text made safe line by line (bw_text_sanitize turns the
 * line breaks themselves into spaces). */
static char *
clean_lines(const char *s)
{
    if (s == NULL)
        return g_strdup("");
    g_auto(GStrv) lines = g_strsplit(s, "\n", 64);
    GString *out = g_string_new(NULL);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_autofree char *c = bw_text_sanitize(lines[i], 4 * BW_ALERT_TEXT_MAX);
        g_string_append_printf(out, "%s%s", i ? "\n" : "", c);
    }
    return g_string_free(out, FALSE);
}

/* One line of the body: printf of a translated format; with markup every
 * string argument must already be escaped by the caller (args are cleaned
 * and escaped once, below). */
static void
append_line(GString *body, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
append_line(GString *body, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (body->len > 0)
        g_string_append_c(body, '\n');
    g_string_append_vprintf(body, fmt, ap);
    va_end(ap);
}

static char *
prepare(const char *s, bool markup, unsigned max_chars)
{
    g_autofree char *clean = bw_text_sanitize(s, max_chars);
    if (clean == NULL)
        return NULL;
    return markup ? g_markup_escape_text(clean, -1) : g_steal_pointer(&clean);
}

static char *
format_time(gint64 t, gint64 ref)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
    if (dt == NULL)
        return g_strdup("?");
    /* Within a day the hour is enough; older starts need the date. */
    return g_date_time_format(dt, (ref - t) < 20 * 3600 ? "%H:%M" : "%Y-%m-%d %H:%M");
}

/* The alert of an incident the signals show (SPEC 2b). */
static void
format_incident(const bw_alert_t *a, bool markup, char **summary_out, char **body_out)
{
    *summary_out = g_strdup(_("Your mail account may have been taken over"));
    g_autofree char *owner = prepare(a->owner, markup, BW_ALERT_TEXT_MAX);
    g_autofree char *what = prepare(a->signals_summary, markup, 4 * BW_ALERT_TEXT_MAX);
    g_autofree char *step = prepare(a->first_step, markup, 4 * BW_ALERT_TEXT_MAX);
    g_autofree char *since = format_time(a->start, a->end);
    const char *b0 = markup ? "<b>" : "", *b1 = markup ? "</b>" : "";
    GString *body = g_string_new(NULL);
    if (owner != NULL)
        append_line(body, _("Since %s, your mailbox shows signs that someone else is using %s%s%s."),
                    since, b0, owner, b1);
    else
        append_line(body, _("Since %s, your mailbox shows signs that someone else is using your "
                            "mail account."), since);
    if (what != NULL && *what != '\0')
        append_line(body, "%s", what);
    append_line(body, _("First: %s"), step != NULL ? step
                : _("change your password from a clean device, sign out all sessions "
                    "and check your forwarding rules."));
    *body_out = g_string_free(body, FALSE);
}

void
bw_alert_format(const bw_alert_t *a, bool markup, char **summary_out, char **body_out)
{
    if (a->signals_summary != NULL) {
        format_incident(a, markup, summary_out, body_out);
        return;
    }
    if (a->status == BW_STATUS_COMPROMISE_SUSPECTED)
        *summary_out = g_strdup_printf(
            ngettext("Your mail account may be misused: %u report about mail you never sent",
                     "Your mail account may be misused: %u reports about mail you never sent",
                     a->count), a->count);
    else
        *summary_out = g_strdup_printf(
            ngettext("Backscatter: %u report about mail you never sent",
                     "Backscatter: %u reports about mail you never sent", a->count),
            a->count);

    g_autofree char *owner = prepare(a->owner, markup, BW_ALERT_TEXT_MAX);
    g_autofree char *subject = prepare(a->subject, markup, BW_ALERT_TEXT_MAX);
    g_autofree char *sender = prepare(a->forged_sender, markup, BW_ALERT_TEXT_MAX);
    /* Advice is our own text (it may quote an address): a longer bound. */
    g_autofree char *step = prepare(a->first_step, markup, 4 * BW_ALERT_TEXT_MAX);
    g_autofree char *campaign = prepare(a->campaign, markup, BW_ALERT_TEXT_MAX);
    g_autofree char *since = format_time(a->start, a->end);
    const char *b0 = markup ? "<b>" : "", *b1 = markup ? "</b>" : "";

    GString *body = g_string_new(NULL);
    if (owner != NULL)
        append_line(body, ngettext("Since %s, %s%u%s bounce or auto-reply arrived for mail sent "
                                   "in the name of %s that you did not send.",
                                   "Since %s, %s%u%s bounces and auto-replies arrived for mail "
                                   "sent in the name of %s that you did not send.", a->count),
                    since, b0, a->count, b1, owner);
    else
        append_line(body, ngettext("Since %s, %s%u%s bounce or auto-reply arrived for mail "
                                   "you did not send.",
                                   "Since %s, %s%u%s bounces and auto-replies arrived for mail "
                                   "you did not send.", a->count),
                    since, b0, a->count, b1);
    if (campaign != NULL && subject != NULL)
        append_line(body, _("Campaign %s, subject “%s”."), campaign, subject);
    else if (campaign != NULL)
        append_line(body, _("Campaign %s."), campaign);
    /* The owner's own address is what the first line is about; another
     * sender address of the campaign is not the owner's, and must not read
     * as "forged" in the owner's name. */
    if (sender != NULL && (owner == NULL || g_ascii_strcasecmp(a->forged_sender, a->owner) != 0))
        append_line(body, _("Other sender address in this campaign: %s"), sender);
    if (a->n_campaigns > 1)
        append_line(body, ngettext("%u more campaign is under way.",
                                   "%u more campaigns are under way.", a->n_campaigns - 1),
                    a->n_campaigns - 1);
    if (a->status == BW_STATUS_COMPROMISE_SUSPECTED) {
        append_line(body, _("%sThe mail seems to have gone out through your own account.%s"),
                    b0, b1);
        append_line(body, _("First: %s"), step != NULL ? step
                    : _("change your password from a clean device, sign out all sessions "
                        "and check your forwarding rules."));
    } else {
        append_line(body, _("Someone is forging your address elsewhere; your account shows no "
                            "sign of misuse. You do not need to answer these reports."));
    }
    *body_out = g_string_free(body, FALSE);
}

/* ------------------------------------------------------------ notifier */

static const char *const action_ids[] = {
    [BW_ACTION_SHOW_REPORT] = "show-report",
    [BW_ACTION_SECURE] = "secure",
    [BW_ACTION_MUTE] = "mute",
};

const char *
bw_action_to_string(bw_action_t action)
{
    return (unsigned)action < G_N_ELEMENTS(action_ids) ? action_ids[action] : NULL;
}

/* Where the module is: $BOUNCEWATCH_NOTIFY_MODULE when set (tests), else
 * next to the module (or program) this code was loaded from, i.e. next to
 * bouncewatch-engine.so, wherever that was found (the build tree's .libs/,
 * $BOUNCEWATCH_ENGINE's directory, the installed $(pkglibdir)); else the
 * installed one. */
static const char module_anchor;   /* an address of this module's */

static char *
notify_module_path(void)
{
    const char *env = g_getenv("BOUNCEWATCH_NOTIFY_MODULE");
    if (env != NULL && *env != '\0')
        return g_strdup(env);
    Dl_info info;
    if (dladdr(&module_anchor, &info) != 0 && info.dli_fname != NULL &&
        strchr(info.dli_fname, '/') != NULL) {
        g_autofree char *dir = g_path_get_dirname(info.dli_fname);
        char *here = g_build_filename(dir, BW_NOTIFY_MODULE_NAME, NULL);
        if (g_file_test(here, G_FILE_TEST_IS_REGULAR))
            return here;
        g_free(here);
    }
    return g_strdup(BW_NOTIFY_MODULE_PATH);
}

/* The module, loaded once (and never unloaded: libnotify registers GTypes).
 * While it cannot be loaded (a package upgrade between two files, a
 * partial install), a notifier tries again at its next alert
 * (notifier_retry): the agent runs for days, and must not stay without
 * notifications until it is restarted.  A file that is no module, or one of
 * another version, is closed again so that the next attempt reads the file
 * then there.  load_path and load_why: where it was last looked for, and
 * why it could not be loaded (NULL when it was); load_tried: the monotonic
 * time of the last attempt (0: none).  Under module_lock. */
static GMutex module_lock;
static const bw_notify_module_t *module_loaded;
static char *load_path;
static const char *load_why;
static gint64 load_tried;

/* The module, after one attempt to load it when it is not loaded and
 * `again` or none was made. */
static const bw_notify_module_t *
notify_module(bool again)
{
    g_mutex_lock(&module_lock);
    if (module_loaded == NULL && (again || load_tried == 0)) {
        load_tried = MAX(g_get_monotonic_time(), 1);
        g_free(load_path);
        load_path = notify_module_path();
        void *handle = dlopen(load_path, RTLD_LAZY | RTLD_LOCAL);
        const char *why = handle == NULL ? dlerror() : NULL;
        const bw_notify_module_t *(*get)(void) =
            handle != NULL ? (const bw_notify_module_t *(*)(void))dlsym(handle, BW_NOTIFY_MODULE_SYMBOL)
                           : NULL;
        const bw_notify_module_t *m = get != NULL ? get() : NULL;
        if (handle != NULL && m == NULL)
            why = _("not a bouncewatch notification module");
        else if (m != NULL && strcmp(m->version, PACKAGE_VERSION) != 0)
            why = _("it belongs to another version of bouncewatch");
        if (why != NULL) {
            load_why = g_intern_string(why);   /* dlerror()'s text is overwritten later */
            if (handle != NULL)
                dlclose(handle);   /* nothing of it was used */
        } else {
            load_why = NULL;
            module_loaded = m;
        }
    }
    const bw_notify_module_t *m = module_loaded;
    g_mutex_unlock(&module_lock);
    return m;
}

bool
bw_notify_module_check(char **path_out, char **why_out)
{
    bool ok = notify_module(false) != NULL;
    g_mutex_lock(&module_lock);
    if (path_out != NULL)
        *path_out = g_strdup(load_path);
    if (why_out != NULL)
        *why_out = ok ? NULL : g_strdup(load_why);
    g_mutex_unlock(&module_lock);
    return ok;
}

/* Without the module the notifier has no server: every alert is logged.
 * What it was created with is kept to open the server when the module
 * loads later. */
struct bw_notifier {
    const bw_notify_module_t *m;
    bw_notify_server_t *s;   /* NULL exactly when m is */
    char *app_name;
    bool with_actions;
    bw_notifier_action_fn on_action;
    void *action_data;
};

/* Said once a process: the module could not be loaded, where it was looked
 * for, why, and what to do. */
static void
say_not_loaded(void)
{
    static gsize said;
    if (!g_once_init_enter(&said))
        return;
    g_autofree char *path = NULL, *why = NULL;
    (void)bw_notify_module_check(&path, &why);
    fprintf(stderr, _("bouncewatch: cannot load the notification module %s: %s; alerts go to "
                      "the log until it loads (it is tried again at the next alert; reinstall "
                      "bouncewatch, or run bouncewatch doctor)\n"), path, why);
    g_once_init_leave(&said, 1);
}

static void
notifier_open(bw_notifier_t *n, const bw_notify_module_t *m)
{
    n->s = m->open(n->app_name, n->with_actions, n->on_action, n->action_data);
    n->m = n->s != NULL ? m : NULL;
}

bw_notifier_t *
bw_notifier_new(const char *app_name, bool with_actions,
                bw_notifier_action_fn on_action, void *action_data)
{
    bw_notifier_t *n = g_new0(bw_notifier_t, 1);
    n->app_name = g_strdup(app_name ? app_name : "bouncewatch");
    n->with_actions = with_actions;
    n->on_action = on_action;
    n->action_data = action_data;
    const bw_notify_module_t *m = notify_module(false);
    if (m == NULL)
        say_not_loaded();
    else
        notifier_open(n, m);
    return n;
}

/* Before an alert, while the module is not loaded: one more attempt (one
 * an alert at the most), unless the last one was less than a second ago
 * (the notifier made for this alert has just tried; several alerts of one
 * scan make one attempt).  Said once when it
 * loads; a failure again is not said again. */
static void
notifier_retry(bw_notifier_t *n)
{
    if (n->m != NULL)
        return;
    const bw_notify_module_t *m = notify_module(false);
    if (m == NULL) {
        g_mutex_lock(&module_lock);
        bool recent = g_get_monotonic_time() - load_tried < G_USEC_PER_SEC;
        g_mutex_unlock(&module_lock);
        if (recent || (m = notify_module(true)) == NULL)
            return;
        g_autofree char *path = NULL;
        (void)bw_notify_module_check(&path, NULL);
        fprintf(stderr, _("bouncewatch: the notification module %s is loaded now: alerts are "
                          "shown again\n"), path);
    }
    notifier_open(n, m);
}

bool
bw_notifier_has_module(const bw_notifier_t *n)
{
    return n != NULL && notify_module(false) != NULL;
}

void
bw_notifier_free(bw_notifier_t *n)
{
    if (n == NULL)
        return;
    if (n->m != NULL)
        n->m->close(n->s);
    g_free(n->app_name);
    g_free(n);
}

bool
bw_notifier_has_server(const bw_notifier_t *n)
{
    return n != NULL && n->m != NULL && n->m->has_server(n->s);
}

bool
bw_notifier_has_actions(const bw_notifier_t *n)
{
    return n != NULL && n->m != NULL && n->m->has_actions(n->s);
}

/* A server, looked for again while none answered (the agent may start
 * before the desktop's notification daemon). */
static bool
server_now(bw_notifier_t *n)
{
    notifier_retry(n);
    if (n->m == NULL)
        return false;
    n->m->probe(n->s);
    return n->m->has_server(n->s);
}

static void
log_alert(const bw_alert_t *a)
{
    g_autofree char *summary = NULL, *body = NULL;
    bw_alert_format(a, false, &summary, &body);
    /* stderr reaches the journal when the agent runs under systemd, and the
     * terminal or notmuch's output when the hook runs. */
    fprintf(stderr, "bouncewatch: %s\n", summary);
    g_auto(GStrv) lines = g_strsplit(body, "\n", 0);
    for (guint i = 0; lines[i] != NULL; i++)
        fprintf(stderr, "bouncewatch:   %s\n", lines[i]);
}

bw_status_t
bw_notifier_show(bw_notifier_t *n, const bw_alert_t *a, guint32 replaces_id, guint32 *id_out)
{
    if (id_out != NULL)
        *id_out = 0;
    if (n == NULL || a == NULL || a->key == NULL)
        return BW_E_INVALID;
    if (!server_now(n)) {
        log_alert(a);
        return BW_OK;
    }
    g_autofree char *summary = NULL, *body = NULL;
    bw_alert_format(a, n->m->has_markup(n->s), &summary, &body);
    bool critical = a->status == BW_STATUS_COMPROMISE_SUSPECTED;
    bw_notify_message_t msg = {
        .summary = summary, .body = body,
        .icon = critical ? "dialog-error" : "dialog-warning",
        .category = "email", .critical = critical, .replaces_id = replaces_id,
        .key = a->key, .campaign = a->campaign,
    };
    if (!n->m->show(n->s, &msg, id_out))
        log_alert(a);   /* the server failed (said by the module) */
    return BW_OK;
}

bw_status_t
bw_notifier_show_notice(bw_notifier_t *n, const char *summary, const char *body,
                        guint32 replaces_id, guint32 *id_out)
{
    if (id_out != NULL)
        *id_out = 0;
    if (n == NULL || summary == NULL)
        return BW_E_INVALID;
    g_autofree char *plain = clean_lines(body);
    /* Logged as well, shown or not: the journal keeps why nothing was checked. */
    fprintf(stderr, "bouncewatch: %s\n", summary);
    g_auto(GStrv) lines = g_strsplit(plain, "\n", 0);
    for (guint i = 0; lines[i] != NULL; i++)
        fprintf(stderr, "bouncewatch:   %s\n", lines[i]);
    if (!server_now(n))
        return BW_OK;
    g_autofree char *shown = n->m->has_markup(n->s) ? g_markup_escape_text(plain, -1)
                                                    : g_strdup(plain);
    /* Shown once, not on every scan: it must not vanish unread. */
    bw_notify_message_t msg = {
        .summary = summary, .body = shown, .icon = "dialog-warning",
        .persistent = true, .replaces_id = replaces_id,
    };
    (void)n->m->show(n->s, &msg, id_out);
    return BW_OK;
}

void
bw_notifier_close(bw_notifier_t *n, guint32 id)
{
    if (n == NULL || id == 0 || n->m == NULL)
        return;
    n->m->close_id(n->s, id);
}
