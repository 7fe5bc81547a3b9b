/* cmd-scan.c: `bouncewatch scan [--json] [--since=WHEN] [--tag] [--full]`.
 *
 * The work is done by the shared scan driver (src/adapters/scanner.c); this
 * file only parses options, prints (SPEC section 2 JSON, or a report a
 * non-expert can read in ten seconds) and picks the exit status. */
#include "config.h"
#include "cli.h"
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

/* Attacker-written text (subjects, addresses) goes to a terminal: replace
 * control characters so escape sequences cannot reach it, and cut it. */
static char *
safe_text(const char *s, size_t max_chars)
{
    if (s == NULL)
        return g_strdup("");
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *g = g_string_new(NULL);
    size_t n = 0;
    const char *p = valid;
    for (; *p && n < max_chars; p = g_utf8_next_char(p), n++) {
        gunichar c = g_utf8_get_char(p);
        /* Bidi overrides could reorder what the user reads. */
        if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e)
            || (c >= 0x2066 && c <= 0x2069))
            g_string_append_c(g, ' ');
        else
            g_string_append_unichar(g, c);
    }
    if (*p)
        g_string_append(g, "...");
    return g_string_free(g, FALSE);
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

static void
print_campaigns(const bw_scan_result_t *r)
{
    if (r->campaigns->len == 0)
        return;
    printf("\n%s\n", _("Campaigns of forged mail"));
    for (guint i = 0; i < r->campaigns->len && i < LIST_MAX; i++) {
        const bw_campaign_t *c = g_ptr_array_index(r->campaigns, i);
        g_autofree char *first = fmt_time(c->first_seen);
        g_autofree char *last = fmt_time(c->last_seen);
        const char *origin = c->origin == BW_ORIGIN_OWN_ACCOUNT ? _("sent through your own account or provider")
                           : c->origin == BW_ORIGIN_FOREIGN ? _("forged elsewhere")
                           : _("origin unknown");
        printf("  %s  %u %s, %s .. %s, %s%s\n", c->id, c->members ? c->members->len : 0,
               _("reports"), first, last, origin, c->muted ? _(" (muted)") : "");
        if (c->subjects && c->subjects->len > 0) {
            g_autofree char *subj = safe_text(g_ptr_array_index(c->subjects, 0), 70);
            printf("      %s \"%s\"\n", _("subject:"), subj);
        }
        if (c->forged_senders && c->forged_senders->len > 0) {
            GString *g = g_string_new(NULL);
            for (guint j = 0; j < c->forged_senders->len && j < 3; j++) {
                g_autofree char *a = safe_text(g_ptr_array_index(c->forged_senders, j), 60);
                g_string_append_printf(g, "%s%s", j ? ", " : "", a);
            }
            if (c->forged_senders->len > 3)
                g_string_append_printf(g, _(" and %u more"), c->forged_senders->len - 3);
            printf("      %s %s\n", _("forged sender:"), g->str);
            g_string_free(g, TRUE);
        }
    }
    if (r->campaigns->len > LIST_MAX)
        printf(_("  ... and %u more campaigns (see --json)\n"), r->campaigns->len - LIST_MAX);
}

static void
print_chart(const bw_scan_result_t *r, gint64 now)
{
    if (r->items->len == 0)
        return;
    /* The last CHART_DAYS days up to now, or up to the last report when the
     * mail is older. */
    gint64 last = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        last = MAX(last, it->date_unix);
    }
    gint64 end_day = (MIN(now, last) / 86400);
    gint64 start_day = end_day - (CHART_DAYS - 1);
    unsigned bs[CHART_DAYS] = { 0 }, legit[CHART_DAYS] = { 0 };
    unsigned peak = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        gint64 d = it->date_unix / 86400;
        if (d < start_day || d > end_day)
            continue;
        if (it->klass == BW_CLASS_BACKSCATTER)
            bs[d - start_day]++;
        else if (it->klass == BW_CLASS_LEGITIMATE)
            legit[d - start_day]++;
    }
    for (int i = 0; i < CHART_DAYS; i++)
        peak = MAX(peak, bs[i] + legit[i]);
    if (peak == 0)
        return;
    printf("\n%s\n", _("Reports per day (# backscatter, + real bounces of your own mail)"));
    for (int i = 0; i < CHART_DAYS; i++) {
        if (bs[i] + legit[i] == 0 && i != CHART_DAYS - 1)
            continue;
        g_autofree char *day = fmt_day((start_day + i) * 86400);
        unsigned wb = bs[i] ? MAX(1u, (unsigned)((guint64)bs[i] * CHART_WIDTH / peak)) : 0;
        unsigned wl = legit[i] ? MAX(1u, (unsigned)((guint64)legit[i] * CHART_WIDTH / peak)) : 0;
        printf("  %s |", day);
        for (unsigned k = 0; k < wb; k++)
            putchar('#');
        for (unsigned k = 0; k < wl; k++)
            putchar('+');
        printf(" %u/%u\n", bs[i], legit[i]);
    }
}

static void
print_legit(const bw_scan_result_t *r)
{
    unsigned n = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        if (it->klass == BW_CLASS_LEGITIMATE)
            n++;
    }
    const bw_assessment_t *a = r->assessment;
    if (n == 0 && (a == NULL || a->hard_bouncing == NULL || a->hard_bouncing->len == 0))
        return;
    printf("\n%s (%u)\n", _("Real bounces of mail you sent"), n);
    unsigned shown = 0;
    for (guint i = r->items->len; i-- > 0 && shown < LIST_MAX;) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        if (it->klass != BW_CLASS_LEGITIMATE || it->report == NULL)
            continue;
        shown++;
        g_autofree char *when = fmt_day(it->date_unix);
        const bw_recipient_t *rcpt = it->report->recipients && it->report->recipients->len
                                   ? g_ptr_array_index(it->report->recipients, 0) : NULL;
        g_autofree char *addr = safe_text(rcpt ? rcpt->address : NULL, 60);
        const char *reason = bw_reason_to_string(rcpt ? rcpt->reason : BW_REASON_UNKNOWN);
        g_autofree char *subj = safe_text(it->report->original ? it->report->original->subject
                                                                 : NULL, 40);
        printf("  %s  %-30s %-18s %s\n", when, addr, reason ? reason : "", subj);
    }
    if (n > shown)
        printf(_("  ... and %u more\n"), n - shown);
    if (a && a->legit_remedies && a->legit_remedies->len) {
        printf("%s\n", _("What to do:"));
        for (guint i = 0; i < a->legit_remedies->len; i++)
            printf("  - %s\n", (const char *)g_ptr_array_index(a->legit_remedies, i));
    }
    if (a && a->hard_bouncing && a->hard_bouncing->len) {
        printf("%s\n", _("Addresses that do not accept mail (fix or remove them from your address book):"));
        for (guint i = 0; i < a->hard_bouncing->len && i < 2 * LIST_MAX; i++) {
            g_autofree char *t = safe_text(g_ptr_array_index(a->hard_bouncing, i), 100);
            printf("  - %s\n", t);
        }
    }
}

static void
print_human(const bw_scan_result_t *r, gint64 now)
{
    const bw_assessment_t *a = r->assessment;
    unsigned bs = 0, legit = 0, undet = 0;
    for (guint i = 0; i < r->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(r->items, i);
        bs += it->klass == BW_CLASS_BACKSCATTER;
        legit += it->klass == BW_CLASS_LEGITIMATE;
        undet += it->klass == BW_CLASS_UNDETERMINED;
    }
    printf("%s\n", status_headline(a ? a->status : BW_STATUS_CLEAR, r));
    if (a && a->summary)
        printf("%s\n", a->summary);
    /* Label: number pairs read the same in every language and count. */
    printf(_("Reports: %u (backscatter: %u, real bounces: %u, undetermined: %u). "
             "Campaigns: %u. Surges: %u.\n"),
           r->items->len, bs, legit, undet, r->campaigns->len, r->surges->len);
    if (a && a->advice && a->advice->len) {
        printf("\n%s\n", _("What to do first:"));
        for (guint i = 0; i < a->advice->len; i++)
            printf("  %u. %s\n", i + 1, (const char *)g_ptr_array_index(a->advice, i));
    }
    for (guint i = 0; i < r->surges->len; i++) {
        const bw_surge_t *s = g_ptr_array_index(r->surges, i);
        g_autofree char *st = fmt_time(s->start);
        printf(i == 0 ? "\n%s\n" : "", _("Surges"));
        printf(_("  %s: %u reports (usually %.2f an hour)%s\n"), st, s->count,
               s->baseline_per_hour, s->ongoing ? _(", still going on") : "");
    }
    print_campaigns(r);
    print_chart(r, now);
    print_legit(r);
}

int
bw_cmd_scan(int argc, char **argv)
{
    gboolean json = FALSE, tag = FALSE, full = FALSE, quiet = FALSE, print_query = FALSE;
    g_autofree char *since_text = NULL;
    gint format_version = BW_FORMAT_VERSION_CUR;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("print the JSON document (fields: bouncewatch-json(7))"), NULL },
        { "format-version", 0, 0, G_OPTION_ARG_INT, &format_version,
          N_("write JSON format version N (exit 20: N too old, 21: too new)"), N_("N") },
        { "since", 0, 0, G_OPTION_ARG_STRING, &since_text,
          N_("list only reports since WHEN (a date, RFC 3339 time, or an age: 2w, 3d, 12h)"), N_("WHEN") },
        { "tag", 0, 0, G_OPTION_ARG_NONE, &tag, N_("also tag the reports in notmuch (bounce, backscatter, bw/ID)"), NULL },
        { "full", 0, 0, G_OPTION_ARG_NONE, &full, N_("rescan every message, ignoring the saved state"), NULL },
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
        if (bw_nm_source_open(NULL, &src, &detail) != BW_OK) {
            fprintf(stderr, "bouncewatch scan: %s\n", detail);
            return BW_EXIT_UNAVAILABLE;
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
    opts.quiet = quiet;
    opts.notice = print_notice;
    bool tag_failed = false;
    opts.tag_failed_out = &tag_failed;
    bw_owner_problem_t owner_problem = { 0 };
    opts.owner_problem_out = &owner_problem;
    if (since_text && !bw_scanner_parse_since(since_text, now, &opts.since)) {
        fprintf(stderr, _("bouncewatch scan: --since=%s is neither a date, an RFC 3339 time "
                          "nor an age like 2w, 3d or 12h\n"), since_text);
        return BW_EXIT_USAGE;
    }

    bw_scan_result_t *r = NULL;
    g_autofree char *detail = NULL;
    g_autofree char *json_text = NULL;
    bw_status_t st = json ? bw_scanner_run_json(&opts, &json_text, &detail)
                          : bw_scanner_run(&opts, &r, &detail);
    if (st == BW_E_CONFIG) {
        /* No verdict without the owner's address: say what to set. */
        g_auto(GStrv) lines = bw_owner_problem_lines(&owner_problem);
        for (char **l = lines; *l; l++)
            fprintf(stderr, "bouncewatch scan: %s\n", *l);
        bw_owner_problem_clear(&owner_problem);
        return BW_EXIT_CONFIG;
    }
    if (st != BW_OK) {
        fprintf(stderr, "bouncewatch scan: %s\n", detail ? detail : bw_status_to_string(st));
        switch (st) {
        case BW_E_DATABASE: return BW_EXIT_UNAVAILABLE;
        case BW_E_INVALID: return BW_EXIT_USAGE;
        case BW_E_STATE: return BW_EXIT_FAILURE;
        default: return BW_EXIT_SOFTWARE;
        }
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
