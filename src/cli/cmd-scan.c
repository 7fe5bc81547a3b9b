/* cmd-scan.c: `bouncewatch scan [--json] [--since=WHEN] [--tag] [--full]`.
 *
 * The work is done by the shared scan driver (src/app/scan.c); this
 * file only parses options, prints (SPEC section 2 JSON, or a report a
 * non-expert can read in ten seconds) and picks the exit status. */
#include "config.h"
#include "cli.h"
#include "bw-signals.h"
#include "bw-scan.h"
#include "scanner.h"
#include "nm-source.h"
#include <stdio.h>
#include <string.h>

#define CHART_DAYS   30     /* days shown in the per-day chart */
#define CHART_WIDTH  40     /* columns of the longest bar */
#define LIST_MAX     10     /* rows per list before "... and N more" */

static void
print_notice(void *data, const char *line)
{
    (void)data;
    fprintf(stderr, "bouncewatch: %s\n", line);
}

static char *
fmt_day(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%d") : g_strdup("?");
}

static char *
fmt_time(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M UTC") : g_strdup("?");
}

/* The first line of the report.  "clear" is said plainly only when no
 * report was called backscatter: a clear assessment can still carry a note
 * about a few reports (a lone message through the owner's account, say). */
static const char *
status_headline(bw_assessment_status_t s, const bw_scan_result_t *r)
{
    switch (s) {
    case BW_STATUS_CLEAR:
        for (guint i = 0; r->items != NULL && i < r->items->len; i++) {
            const bw_item_t *it = g_ptr_array_index(r->items, i);
            if (it->klass == BW_CLASS_BACKSCATTER)
                return _("No attack found, but a few reports are about mail you may not have sent: read the note below.");
        }
        return _("All clear: no backscatter found.");
    case BW_STATUS_SPOOFING:
        return _("Spoofing: someone is sending mail in your name (your account shows no sign of misuse).");
    case BW_STATUS_COMPROMISE_SUSPECTED:
        return _("WARNING: your account itself may be compromised.");
    }
    return "";
}

/* A span of time, without saying the same thing twice: one time when it is
 * one instant (a campaign of one report), the end's date only when it is
 * another day. */
static char *
fmt_span(gint64 a, gint64 b)
{
    if (b <= a || a / 60 == b / 60)
        return fmt_time(a);
    g_autoptr(GDateTime) da = g_date_time_new_from_unix_utc(a);
    g_autoptr(GDateTime) db = g_date_time_new_from_unix_utc(b);
    if (da == NULL || db == NULL)
        return g_strdup("?");
    g_autofree char *start = g_date_time_format(da, "%Y-%m-%d %H:%M");
    g_autofree char *end = g_date_time_format(db, a / 86400 == b / 86400 ? "%H:%M UTC"
                                                                          : "%Y-%m-%d %H:%M UTC");
    return g_strdup_printf("%s .. %s", start, end);
}

static bool
in_list(const GPtrArray *list, const char *s)
{
    for (guint i = 0; list != NULL && s != NULL && i < list->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(list, i), s) == 0)
            return true;
    return false;
}

/* Up to `max` addresses of `senders` that are (mine) or are not (!mine) in
 * `owners`, comma-separated, with "and N more". */
static char *
sender_list(const GPtrArray *senders, const GPtrArray *owners, bool mine, guint max)
{
    GString *g = g_string_new(NULL);
    guint shown = 0, total = 0;
    for (guint j = 0; j < senders->len; j++) {
        const char *a = g_ptr_array_index(senders, j);
        if (in_list(owners, a) != mine)
            continue;
        total++;
        if (shown == max)
            continue;
        g_autofree char *t = bw_text_sanitize(a, 60);
        g_string_append_printf(g, "%s%s", shown ? ", " : "", t);
        shown++;
    }
    if (total > shown)
        g_string_append_printf(g, ngettext(" and %u more", " and %u more", total - shown),
                               total - shown);
    return g_string_free(g, total == 0);
}

static void
print_campaigns(const bw_scan_result_t *r)
{
    if (r->campaigns->len == 0)
        return;
    const GPtrArray *owners = r->assessment ? r->assessment->owner_senders : NULL;
    printf("\n%s\n", _("Campaigns of forged mail"));
    for (guint i = 0; i < r->campaigns->len && i < LIST_MAX; i++) {
        const bw_campaign_t *c = g_ptr_array_index(r->campaigns, i);
        unsigned n = c->members ? c->members->len : 0;
        g_autofree char *when = fmt_span(c->first_seen, c->last_seen);
        const char *origin = c->origin == BW_ORIGIN_OWN_ACCOUNT ? _("sent through your own account or provider")
                           : c->origin == BW_ORIGIN_FOREIGN ? _("forged elsewhere")
                           : _("origin unknown");
        g_autofree char *count = g_strdup_printf(ngettext("%u report", "%u reports", n), n);
        /* TRANSLATORS: campaign id, "N reports", when, where it was sent
         * from, " (muted)" or nothing. */
        printf(_("  %s  %s, %s, %s%s\n"), c->id, count, when, origin, c->muted ? _(" (muted)") : "");
        if (c->subjects && c->subjects->len > 0) {
            g_autofree char *subj = bw_text_sanitize(g_ptr_array_index(c->subjects, 0), 70);
            printf("      %s \"%s\"\n", _("subject:"), subj);
        }
        if (c->forged_senders && c->forged_senders->len > 0) {
            /* The forged sender is the owner's address; the campaign's other
             * sender addresses (a From beside a forged Return-Path, an
             * invented address at someone else's domain) are not the
             * owner's, and must not read as if they were. */
            g_autofree char *yours = sender_list(c->forged_senders, owners, true, 3);
            g_autofree char *others = sender_list(c->forged_senders, owners, false, 3);
            if (yours != NULL)
                printf("      %s %s\n", _("your address, forged:"), yours);
            if (others != NULL)
                printf("      %s %s\n", _("other sender addresses in this campaign:"), others);
        }
    }
    if (r->campaigns->len > LIST_MAX)
        printf(ngettext("  ... and %u more campaign (see --json)\n",
                        "  ... and %u more campaigns (see --json)\n", r->campaigns->len - LIST_MAX),
               r->campaigns->len - LIST_MAX);
}

/* A report about mail the owner really sent that says nothing failed: an
 * out-of-office reply, a challenge asking to confirm, a delivery (or
 * relay) notice.  The failures are the real bounces. */
static bool
nothing_failed(const bw_item_t *it)
{
    const bw_report_t *rep = it->report;
    if (rep == NULL)
        return false;
    if (rep->kind == BW_KIND_AUTOREPLY || rep->kind == BW_KIND_CHALLENGE)
        return true;
    if (rep->recipients == NULL || rep->recipients->len == 0)
        return false;
    for (guint i = 0; i < rep->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(rep->recipients, i);
        bool ok = rc->reason == BW_REASON_VACATION || rc->reason == BW_REASON_DELIVERED ||
                  (rc->action != NULL && (strcmp(rc->action, "delivered") == 0 ||
                                          strcmp(rc->action, "relayed") == 0 ||
                                          strcmp(rc->action, "expanded") == 0));
        if (!ok)
            return false;
    }
    return true;
}

static bool
real_bounce(const bw_item_t *it)
{
    return it->klass == BW_CLASS_LEGITIMATE && !nothing_failed(it);
}

#define CHART_MAX_ROWS 62   /* buckets at most: days, else weeks, else 30-day spans */

/* Reports per day (or week) over the window that holds every surge and at
 * least the last 30 days of reports, up to the last report.  The window is
 * named, and so is the scale: the longest bar is the busiest day of the
 * window (a day of 211 reports, not a later tail of 5), and each mark
 * stands for a stated number of reports. */
static void
print_chart(const bw_scan_result_t *r, gint64 now)
{
    gint64 last_day = G_MININT64;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        if ((it->klass == BW_CLASS_BACKSCATTER || real_bounce(it)) && it->date_unix <= now)
            last_day = MAX(last_day, it->date_unix / 86400);
    }
    if (last_day == G_MININT64)
        return;
    gint64 start_day = last_day - (CHART_DAYS - 1);
    for (guint i = 0; i < r->surges->len; i++) {
        const bw_surge_t *s = g_ptr_array_index(r->surges, i);
        start_day = MIN(start_day, s->start / 86400);
    }
    static const unsigned sizes[] = { 1, 7, 30 };
    unsigned bucket = 1;
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
        bucket = sizes[k];
        if ((last_day - start_day) / bucket + 1 <= CHART_MAX_ROWS)
            break;
    }
    gint64 rows = (last_day - start_day) / bucket + 1;
    if (rows > CHART_MAX_ROWS)
        rows = CHART_MAX_ROWS;   /* surges older than this are in the list above */
    /* Buckets end at the last report's day. */
    start_day = last_day - rows * bucket + 1;
    g_autofree unsigned *bs = g_new0(unsigned, rows);
    g_autofree unsigned *legit = g_new0(unsigned, rows);
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        gint64 d = it->date_unix / 86400;
        if (d < start_day || d > last_day)
            continue;
        gint64 row = (d - start_day) / bucket;
        if (it->klass == BW_CLASS_BACKSCATTER)
            bs[row]++;
        else if (real_bounce(it))
            legit[row]++;
    }
    unsigned peak = 0;
    for (gint64 i = 0; i < rows; i++)
        peak = MAX(peak, bs[i] + legit[i]);
    if (peak == 0)
        return;
    unsigned unit = (peak + CHART_WIDTH - 1) / CHART_WIDTH;
    g_autofree char *from = fmt_day(start_day * 86400);
    g_autofree char *to = fmt_day(last_day * 86400);
    printf("\n");
    if (bucket == 1)
        printf(_("Reports per day, %s to %s (days without reports are left out)\n"), from, to);
    else
        printf(ngettext("Reports per %u day, %s to %s (each line starts on its first day; "
                        "lines without reports are left out)\n",
                        "Reports per %u days, %s to %s (each line starts on its first day; "
                        "lines without reports are left out)\n", bucket), bucket, from, to);
    printf("  ");
    if (unit == 1)
        printf("%s\n", _("# backscatter, + real bounces of your own mail; one mark is one report"));
    else
        printf(ngettext("# backscatter, + real bounces of your own mail; one mark stands for up "
                        "to %u report\n", "# backscatter, + real bounces of your own mail; one "
                        "mark stands for up to %u reports\n", unit), unit);
    for (gint64 i = 0; i < rows; i++) {
        if (bs[i] + legit[i] == 0)
            continue;
        gint64 d0 = (start_day + i * bucket) * 86400, d1 = d0 + (gint64)bucket * 86400 - 1;
        bool surge = false;
        for (guint j = 0; j < r->surges->len && !surge; j++) {
            const bw_surge_t *s = g_ptr_array_index(r->surges, j);
            surge = s->start <= d1 && d0 <= s->end;
        }
        g_autofree char *day = fmt_day(d0);
        unsigned wb = (bs[i] + unit - 1) / unit, wl = (legit[i] + unit - 1) / unit;
        printf("  %s |", day);
        for (unsigned k = 0; k < wb; k++)
            putchar('#');
        for (unsigned k = 0; k < wl; k++)
            putchar('+');
        printf(" %u/%u%s%s\n", bs[i], legit[i], surge ? "  " : "", surge ? _("<- surge") : "");
    }
}

static void
print_legit(const bw_scan_result_t *r)
{
    unsigned n = 0, replies = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        n += real_bounce(it);
        replies += it->klass == BW_CLASS_LEGITIMATE && nothing_failed(it);
    }
    const bw_assessment_t *a = r->assessment;
    if (n > 0 || (a != NULL && a->hard_bouncing != NULL && a->hard_bouncing->len > 0)) {
        printf("\n%s (%u)\n", _("Real bounces of mail you sent"), n);
        unsigned shown = 0;
        for (guint i = r->items->len; i-- > 0 && shown < LIST_MAX;) {
            const bw_item_t *it = g_ptr_array_index(r->items, i);
            if (!real_bounce(it) || it->report == NULL)
                continue;
            shown++;
            g_autofree char *when = fmt_day(it->date_unix);
            const bw_recipient_t *rcpt = it->report->recipients && it->report->recipients->len
                                       ? g_ptr_array_index(it->report->recipients, 0) : NULL;
            g_autofree char *addr = bw_text_sanitize(rcpt && rcpt->address ? rcpt->address : "", 60);
            const char *reason = bw_reason_to_string(rcpt ? rcpt->reason : BW_REASON_UNKNOWN);
            g_autofree char *subj = bw_text_sanitize(
                it->report->original && it->report->original->subject
                ? it->report->original->subject : "", 40);
            printf("  %s  %-30s %-18s %s\n", when, addr, reason ? reason : "", subj);
        }
        if (n > shown)
            printf(ngettext("  ... and %u more\n", "  ... and %u more\n", n - shown), n - shown);
        if (a && a->legit_remedies && a->legit_remedies->len) {
            printf("%s\n", _("What to do:"));
            for (guint i = 0; i < a->legit_remedies->len; i++)
                printf("  - %s\n", (const char *)g_ptr_array_index(a->legit_remedies, i));
        }
        if (a && a->hard_bouncing && a->hard_bouncing->len) {
            printf("%s\n", _("Addresses that do not accept mail (fix or remove them from your address book):"));
            for (guint i = 0; i < a->hard_bouncing->len && i < 2 * LIST_MAX; i++) {
                g_autofree char *t = bw_text_sanitize(g_ptr_array_index(a->hard_bouncing, i), 100);
                printf("  - %s\n", t);
            }
        }
    }
    /* Not failures: counted apart, not listed among the bounces. */
    if (replies > 0) {
        printf("\n");
        printf(ngettext("%u automatic reply to mail you sent (out of office, a request to "
                        "confirm, a delivery notice): not a failure.\n",
                        "%u automatic replies to mail you sent (out of office, requests to "
                        "confirm, delivery notices): not failures.\n", replies),
               replies);
    }
}

static gint
cmp_line(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "Signs about your account" (SPEC 2b): a timeline of the signals, the
 * reports about mail sent through the account and the imitations, in local
 * time.  Each line starts with its date, so sorting the lines sorts them
 * by time. */
static void
print_signs(const bw_scan_result_t *r, gint64 now)
{
    g_autoptr(GDateTime) here = g_date_time_new_from_unix_local(now);
    int offset = here ? (int)(g_date_time_get_utc_offset(here) / G_USEC_PER_SEC) : 0;
    g_autoptr(GPtrArray) lines = bw_signals_timeline(r->signals, r->phishing, offset);
    for (guint i = 0; r->campaigns && i < r->campaigns->len; i++) {
        const bw_campaign_t *c = g_ptr_array_index(r->campaigns, i);
        if (c->origin != BW_ORIGIN_OWN_ACCOUNT || c->members == NULL || c->members->len == 0)
            continue;
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(c->first_seen);
        g_autofree char *when = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
        g_ptr_array_add(lines, g_strdup_printf(
            ngettext("%s  %u report came back about mail sent through your account (campaign %s)",
                     "%s  %u reports came back about mail sent through your account (campaign %s)",
                     c->members->len), when, c->members->len, c->id));
    }
    if (lines->len == 0)
        return;
    g_ptr_array_sort(lines, cmp_line);
    printf("\n%s\n", _("Signs about your account"));
    for (guint i = 0; i < lines->len; i++) {
        g_autofree char *clean = bw_text_sanitize(g_ptr_array_index(lines, i), 400);
        printf("  %s\n", clean ? clean : "");
    }
}

/* The structural caps (caps.c, LIMITS in bouncewatch(1)) in words. */
static const struct {
    const char *cap;
    const char *what;
} cap_words[] = {
    { "BW_MAX_JSON_DEPTH", N_("JSON nested too deep") },
    { "BW_MAX_JSON_VALUES", N_("too many values in a JSON text") },
    { "BW_MAX_JSON_BYTES", N_("a JSON text too large") },
    { "BW_MAX_ADDRESS_GROUP_DEPTH", N_("address groups nested too deep") },
    { "BW_MAX_ADDRESS_COMMENT_DEPTH", N_("comments nested too deep in an address") },
    { "BW_MAX_ADDRESSES", N_("too many addresses in one header field") },
    { "BW_MAX_MIME_PARAMS", N_("too many parameters in one MIME header field") },
    { "BW_MAX_RFC2231_SECTIONS", N_("too many RFC 2231 sections in one parameter") },
    { "BW_MAX_ENCODED_WORDS", N_("too many encoded words in one header field") },
    { "BW_MAX_ENCODED_WORDS_TOTAL", N_("too many encoded words in the message") },
    { "BW_MAX_DATE_BYTES", N_("a date too long") },
};

/* The cap a refusal names: its detail ends "(limit BW_MAX_...)" (caps.c;
 * scan --json gives the detail whole).  NULL when there is none. */
static char *
refused_cap(const char *why)
{
    static const char mark[] = "(limit ";
    const char *at = why ? g_strrstr(why, mark) : NULL;
    if (at == NULL)
        return NULL;
    at += sizeof mark - 1;
    size_t n = strspn(at, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (n == 0 || n > 64 || at[n] != ')')
        return NULL;
    return g_strndup(at, n);
}

/* What the user reads about why a message was skipped (g_free). */
static char *
skip_reason(const bw_skipped_t *k)
{
    if (g_strcmp0(k->cause, "crash") == 0)
        return g_strdup(_("the reader crashed on it"));
    if (g_strcmp0(k->cause, "timeout") == 0)
        return g_strdup(_("reading it took too long"));
    if (g_strcmp0(k->cause, "garbage") == 0)
        return g_strdup(_("the reader gave an invalid answer on it"));
    if (g_strcmp0(k->cause, "refused") == 0) {
        g_autofree char *cap = refused_cap(k->why);
        if (cap == NULL)
            return g_strdup(_("refused: its structure goes past a safety limit"));
        for (size_t i = 0; i < G_N_ELEMENTS(cap_words); i++)
            if (strcmp(cap, cap_words[i].cap) == 0)
                /* TRANSLATORS: the first %s says what went past the limit
                 * ("JSON nested too deep"), the second is the limit's name
                 * (BW_MAX_JSON_DEPTH), as bouncewatch(1) lists it */
                return g_strdup_printf(_("refused: %s (limit %s)"), _(cap_words[i].what), cap);
        /* TRANSLATORS: %s is the limit's name (BW_MAX_JSON_DEPTH) */
        return g_strdup_printf(_("refused: its structure goes past a safety limit (%s)"), cap);
    }
    return g_strdup(_("it could not be read"));
}

/* Messages the scan could not read: named, because one of them may be the
 * report of an attack that someone wanted to go unseen. */
static void
print_skipped(const bw_scan_result_t *r)
{
    if (r->skipped == NULL || r->skipped->len == 0)
        return;
    printf("\n");
    printf(ngettext("%u message could not be read and was skipped:\n",
                    "%u messages could not be read and were skipped:\n", r->skipped->len),
           r->skipped->len);
    for (guint i = 0; i < r->skipped->len && i < LIST_MAX; i++) {
        const bw_skipped_t *k = g_ptr_array_index(r->skipped, i);
        g_autofree char *file = bw_text_sanitize(k->file, 100);
        g_autofree char *id = bw_text_sanitize(k->message_id, 80);
        g_autofree char *reason = skip_reason(k);
        printf("  %s\n      <%s>: %s\n", file, id, reason);
    }
    if (r->skipped->len > LIST_MAX)
        printf(ngettext("  ... and %u more message (see --json)\n",
                        "  ... and %u more messages (see --json)\n", r->skipped->len - LIST_MAX),
               r->skipped->len - LIST_MAX);
    printf("%s\n", _("They are read again when bouncewatch is updated, or now with "
                     "'bouncewatch scan --retry-skipped'."));
}

static void
print_human(const bw_scan_result_t *r, gint64 now)
{
    const bw_assessment_t *a = r->assessment;
    unsigned bs = 0, legit = 0, replies = 0, undet = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        bs += it->klass == BW_CLASS_BACKSCATTER;
        legit += real_bounce(it);
        replies += it->klass == BW_CLASS_LEGITIMATE && !real_bounce(it);
        undet += it->klass == BW_CLASS_UNDETERMINED;
    }
    printf("%s\n", status_headline(a ? a->status : BW_STATUS_CLEAR, r));
    if (a && a->summary)
        printf("%s\n", a->summary);
    /* Label: number pairs read the same in every language and count. */
    printf(_("Reports: %u (backscatter: %u, real bounces: %u, automatic replies to your mail: %u, "
             "undetermined: %u). Campaigns: %u. Surges: %u.\n"),
           r->items->len, bs, legit, replies, undet, r->campaigns->len, r->surges->len);
    if ((r->signals && r->signals->len) || (r->phishing && r->phishing->len))
        print_signs(r, now);
    if (a && a->advice && a->advice->len) {
        printf("\n%s\n", _("What to do first:"));
        for (guint i = 0; i < a->advice->len; i++)
            printf("  %u. %s\n", i + 1, (const char *)g_ptr_array_index(a->advice, i));
    }
    for (guint i = 0; i < r->surges->len; i++) {
        const bw_surge_t *s = g_ptr_array_index(r->surges, i);
        g_autofree char *span = fmt_span(s->start, s->end);
        if (i == 0)
            printf("\n%s\n", _("Surges"));
        printf(ngettext("  %s: %u report (usually %.2f an hour)%s\n",
                        "  %s: %u reports (usually %.2f an hour)%s\n", s->count),
               span, s->count, s->baseline_per_hour, s->ongoing ? _(", still going on") : "");
    }
    print_skipped(r);
    print_campaigns(r);
    print_chart(r, now);
    print_legit(r);
}

int
bw_cmd_scan(int argc, char **argv)
{
    gboolean json = FALSE, tag = FALSE, full = FALSE, quiet = FALSE, print_query = FALSE;
    gboolean retry_skipped = FALSE;
    g_autofree char *since_text = NULL;
    gint format_version = BW_FORMAT_VERSION_CUR;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("print the JSON document (fields: bouncewatch-json(7))"), NULL },
        { "format-version", 0, 0, G_OPTION_ARG_INT, &format_version,
          N_("write JSON format version N (exit 20: N too old, 21: too new)"), N_("N") },
        { "since", 0, 0, G_OPTION_ARG_STRING, &since_text,
          N_("list only reports since WHEN: a date, an RFC 3339 time, or an age in minutes (30m), "
             "hours (12h), days (3d), weeks (2w), months of 30 days (6mo) or years of 365 days (1y)"),
          N_("WHEN") },
        { "tag", 0, 0, G_OPTION_ARG_NONE, &tag, N_("also tag the reports in notmuch (bounce, backscatter, bw/ID)"), NULL },
        { "full", 0, 0, G_OPTION_ARG_NONE, &full, N_("rescan every message, ignoring the saved state"), NULL },
        { "retry-skipped", 0, 0, G_OPTION_ARG_NONE, &retry_skipped,
          N_("read again the messages earlier scans skipped (they crashed or hung the reader)"), NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("no notices on standard error"), NULL },
        { "print-query", 0, 0, G_OPTION_ARG_NONE, &print_query,
          N_("print the notmuch query that selects candidate reports, and exit"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, _("Find backscatter in the notmuch database and say what to do."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "bouncewatch scan: %s\n", err->message);
        return BW_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, _("bouncewatch scan: unexpected argument '%s'\n"), argv[1]);
        return BW_EXIT_USAGE;
    }
    int version_rc = bw_cli_format_version_exit("scan", format_version);
    if (version_rc != BW_EXIT_OK)
        return version_rc;
    if (print_query) {
        g_autoptr(bw_nm_source_t) src = NULL;
        g_autofree char *detail = NULL;
        bw_status_t st = bw_nm_source_open(NULL, &src, &detail);
        if (st != BW_OK) {
            fprintf(stderr, "bouncewatch scan: %s\n", detail ? detail : bw_status_to_string(st));
            return bw_cli_exit_code(st);
        }
        g_autofree char *q = bw_nm_source_prefilter_query(src);
        printf("%s\n", q);
        return BW_EXIT_OK;
    }
    gint64 now = 0;
    if (!bw_cli_now(&now))
        return BW_EXIT_USAGE;

    bw_scanner_options_t opts;
    bw_scanner_options_init(&opts);
    opts.now = now;
    opts.tag = tag;
    opts.full = full;
    opts.retry_skipped = retry_skipped;
    opts.quiet = quiet;
    opts.notice = print_notice;
    bool tag_failed = false;
    opts.tag_failed_out = &tag_failed;
    bw_owner_problem_t owner_problem = { 0 };
    opts.owner_problem_out = &owner_problem;
    if (since_text && !bw_scanner_parse_since(since_text, now, &opts.since)) {
        fprintf(stderr, _("bouncewatch scan: --since=%s is neither a date, an RFC 3339 time "
                          "nor an age like 30m, 12h, 3d, 2w, 6mo or 1y\n"), since_text);
        return BW_EXIT_USAGE;
    }

    bw_scan_result_t *r = NULL;
    g_autofree char *detail = NULL;
    g_autofree char *json_text = NULL;
    bw_status_t st = json ? bw_scanner_run_json(&opts, &json_text, &detail)
                          : bw_scanner_run(&opts, &r, &detail);
    if (st == BW_E_CONFIG) {
        /* No verdict without the owner's address, or no notmuch
         * configuration at all: say what to set. */
        g_auto(GStrv) lines = bw_cli_unconfigured_lines(&owner_problem, detail);
        for (char **l = lines; *l; l++)
            fprintf(stderr, "bouncewatch scan: %s\n", *l);
        bw_owner_problem_clear(&owner_problem);
        return BW_EXIT_CONFIG;
    }
    if (st != BW_OK) {
        fprintf(stderr, "bouncewatch scan: %s\n", detail ? detail : bw_status_to_string(st));
        return bw_cli_exit_code(st);
    }
    if (json) {
        fputs(json_text, stdout);
        putchar('\n');
    } else {
        print_human(r, now);
    }
    bw_scan_result_free(r);
    if (fflush(stdout) != 0)
        return BW_EXIT_FAILURE;
    /* The scan is valid and saved; the tags come on the next --tag run. */
    return tag_failed ? BW_EXIT_UNAVAILABLE : BW_EXIT_OK;
}
