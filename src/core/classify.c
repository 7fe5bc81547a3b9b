/* classify.c: the verdict on one report: is it about mail this mailbox
 * really sent (legitimate), about mail it never sent (backscatter), or can
 * we not tell (undetermined)?
 *
 * The decisive test is the original's Message-ID in the owner's sent mail.
 * Without it the verdict adds up pieces of evidence as log-odds (weights
 * below, in nats): each piece is a sentence in `evidence`, so that a person
 * can check the call.  The sum decides:
 *     >= BS_THRESHOLD       backscatter
 *     <= LEGIT_THRESHOLD    legitimate
 *     otherwise             undetermined
 * and score = logistic(sum), the confidence that it is backscatter. */
#include "bw-engine.h"
#include <math.h>
#include <string.h>

#define BS_THRESHOLD      2.5
#define LEGIT_THRESHOLD  (-2.0)
#define DECISIVE          10.0
#define MAX_ADDRS         8
/* "sent near that time": the original's subject within this window */
#define SUBJECT_WINDOW    (3 * 86400)
/* characters of one evidence line (it quotes subjects and addresses) */
#define EVIDENCE_MAX_CHARS 300

typedef struct {
    double logit;
    GPtrArray *evidence;
} verdict_t;

static void
add(verdict_t *v, double w, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
add(verdict_t *v, double w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* attacker text (addresses, subjects) ends up in these lines: keep
     * them short, on one line and safe to show */
    g_ptr_array_add(v->evidence, bw_text_sanitize(s, EVIDENCE_MAX_CHARS));
    v->logit += w;
}

static bool
is_daemon(const char *addr)
{
    if (addr == NULL)
        return true;
    return g_str_has_prefix(addr, "mailer-daemon@") || g_str_has_prefix(addr, "postmaster@") ||
           g_str_has_prefix(addr, "mail-daemon@") || g_str_has_prefix(addr, "noreply@") ||
           g_str_has_prefix(addr, "no-reply@") || g_str_has_prefix(addr, "bounce") ||
           g_str_has_prefix(addr, "double-bounce@") || g_str_has_prefix(addr, "fbl@") ||
           g_str_has_prefix(addr, "abuse@");
}

/* The local part of a mail system's own address: such a sender never
 * writes the owner's mail. */
static bool
is_daemon_local(const char *addr)
{
    return g_ascii_strncasecmp(addr, "mailer-daemon@", 14) == 0 ||
           g_ascii_strncasecmp(addr, "postmaster@", 11) == 0 ||
           g_ascii_strncasecmp(addr, "mail-daemon@", 12) == 0 ||
           g_ascii_strncasecmp(addr, "double-bounce@", 14) == 0 ||
           g_ascii_strncasecmp(addr, "mailer_daemon@", 14) == 0;
}

static void
add_addr(GPtrArray *a, const char *addr, const bw_profile_t *p)
{
    if (addr == NULL || *addr == '\0' || a->len >= MAX_ADDRS || !strchr(addr, '@'))
        return;
    if (bw_profile_is_owner(p, addr))
        return;
    for (guint i = 0; i < a->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(a, i), addr) == 0)
            return;
    g_ptr_array_add(a, (gpointer)addr);
}

/* The addresses the report says the original went to. */
static GPtrArray *
reported_addresses(const bw_profile_t *p, const bw_report_t *r)
{
    GPtrArray *a = g_ptr_array_new();
    for (guint i = 0; r->recipients && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        add_addr(a, rc->address, p);
        add_addr(a, rc->original_address, p);
    }
    /* an auto-reply or a challenge comes from the recipient itself */
    if ((r->kind == BW_KIND_AUTOREPLY || r->kind == BW_KIND_CHALLENGE) && !is_daemon(r->from))
        add_addr(a, r->from, p);
    if (a->len == 0 && r->original && r->original->to)
        for (guint i = 0; i < r->original->to->len; i++)
            add_addr(a, g_ptr_array_index(r->original->to, i), p);
    return a;
}

static const char *
domain_part(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : NULL;
}

static bool
any_sent_reference(const bw_mailbox_ops_t *ops, const bw_report_t *r, const char **which)
{
    if (ops->sent_has_message_id == NULL)
        return false;
    if (r->in_reply_to && ops->sent_has_message_id(ops->ctx, r->in_reply_to, NULL)) {
        *which = r->in_reply_to;
        return true;
    }
    for (guint i = 0; r->references && i < r->references->len && i < 32; i++) {
        const char *ref = g_ptr_array_index(r->references, i);
        if (ref && ops->sent_has_message_id(ops->ctx, ref, NULL)) {
            *which = ref;
            return true;
        }
    }
    return false;
}

/* The original of this report is the owner's real mail (it is in Sent and
 * not one of a run there the owner did not write): the provider's path it
 * took is the owner's. */
static bool
report_teaches(const bw_mailbox_ops_t *ops, const bw_report_t *r)
{
    const bw_original_t *o = r ? r->original : NULL;
    const char *mid = o ? o->message_id : NULL;
    if (mid == NULL || ops == NULL || ops->sent_has_message_id == NULL)
        return false;
    if (ops->sent_is_anomaly && ops->sent_is_anomaly(ops->ctx, mid, NULL))
        return false;
    return ops->sent_has_message_id(ops->ctx, mid, NULL);
}

bool
bw_classify_learn(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
                  const bw_report_t *report)
{
    if (!report_teaches(ops, report))
        return false;
    bw_profile_learn_original(profile, report->original);
    return true;
}

bool
bw_classify_lessons(const bw_mailbox_ops_t *ops, const bw_report_t *report, GPtrArray *out)
{
    if (!report_teaches(ops, report))
        return false;
    bw_profile_original_lessons(report->original, out);
    return true;
}

bw_status_t
bw_classify(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
            const char *message_id, const char *file, gint64 date_unix,
            bw_report_t *report, bw_item_t **out)
{
    if (out == NULL || report == NULL) {
        if (report)
            bw_report_free(report);
        return BW_E_INVALID;
    }
    static const bw_mailbox_ops_t no_ops;
    if (ops == NULL)
        ops = &no_ops;
    bw_item_t *it = g_new0(bw_item_t, 1);
    it->message_id = g_strdup(message_id ? message_id : report->message_id);
    it->file = g_strdup(file);
    it->date_unix = date_unix ? date_unix : report->date_unix;
    it->report = report;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    verdict_t v = { 0.0, it->evidence };

    const bw_report_t *r = report;
    const bw_original_t *o = r->original;
    const char *mid = o ? o->message_id : NULL;
    bool sent_exists = ops->has_sent_mail ? ops->has_sent_mail(ops->ctx)
                                          : ops->sent_has_message_id != NULL;
    bool decided = false;

    /* 0. the original is in the owner's sent mail, but one of a run there
     * that the owner did not write (SPEC 2b: the hijacker's webmail saved
     * it): mail the owner never sent, through the owner's own account.
     * The report names it by the original's Message-ID or, without an
     * original, by what it answers. */
    const char *run = NULL, *anomalous = NULL;
    if (ops->sent_is_anomaly) {
        if (mid && ops->sent_is_anomaly(ops->ctx, mid, &run))
            anomalous = mid;
        else if (!mid && r->in_reply_to && ops->sent_is_anomaly(ops->ctx, r->in_reply_to, &run))
            anomalous = r->in_reply_to;
    }
    if (anomalous) {
        add(&v, DECISIVE, "the original message <%s> is one of a run in this mailbox's sent mail "
            "that the owner did not write (a sent anomaly)", anomalous);
        it->anomaly = g_strdup(run ? run : anomalous);
    }

    /* 1. the decisive test: the original is in the owner's sent mail */
    gint64 sent_date = 0;
    if (anomalous) {
        decided = true;
    } else if (mid && ops->sent_has_message_id && ops->sent_has_message_id(ops->ctx, mid, &sent_date)) {
        add(&v, -DECISIVE, "the original message <%s> was sent from this mailbox", mid);
        decided = true;
    }
    const char *ref = NULL;
    if (!decided && any_sent_reference(ops, r, &ref)) {
        add(&v, -DECISIVE, "the report answers <%s>, a message sent from this mailbox", ref);
        decided = true;
    }

    /* origin of the original, for evidence and for the campaign */
    const char *origin_why = NULL;
    bw_origin_t origin = anomalous ? BW_ORIGIN_OWN_ACCOUNT : bw_origin_of(profile, o, &origin_why);
    it->origin = origin;

    /* A report about a report: what was found as "the original" is itself
     * a delivery notice (bounce of a bounce, or a notice quoted inside
     * another).  Its Message-ID and path say nothing about this mailbox. */
    if (!decided && o && o->from && is_daemon_local(o->from)) {
        add(&v, 0.0, "the attached message is itself a delivery report (from %s), not a message of this mailbox",
            o->from);
        o = NULL;
        mid = NULL;
        origin = BW_ORIGIN_UNKNOWN;
        origin_why = NULL;
        it->origin = origin;
    }

    if (!decided) {
        bool owner_from = o && o->from && bw_profile_is_owner(profile, o->from);
        if (mid && sent_exists) {
            add(&v, 4.0, "the original message <%s> was never sent from this mailbox", mid);
        } else if (!mid && r->in_reply_to && sent_exists && ops->sent_has_message_id) {
            add(&v, 2.0, "the report answers <%s>, which this mailbox never sent", r->in_reply_to);
        }

        /* someone answered the original: a correspondent replying to the
         * owner's message proves the owner sent it (a stranger's reply to
         * forged spam, "who are you?", proves nothing) */
        if (mid && ops->replies_to) {
            g_autofree char *replier = NULL;
            unsigned n = ops->replies_to(ops->ctx, mid, &replier);
            unsigned known = 0;
            if (n > 0 && replier) {
                known = ops->sent_count_to ? ops->sent_count_to(ops->ctx, replier, 0) : 0;
                /* more than the reply itself: mail before or after it */
                if (known == 0 && ops->received_from_count && ops->received_from_count(ops->ctx, replier) > n)
                    known = 1;
            }
            if (known > 0)
                add(&v, -6.0, "%s, who corresponds with this mailbox, replied to the original <%s>: it was really sent from here",
                    replier, mid);
            else if (n > 0)
                add(&v, 0.0, "%s replied to the original <%s>, but is not a known correspondent",
                    replier ? replier : "someone", mid);
        }

        /* who the original went to */
        g_autoptr(GPtrArray) addrs = reported_addresses(profile, r);
        unsigned known_to = 0, known_from = 0, unknown = 0;
        const char *example_known = NULL, *example_unknown = NULL;
        for (guint i = 0; i < addrs->len; i++) {
            const char *a = g_ptr_array_index(addrs, i);
            unsigned n_to = ops->sent_count_to ? ops->sent_count_to(ops->ctx, a, 0) : 0;
            unsigned n_from = ops->received_from_count ? ops->received_from_count(ops->ctx, a) : 0;
            /* an auto-reply or challenge is itself mail from that address:
             * it takes more than the report (and a sibling or two) to make
             * the address a correspondent */
            if (r->from && g_ascii_strcasecmp(a, r->from) == 0)
                n_from = n_from >= 3 ? n_from : 0;
            if (n_to > 0) {
                known_to++;
                example_known = a;
            } else if (n_from > 0) {
                known_from++;
                example_known = a;
            } else {
                unknown++;
                example_unknown = a;
            }
        }
        if (known_to > 0) {
            add(&v, -3.0, "this mailbox has written to %s before", example_known);
        } else if (known_from > 0) {
            add(&v, sent_exists ? -1.0 : -3.0, "%s has written to this mailbox", example_known);
        } else if (unknown > 0) {
            if (sent_exists && ops->sent_count_to)
                add(&v, 2.5, "this mailbox never wrote to %s", example_unknown);
            else if (ops->received_from_count)
                add(&v, 1.0, "%s never wrote to this mailbox", example_unknown);
            /* a new address at the organisation of people the owner hears
             * from (a colleague of a colleague) is how real mail to a new
             * address looks; spam lists are not drawn from the owner's
             * contacts.  Free-mail domains say nothing. */
            const char *d = domain_part(example_unknown);
            if (d && !bw_is_big_mail_domain(d) && !bw_profile_is_own_domain(profile, d) &&
                ops->received_from_domain_count && ops->received_from_domain_count(ops->ctx, d) >= 2)
                add(&v, sent_exists ? -0.5 : -1.0, "people at %s write to this mailbox", d);
        }

        /* the original's other addressees: a message that also went to
         * people this mailbox corresponds with (a group mail in which one
         * address bounced) is how the owner's own mail looks */
        if (known_to == 0 && known_from == 0 && o && o->to && o->to->len > 1) {
            const char *co = NULL;
            for (guint i = 0; i < o->to->len && i < 16 && co == NULL; i++) {
                const char *a = g_ptr_array_index(o->to, i);
                bool reported = false;
                for (guint j = 0; j < addrs->len && !reported; j++)
                    reported = g_ascii_strcasecmp(a, g_ptr_array_index(addrs, j)) == 0;
                if (reported || a == NULL || bw_profile_is_owner(profile, a))
                    continue;
                unsigned n = ops->sent_count_to ? ops->sent_count_to(ops->ctx, a, 0) : 0;
                if (n == 0 && ops->received_from_count && ops->received_from_count(ops->ctx, a) >= 2)
                    n = 1;
                if (n > 0)
                    co = a;
            }
            if (co)
                add(&v, sent_exists ? -1.0 : -2.0, "the original also went to %s, who corresponds with this mailbox", co);
        }

        /* what the original was about */
        const char *subject = o ? o->subject : NULL;
        if (subject && *subject && ops->sent_subject_near && it->date_unix > 0) {
            g_autofree char *s = bw_subject_strip(subject, BW_SUBJECT_ALL, NULL);
            if (s && *s) {
                if (ops->sent_subject_near(ops->ctx, s, it->date_unix, SUBJECT_WINDOW))
                    add(&v, -3.0, "a message with the subject \"%s\" was sent from this mailbox at that time", s);
                else if (sent_exists && !mid)
                    add(&v, 1.5, "no message with the subject \"%s\" was sent from this mailbox at that time", s);
            }
        }

        /* the original's thread: a reply to mail this mailbox received */
        if (o && o->in_reply_to && ops->has_message_id &&
            ops->has_message_id(ops->ctx, o->in_reply_to)) {
            add(&v, -2.0, "the original replied to <%s>, a message in this mailbox", o->in_reply_to);
        }

        /* Mail TO this mailbox from someone else, sent on from here (a
         * forwarding rule, .forward, a redirect) and refused by the next
         * hop: the owner's forwarding fails; nothing was forged in the
         * owner's name.  (Spam "from" the owner to the owner has the owner
         * in From and does not count here.) */
        bool to_owner = false;
        for (guint i = 0; o && o->to && i < o->to->len && i < 64 && !to_owner; i++)
            to_owner = bw_profile_is_owner(profile, g_ptr_array_index(o->to, i));
        bool forwarded = o && o->from && !owner_from && to_owner && !is_daemon_local(o->from);
        if (forwarded) {
            add(&v, -5.0, "the original was mail to this mailbox from %s, sent on from here (forwarding): "
                "nothing was sent in this mailbox's name", o->from);
            if (mid && ops->has_message_id && ops->has_message_id(ops->ctx, mid))
                add(&v, -2.0, "the original <%s> is a message this mailbox received", mid);
        }

        /* the sender the original claimed */
        if (o && o->from && !owner_from && !forwarded) {
            const char *d = domain_part(o->from);
            if (d && bw_profile_is_own_domain(profile, d))
                add(&v, 1.0, "the original claimed to come from %s, an address of this domain that this mailbox does not use", o->from);
            else
                add(&v, 1.5, "the original was from %s, not from this mailbox: only the envelope sender was forged", o->from);
        }

        /* the path the original took */
        if (origin == BW_ORIGIN_FOREIGN) {
            if (owner_from)
                add(&v, sent_exists ? 1.0 : 2.5,
                    "the original claimed to be from %s but %s", o->from, origin_why);
            else
                add(&v, sent_exists ? 0.5 : 1.5, "%s", origin_why);
        } else if (origin == BW_ORIGIN_UNKNOWN && origin_why) {
            /* a login submission at a server the profile cannot place: what
             * the owner's own mail looks like when no Sent copy taught us
             * the provider, though a stranger's account would look alike */
            add(&v, owner_from && !sent_exists ? -1.0 : 0.0, "%s", origin_why);
        } else if (origin == BW_ORIGIN_OWN_ACCOUNT) {
            if (sent_exists && mid)
                add(&v, 1.0, "%s, yet it is not in the sent mail: the account may be in someone else's hands", origin_why);
            else if (!sent_exists)
                add(&v, -2.5, "%s, as the owner's own mail is", origin_why);
        }

        /* how the mailbox's own mail looks */
        if (mid && bw_profile_sent_samples(profile) > 0) {
            const char *md = domain_part(mid);
            if (md && !bw_profile_knows_msgid_domain(profile, md) && !bw_profile_is_own_domain(profile, md) &&
                o->x_mailer && !bw_profile_knows_mailer(profile, o->x_mailer))
                add(&v, 0.5, "neither its Message-ID nor its mail program (%s) match the mail this mailbox sends", o->x_mailer);
        }

        if (it->evidence->len == 0)
            add(&v, 0.0, "the report says too little about the original to tell where it came from");
    }

    if (v.logit >= BS_THRESHOLD)
        it->klass = BW_CLASS_BACKSCATTER;
    else if (v.logit <= LEGIT_THRESHOLD)
        it->klass = BW_CLASS_LEGITIMATE;
    else
        it->klass = BW_CLASS_UNDETERMINED;
    it->score = 1.0 / (1.0 + exp(-v.logit));
    if (it->klass != BW_CLASS_BACKSCATTER && origin != BW_ORIGIN_UNKNOWN && decided)
        it->origin = BW_ORIGIN_UNKNOWN;   /* the owner's own mail: no "origin" to speak of */
    bw_fingerprint_compute(profile, r, &it->fp);
    *out = it;
    return BW_OK;
}
