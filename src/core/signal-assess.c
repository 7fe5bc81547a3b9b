/* signal-assess.c: what the signals mean together (shared/SPEC.md section
 * 2b), the advice that fits what happened, and the "Signs about your
 * account" timeline of the human report.
 *
 * The rule: a sign-in alert alone is never a compromise (the owner's own
 * new phone sends one).  Any of these is: the provider limiting sending
 * because the account sent spam, a run in Sent the owner did not write, a
 * person answering mail the owner never sent, own-account backscatter (the
 * report engine's call), or a takeover step (forwarding added, the
 * recovery address changed, 2-step verification turned off) within 48
 * hours after a sign-in alert.  A password change or 2-step verification
 * turned on is what an owner does after a scare: never a step.
 *
 * Every string a person reads goes through gettext (po/ja.po); counts use
 * ngettext.  The reasons are English, like the evidence of the JSON. */
#include "bw-signals-private.h"
#include <string.h>

#define STEP_WINDOW (48 * 3600)   /* a takeover step this long after a sign-in */
#define STEP_SLACK  3600          /* notices of one session may arrive out of order */
#define MAX_NAMED   3             /* forwarding/recovery addresses named in the advice */

void
bw_signals_assessment_free(bw_signals_assessment_t *s)
{
    if (s == NULL)
        return;
    if (s->reasons)
        g_ptr_array_unref(s->reasons);
    g_free(s->summary);
    if (s->advice)
        g_ptr_array_unref(s->advice);
    g_free(s->incident_key);
    g_free(s);
}

/* The incident is named by its earliest compromising signal; later ones
 * (by date, then key: any arrival order gives the same name) only grow it. */
static void
incident_note(bw_signals_assessment_t *r, const bw_signal_t *s, gint64 when, const char *id)
{
    r->incident_weight++;
    gint64 last = s->kind == BW_SIGNAL_SENT_ANOMALY ? s->end : s->date_unix;
    r->incident_last = MAX(r->incident_last, MAX(last, when));
    g_autofree char *key = g_strdup_printf("%s:%s", bw_signal_kind_to_string(s->kind), id ? id : "?");
    if (r->incident_key == NULL || when < r->incident_start ||
        (when == r->incident_start && strcmp(key, r->incident_key) < 0)) {
        g_free(r->incident_key);
        r->incident_key = g_steal_pointer(&key);
        r->incident_start = when;
    }
}

static bool
is_step(const bw_signal_t *s)
{
    return s->kind == BW_SIGNAL_FORWARDING_ADDED || s->kind == BW_SIGNAL_RECOVERY_CHANGED ||
           (s->kind == BW_SIGNAL_TWO_FACTOR_CHANGED && s->two_factor == 0);
}

static void
push_unique(GPtrArray *a, char *s)
{
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), s) == 0) {
            g_free(s);
            return;
        }
    g_ptr_array_add(a, s);
}

static char *
when_text(gint64 t)
{
    char *s = bw_time_format(t, 0);
    return s ? s : g_strdup("?");
}

bw_status_t
bw_signals_assess(GPtrArray *signals, const char *owner, bool own_account_backscatter,
                  bw_signals_assessment_t **out)
{
    if (out == NULL)
        return BW_E_INVALID;
    bw_signals_assessment_t *r = g_new0(bw_signals_assessment_t, 1);
    r->reasons = g_ptr_array_new_with_free_func(g_free);
    r->advice = g_ptr_array_new_with_free_func(g_free);
    *out = r;
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    for (guint i = 0; signals && i < signals->len; i++)
        if (g_ptr_array_index(signals, i))
            g_ptr_array_add(sorted, g_ptr_array_index(signals, i));
    g_ptr_array_sort(sorted, bw_signal_compare);

    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);   /* summary clauses */
    g_autoptr(GPtrArray) forwards = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) recoveries = g_ptr_array_new_with_free_func(g_free);
    bool forward_unnamed = false, recovery_unnamed = false, tfa_off = false, blocked = false;
    unsigned run_messages = 0, run_people = 0, run_contacts = 0, askers = 0;
    g_autoptr(GHashTable) asked = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < sorted->len; i++) {
        const bw_signal_t *s = g_ptr_array_index(sorted, i);
        g_autofree char *when = when_text(s->kind == BW_SIGNAL_SENT_ANOMALY ? s->start : s->date_unix);
        switch (s->kind) {
        case BW_SIGNAL_SENDING_BLOCKED:
            if (!blocked)
                g_ptr_array_add(parts, g_strdup(_("your provider limited sending from your account because it sent spam")));
            blocked = true;
            g_ptr_array_add(r->reasons, g_strdup_printf("the provider limited sending (%s, %s)", when,
                                                        s->message_id ? s->message_id : "?"));
            incident_note(r, s, s->date_unix, s->message_id);
            break;
        case BW_SIGNAL_SENT_ANOMALY:
            run_messages += s->count;
            run_people += s->recipient_count;
            run_contacts += s->contact_count;
            g_ptr_array_add(r->reasons, g_strdup_printf("%u messages in Sent the owner did not write (from %s)",
                                                        s->count, when));
            incident_note(r, s, s->start, s->members && s->members->len
                                          ? g_ptr_array_index(s->members, 0) : NULL);
            r->incident_weight += s->count;
            break;
        case BW_SIGNAL_HUMAN_REPLY:
            if (s->from && !g_hash_table_contains(asked, s->from)) {
                g_hash_table_add(asked, s->from);
                askers++;
            }
            g_ptr_array_add(r->reasons, g_strdup_printf("%s answered a message the owner never sent (%s)",
                                                        s->from ? s->from : "someone", when));
            incident_note(r, s, s->date_unix, s->message_id);
            break;
        default:
            break;
        }
        if (!is_step(s))
            continue;
        /* a sign-in alert up to 48 hours before it */
        const bw_signal_t *login = NULL;
        for (guint k = 0; k < sorted->len && login == NULL; k++) {
            const bw_signal_t *x = g_ptr_array_index(sorted, k);
            if (x->kind == BW_SIGNAL_SIGN_IN_ALERT && x->date_unix != 0 && s->date_unix != 0 &&
                s->date_unix >= x->date_unix - STEP_SLACK && s->date_unix <= x->date_unix + STEP_WINDOW)
                login = x;
        }
        if (login == NULL)
            continue;
        g_autofree char *lwhen = when_text(login->date_unix);
        g_ptr_array_add(r->reasons, g_strdup_printf("%s (%s) within 48 hours after the sign-in alert of %s",
                                                    bw_signal_kind_to_string(s->kind), when, lwhen));
        incident_note(r, login, login->date_unix, login->message_id);
        r->incident_last = MAX(r->incident_last, s->date_unix);
        if (s->kind == BW_SIGNAL_FORWARDING_ADDED) {
            if (s->address)
                push_unique(forwards, g_strdup(s->address));
            else
                forward_unnamed = true;
        } else if (s->kind == BW_SIGNAL_RECOVERY_CHANGED) {
            if (s->address)
                push_unique(recoveries, g_strdup(s->address));
            else
                recovery_unnamed = true;
        } else {
            tfa_off = true;
        }
    }
    if (own_account_backscatter)
        g_ptr_array_add(r->reasons, g_strdup("reports came back about mail sent through the owner's account"));
    r->compromise = r->reasons->len > 0;
    if (!r->compromise)
        return BW_OK;

    /* the summary: what happened, in the user's language */
    if (run_messages > 0)
        g_ptr_array_insert(parts, 0, g_strdup_printf(ngettext("%u message in your Sent folder was not written by you",
                                                              "%u messages in your Sent folder were not written by you",
                                                              run_messages), run_messages));
    if (askers > 0)
        g_ptr_array_add(parts, g_strdup_printf(ngettext("%u person asked whether you really sent a message",
                                                        "%u people asked whether you really sent a message", askers),
                                               askers));
    for (guint i = 0; i < forwards->len; i++)
        g_ptr_array_add(parts, g_strdup_printf(_("forwarding of your mail to %s was turned on after a new sign-in"),
                                               (const char *)g_ptr_array_index(forwards, i)));
    if (forward_unnamed)
        g_ptr_array_add(parts, g_strdup(_("forwarding of your mail was turned on after a new sign-in")));
    if (recoveries->len > 0 || recovery_unnamed)
        g_ptr_array_add(parts, g_strdup(_("the recovery address of your account was changed after a new sign-in")));
    if (tfa_off)
        g_ptr_array_add(parts, g_strdup(_("2-step verification was turned off after a new sign-in")));
    if (own_account_backscatter)
        g_ptr_array_add(parts, g_strdup(_("reports came back about mail sent through your account")));
    GString *joined = g_string_new(NULL);
    for (guint i = 0; i < parts->len; i++) {
        if (i > 0)
            g_string_append(joined, _("; "));
        g_string_append(joined, g_ptr_array_index(parts, i));
    }
    const char *me = owner ? owner : _("your account");
    r->summary = g_strdup_printf(_("Someone else appears to be using your account %s: %s."), me, joined->str);
    g_string_free(joined, TRUE);

    /* the advice: undo what was done, then lock the account, then the people */
    for (guint i = 0; i < forwards->len && i < MAX_NAMED; i++)
        g_ptr_array_add(r->advice, g_strdup_printf(_("Remove the forwarding rule that sends your mail to %s "
                                                     "(in the mail settings: forwarding, filters and rules)."),
                                                   (const char *)g_ptr_array_index(forwards, i)));
    if (forward_unnamed || forwards->len == 0)
        g_ptr_array_add(r->advice, g_strdup(_("Check forwarding rules, filters and auto-replies: attackers add rules that forward or delete your mail.")));
    for (guint i = 0; i < recoveries->len && i < MAX_NAMED; i++)
        g_ptr_array_add(r->advice, g_strdup_printf(_("Restore your own recovery address: it was changed to %s, "
                                                     "which lets whoever set it take the account back."),
                                                   (const char *)g_ptr_array_index(recoveries, i)));
    if (recovery_unnamed)
        g_ptr_array_add(r->advice, g_strdup(_("Check the recovery email address and phone number of your account and restore your own.")));
    if (tfa_off)
        g_ptr_array_add(r->advice, g_strdup(_("Turn 2-step verification back on.")));
    g_ptr_array_add(r->advice, g_strdup(_("Sign out all other sessions and devices, and remove app passwords and connected apps you do not recognise.")));
    g_ptr_array_add(r->advice, g_strdup_printf(_("Change the password of %s now, from a device you trust (not the one you usually use, if it may be infected)."), me));
    if (!tfa_off)
        g_ptr_array_add(r->advice, g_strdup(_("Turn on two-factor authentication for the account.")));
    unsigned warn = run_contacts > 0 ? run_contacts : run_people;
    r->contacts_to_warn = warn;
    if (warn > 0)
        g_ptr_array_add(r->advice, g_strdup_printf(ngettext("Warn the %u contact who got mail from your account that you did not write: tell them not to open its links or attachments.",
                                                            "Warn the %u contacts who got mail from your account that you did not write: tell them not to open its links or attachments.",
                                                            warn), warn));
    if (blocked)
        g_ptr_array_add(r->advice, g_strdup(_("Your provider limited sending from your account: once it is secure, follow the provider's instructions to lift the limit.")));
    g_ptr_array_add(r->advice, g_strdup(_("If you used the same password anywhere else, change it there too.")));
    g_ptr_array_add(r->advice, g_strdup(_("Scan your computer and phone for malware.")));
    return BW_OK;
}

/* The report engine's generic compromise steps that a step of the signals
 * already says (more precisely): one line each, not two. */
static const struct {
    const char *generic;   /* assess.c */
    const char *covered;   /* the signals' own step that says it */
} covered_steps[] = {
    { N_("Turn on two-factor authentication for the account."),
      N_("Turn 2-step verification back on.") },
    { N_("Sign out all other sessions and devices in the account's security settings."),
      N_("Sign out all other sessions and devices, and remove app passwords and connected apps you do not recognise.") },
    { N_("Remove app passwords and connected apps you do not recognise, and review the recent sign-ins."),
      N_("Sign out all other sessions and devices, and remove app passwords and connected apps you do not recognise.") },
    { N_("Scan your computer and phone for malware, and tell your contacts to ignore the messages."),
      N_("Scan your computer and phone for malware.") },
};

static bool
has_line(const GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), s) == 0)
            return true;
    return false;
}

static bool
covered(const GPtrArray *advice, const char *line)
{
    for (size_t i = 0; i < G_N_ELEMENTS(covered_steps); i++)
        if (strcmp(line, _(covered_steps[i].generic)) == 0 &&
            has_line(advice, _(covered_steps[i].covered)))
            return true;
    return false;
}

void
bw_signals_assessment_apply(const bw_signals_assessment_t *s, bw_assessment_t *a)
{
    if (s == NULL || a == NULL || !s->compromise)
        return;
    bool was = a->status == BW_STATUS_COMPROMISE_SUSPECTED;
    /* Only the reports say it (no signal does): the engine's own summary
     * and steps are the ones about them. */
    if (was && s->incident_key == NULL)
        return;
    a->status = BW_STATUS_COMPROMISE_SUSPECTED;
    /* The signals' summary says it all (own-account reports included): the
     * engine's would say their originals are not in Sent, which is not so
     * when they are the run's. */
    g_free(a->summary);
    a->summary = g_strdup(s->summary);
    GPtrArray *advice = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < s->advice->len; i++)
        push_unique(advice, g_strdup(g_ptr_array_index(s->advice, i)));
    /* the report engine's compromise steps follow; its spoofing advice
     * ("your account shows no sign of misuse") no longer holds */
    for (guint i = 0; was && a->advice && i < a->advice->len; i++)
        if (!covered(advice, g_ptr_array_index(a->advice, i)))
            push_unique(advice, g_strdup(g_ptr_array_index(a->advice, i)));
    if (a->advice)
        g_ptr_array_unref(a->advice);
    a->advice = advice;
}

/* ------------------------------------------------------------ timeline */

typedef struct {
    gint64 t;
    char *line;
} tl_t;

static gint
cmp_tl(gconstpointer a, gconstpointer b)
{
    const tl_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return strcmp(x->line, y->line);
}

static char *
join_facts(const bw_signal_t *s)
{
    GString *g = g_string_new(NULL);
    const char *parts[] = { s->device, s->place, s->ip };
    for (unsigned i = 0; i < G_N_ELEMENTS(parts); i++) {
        if (parts[i] == NULL)
            continue;
        if (g->len)
            g_string_append(g, "; ");
        g_string_append(g, parts[i]);
    }
    return g_string_free(g, g->len == 0);
}

static char *
signal_line(const bw_signal_t *s)
{
    switch (s->kind) {
    case BW_SIGNAL_SIGN_IN_ALERT: {
        g_autofree char *f = join_facts(s);
        return f ? g_strdup_printf(_("New sign-in to your account: %s"), f) : g_strdup(_("New sign-in to your account"));
    }
    case BW_SIGNAL_PASSWORD_CHANGED:
        return g_strdup(_("The password of your account was changed"));
    case BW_SIGNAL_RECOVERY_CHANGED:
        return s->address ? g_strdup_printf(_("The recovery address of your account was changed to %s"), s->address)
                          : g_strdup(_("The recovery address of your account was changed"));
    case BW_SIGNAL_FORWARDING_ADDED:
        return s->address ? g_strdup_printf(_("Forwarding of your mail to %s was turned on"), s->address)
                          : g_strdup(_("Forwarding of your mail was turned on"));
    case BW_SIGNAL_TWO_FACTOR_CHANGED:
        return g_strdup(s->two_factor == 0 ? _("2-step verification was turned off")
                        : s->two_factor == 1 ? _("2-step verification was turned on")
                                             : _("2-step verification was changed"));
    case BW_SIGNAL_SENDING_BLOCKED:
        return g_strdup(_("Your provider limited sending from your account"));
    case BW_SIGNAL_HUMAN_REPLY:
        return g_strdup_printf(_("%s asked about a message you did not send"), s->from ? s->from : "?");
    case BW_SIGNAL_SENT_ANOMALY: {
        g_autofree char *a = g_strdup_printf(ngettext("%u message in Sent that you did not write",
                                                      "%u messages in Sent that you did not write", s->count), s->count);
        g_autofree char *b = g_strdup_printf(ngettext("to %u recipient", "to %u recipients", s->recipient_count),
                                             s->recipient_count);
        return g_strdup_printf(_("%s, %s"), a, b);
    }
    default:
        return NULL;
    }
}

GPtrArray *
bw_signals_timeline(GPtrArray *signals, GPtrArray *phish, int utc_offset)
{
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(tl_t));
    for (guint i = 0; signals && i < signals->len; i++) {
        const bw_signal_t *s = g_ptr_array_index(signals, i);
        char *line = signal_line(s);
        if (line == NULL)
            continue;
        tl_t x = { s->kind == BW_SIGNAL_SENT_ANOMALY ? s->start : s->date_unix, line };
        g_array_append_val(items, x);
    }
    for (guint i = 0; phish && i < phish->len; i++) {
        const bw_phish_t *p = g_ptr_array_index(phish, i);
        tl_t x = { p->date_unix, g_strdup_printf(_("Phishing that imitates your provider, from %s: do not click its links"),
                                                 p->from ? p->from : "?") };
        g_array_append_val(items, x);
    }
    g_array_sort(items, cmp_tl);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < items->len; i++) {
        tl_t *x = &g_array_index(items, tl_t, i);
        g_autofree char *when = NULL;
        if (x->t != 0) {
            g_autoptr(GTimeZone) tz = g_time_zone_new_offset(utc_offset);
            g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(x->t);
            g_autoptr(GDateTime) lt = dt && tz ? g_date_time_to_timezone(dt, tz) : NULL;
            when = lt ? g_date_time_format(lt, "%Y-%m-%d %H:%M") : NULL;
        }
        g_ptr_array_add(out, g_strdup_printf("%s  %s", when ? when : "?", x->line));
        g_free(x->line);
    }
    return out;
}
