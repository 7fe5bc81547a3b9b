/* check_notify.c: which surges get an alert, and what the alert says (no
 * display needed: bw_alerts_from_result and bw_alert_format are plain data).
 * The notification server itself is exercised by tests/e2e/T1xx-notify*.sh. */
#include "suites.h"
#include "notify.h"
#include "bw-signals.h"
#include <string.h>

/* Results are built by hand and freed by hand: these tests must not depend
 * on the engine's constructors. */
static bw_campaign_t *
mk_campaign(const char *id, unsigned members, const char *subject, bool muted)
{
    bw_campaign_t *c = g_new0(bw_campaign_t, 1);
    c->id = g_strdup(id);
    c->members = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < members; i++)
        g_ptr_array_add(c->members, g_strdup_printf("m%u@%s", i, id));
    c->subjects = g_ptr_array_new_with_free_func(g_free);
    if (subject)
        g_ptr_array_add(c->subjects, g_strdup(subject));
    c->forged_senders = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(c->forged_senders, g_strdup("ceo@victim.example"));
    c->muted = muted;
    return c;
}

static void
free_campaign(gpointer p)
{
    bw_campaign_t *c = p;
    g_free(c->id);
    g_ptr_array_unref(c->members);
    g_ptr_array_unref(c->subjects);
    g_ptr_array_unref(c->forged_senders);
    g_free(c);
}

static bw_surge_t *
mk_surge(gint64 start, gint64 end, unsigned count, bool ongoing, const char *c1, const char *c2)
{
    bw_surge_t *s = g_new0(bw_surge_t, 1);
    s->start = start;
    s->end = end;
    s->count = count;
    s->ongoing = ongoing;
    s->campaigns = g_ptr_array_new_with_free_func(g_free);
    if (c1)
        g_ptr_array_add(s->campaigns, g_strdup(c1));
    if (c2)
        g_ptr_array_add(s->campaigns, g_strdup(c2));
    return s;
}

static void
free_surge(gpointer p)
{
    bw_surge_t *s = p;
    g_ptr_array_unref(s->campaigns);
    g_free(s);
}

static bw_scan_result_t *
mk_result(bw_assessment_status_t status)
{
    bw_scan_result_t *r = g_new0(bw_scan_result_t, 1);
    r->campaigns = g_ptr_array_new_with_free_func(free_campaign);
    r->surges = g_ptr_array_new_with_free_func(free_surge);
    r->assessment = g_new0(bw_assessment_t, 1);
    r->assessment->status = status;
    r->assessment->advice = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(r->assessment->advice,
                    g_strdup("Change the password of me@example.com from a clean device"));
    return r;
}

static void
free_result(bw_scan_result_t *r)
{
    g_ptr_array_unref(r->campaigns);
    g_ptr_array_unref(r->surges);
    g_ptr_array_unref(r->assessment->advice);
    g_free(r->assessment);
    g_free(r);
}

#define NOW  1795000000
#define HOUR 3600

START_TEST(test_only_ongoing_surges_alert)
{
    bw_scan_result_t *r = mk_result(BW_STATUS_SPOOFING);
    g_ptr_array_add(r->campaigns, mk_campaign("bw-00000001", 30, "Invoice 123", false));
    g_ptr_array_add(r->surges, mk_surge(NOW - 48 * HOUR, NOW - 46 * HOUR, 25, false,
                                        "bw-00000001", NULL));
    g_ptr_array_add(r->surges, mk_surge(NOW - HOUR, NOW + HOUR, 40, true, "bw-00000001", NULL));
    GPtrArray *alerts = bw_alerts_from_result(r, "me@example.com", NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    bw_alert_t *a = g_ptr_array_index(alerts, 0);
    ck_assert_uint_eq(a->count, 40);
    ck_assert_str_eq(a->campaign, "bw-00000001");
    ck_assert_str_eq(a->subject, "Invoice 123");
    ck_assert_int_eq(a->status, BW_STATUS_SPOOFING);
    /* The key is stable for the same surge start, so growth finds it. */
    g_autofree char *key = g_strdup(a->key);
    g_ptr_array_unref(alerts);
    ((bw_surge_t *)g_ptr_array_index(r->surges, 1))->count = 90;
    alerts = bw_alerts_from_result(r, NULL, NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    ck_assert_str_eq(((bw_alert_t *)g_ptr_array_index(alerts, 0))->key, key);
    ck_assert_uint_eq(((bw_alert_t *)g_ptr_array_index(alerts, 0))->count, 90);
    g_ptr_array_unref(alerts);
    free_result(r);
}
END_TEST

static bool
muted_by_list(void *data, const char *campaign)
{
    return g_strv_contains((const char *const *)data, campaign);
}

START_TEST(test_muted_campaigns_stay_silent)
{
    bw_scan_result_t *r = mk_result(BW_STATUS_SPOOFING);
    g_ptr_array_add(r->campaigns, mk_campaign("bw-0000000a", 50, "A", true));
    g_ptr_array_add(r->campaigns, mk_campaign("bw-0000000b", 10, "B", false));
    g_ptr_array_add(r->surges, mk_surge(NOW - HOUR, NOW + HOUR, 60, true,
                                        "bw-0000000a", "bw-0000000b"));
    /* One campaign muted: the alert is about the other one. */
    GPtrArray *alerts = bw_alerts_from_result(r, NULL, NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    ck_assert_str_eq(((bw_alert_t *)g_ptr_array_index(alerts, 0))->campaign, "bw-0000000b");
    ck_assert_uint_eq(((bw_alert_t *)g_ptr_array_index(alerts, 0))->n_campaigns, 1);
    g_ptr_array_unref(alerts);
    /* The count leaves the muted campaign's reports out, so its growth
     * alone cannot update the alert. */
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < 60; i++) {
        bw_item_t *it = g_new0(bw_item_t, 1);
        it->klass = BW_CLASS_BACKSCATTER;
        it->campaign = i < 50 ? "bw-0000000a" : "bw-0000000b";  /* borrowed */
        it->date_unix = NOW - HOUR + 60 * (gint64)i;
        g_ptr_array_add(items, it);
    }
    r->items = items;
    alerts = bw_alerts_from_result(r, NULL, NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    ck_assert_uint_eq(((bw_alert_t *)g_ptr_array_index(alerts, 0))->count, 10);
    g_ptr_array_unref(alerts);
    r->items = NULL;
    /* Both muted (one through the callback): silence. */
    const char *list[] = { "bw-0000000b", NULL };
    alerts = bw_alerts_from_result(r, NULL, NOW, muted_by_list, list);
    ck_assert_uint_eq(alerts->len, 0);
    g_ptr_array_unref(alerts);
    free_result(r);
}
END_TEST

/* Well-formed markup, as a notification daemon (GMarkup/Pango) parses it,
 * and only the tags we put in ourselves. */
static void
check_element(GMarkupParseContext *ctx, const char *name, const char **an,
              const char **av, gpointer data, GError **error)
{
    (void)ctx; (void)an; (void)av; (void)data;
    if (strcmp(name, "markup") != 0 && strcmp(name, "b") != 0)
        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ELEMENT,
                    "unexpected element <%s>", name);
}

static bool
pango_like_markup_ok(const char *body, GError **err)
{
    static const GMarkupParser parser = { check_element, NULL, NULL, NULL, NULL };
    g_autofree char *doc = g_strconcat("<markup>", body, "</markup>", NULL);
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, NULL, NULL);
    bool ok = g_markup_parse_context_parse(ctx, doc, -1, err) &&
              g_markup_parse_context_end_parse(ctx, err);
    g_markup_parse_context_free(ctx);
    return ok;
}

/* Issue 11: the notification said "Since 00:00" for a first report at
 * 00:25: the surge's window starts on the hour, the alert at its first
 * report. */
START_TEST(test_alert_starts_at_first_report)
{
    bw_scan_result_t *r = mk_result(BW_STATUS_SPOOFING);
    g_ptr_array_add(r->campaigns, mk_campaign("bw-00000001", 30, "Invoice 123", false));
    gint64 hour0 = (NOW / HOUR) * HOUR - 2 * HOUR;
    g_ptr_array_add(r->surges, mk_surge(hour0, NOW + HOUR, 3, true, "bw-00000001", NULL));
    r->items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    const gint64 at[] = { hour0 + 40 * 60, hour0 + 25 * 60, hour0 + 90 * 60 };
    for (size_t i = 0; i < G_N_ELEMENTS(at); i++) {
        bw_item_t *it = g_new0(bw_item_t, 1);
        it->message_id = g_strdup_printf("r%zu@x", i);
        it->date_unix = at[i];
        it->klass = BW_CLASS_BACKSCATTER;
        it->campaign = g_strdup("bw-00000001");
        g_ptr_array_add(r->items, it);
    }
    /* a legitimate bounce earlier in the hour does not start it */
    bw_item_t *legit = g_new0(bw_item_t, 1);
    legit->message_id = g_strdup("l@x");
    legit->date_unix = hour0 + 5 * 60;
    legit->klass = BW_CLASS_LEGITIMATE;
    g_ptr_array_add(r->items, legit);
    GPtrArray *alerts = bw_alerts_from_result(r, "me@example.com", NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    bw_alert_t *a = g_ptr_array_index(alerts, 0);
    ck_assert_int_eq(a->start, hour0 + 25 * 60);
    /* the key stays the window's: growth finds the same notification */
    g_autofree char *want_key = g_strdup_printf("surge-%" G_GINT64_FORMAT, hour0);
    ck_assert_str_eq(a->key, want_key);
    g_ptr_array_unref(alerts);
    g_ptr_array_unref(r->items);
    free_result(r);
}
END_TEST

START_TEST(test_markup_escaped)
{
    bw_alert_t *a = bw_alert_new();
    a->key = g_strdup("surge-1");
    a->campaign = g_strdup("bw-12345678");
    a->count = 180;
    a->n_campaigns = 1;
    a->start = NOW - HOUR;
    a->end = NOW;
    a->status = BW_STATUS_COMPROMISE_SUSPECTED;
    a->owner = g_strdup("me@example.com");
    a->subject = g_strdup("<b>Bonus</b> <a href=\"https://evil.example/\">claim</a> & win\n"
                          "Fake second line\x1b[31m");
    a->forged_sender = g_strdup("\"Boss <x>\" <boss@evil.example>");
    char *summary = NULL, *body = NULL;
    bw_alert_format(a, true, &summary, &body);
    ck_assert_ptr_null(strstr(body, "<a "));
    ck_assert_ptr_null(strstr(body, "<b>Bonus"));
    ck_assert_ptr_nonnull(strstr(body, "&lt;b&gt;Bonus&lt;/b&gt;"));
    ck_assert_ptr_nonnull(strstr(body, "&lt;a href=&quot;https://evil.example/&quot;&gt;"));
    ck_assert_ptr_nonnull(strstr(body, "&amp; win"));
    ck_assert_ptr_null(strstr(body, "\x1b"));
    ck_assert_ptr_nonnull(strstr(body, "&lt;boss@evil.example&gt;"));
    /* The whole body must be valid markup: a daemon blanks it otherwise. */
    GError *err = NULL;
    ck_assert_msg(pango_like_markup_ok(body, &err), "bad markup: %s", err ? err->message : "");
    ck_assert_ptr_nonnull(strstr(summary, "180"));
    ck_assert_ptr_null(strchr(summary, '<'));
    g_free(summary);
    g_free(body);
    /* Plain text: no markup at all, text kept readable. */
    bw_alert_format(a, false, &summary, &body);
    ck_assert_ptr_null(strstr(body, "&lt;"));
    ck_assert_ptr_null(strstr(body, "</b>\n"));
    ck_assert_ptr_nonnull(strstr(body, "<b>Bonus</b>"));
    ck_assert_ptr_null(strstr(body, "\nFake second line"));
    g_free(summary);
    g_free(body);
    bw_alert_free(a);
}
END_TEST

START_TEST(test_long_subject_cut)
{
    bw_alert_t *a = bw_alert_new();
    a->key = g_strdup("surge-2");
    a->campaign = g_strdup("bw-0000abcd");
    a->count = 1;
    a->start = NOW;
    a->end = NOW;
    a->status = BW_STATUS_SPOOFING;
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 5000; i++)
        g_string_append(s, "あ");
    a->subject = g_string_free(s, FALSE);
    char *summary = NULL, *body = NULL;
    bw_alert_format(a, true, &summary, &body);
    ck_assert_uint_lt(strlen(body), 2000);
    ck_assert(g_utf8_validate(body, -1, NULL));
    g_free(summary);
    g_free(body);
    bw_alert_free(a);
}
END_TEST

/* SPEC 2a/2b: the signals' incident is one critical alert; a surge of the
 * same takeover grows it instead of raising a second one. */
START_TEST(test_signals_incident_one_alert)
{
    bw_scan_result_t *r = mk_result(BW_STATUS_COMPROMISE_SUSPECTED);
    bw_signals_assessment_t *sa = g_new0(bw_signals_assessment_t, 1);
    sa->compromise = true;
    sa->summary = g_strdup("61 messages in your Sent folder were not written by you <b>x</b>");
    sa->incident_key = g_strdup("sign-in-alert:alert1@mailhost.example");
    sa->incident_start = NOW - 5 * HOUR;
    sa->incident_last = NOW - HOUR;
    sa->incident_weight = 64;
    r->signals_assessment = sa;
    GPtrArray *alerts = bw_alerts_from_result(r, "me@example.com", NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    bw_alert_t *a = g_ptr_array_index(alerts, 0);
    ck_assert_str_eq(a->key, "incident:sign-in-alert:alert1@mailhost.example");
    ck_assert_int_eq(a->status, BW_STATUS_COMPROMISE_SUSPECTED);
    ck_assert_uint_eq(a->count, 64);
    char *summary = NULL, *body = NULL;
    bw_alert_format(a, true, &summary, &body);
    ck_assert_ptr_nonnull(strstr(body, "&lt;b&gt;x&lt;/b&gt;"));   /* escaped */
    ck_assert_ptr_nonnull(strstr(body, "Change the password"));
    g_free(summary);
    g_free(body);
    g_ptr_array_unref(alerts);

    /* a surge of the run's reports: still one alert, grown */
    g_ptr_array_add(r->campaigns, mk_campaign("bw-0000000a", 12, "Hi", false));
    g_ptr_array_add(r->surges, mk_surge(NOW - HOUR, NOW + HOUR, 12, true, "bw-0000000a", NULL));
    alerts = bw_alerts_from_result(r, "me@example.com", NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 1);
    a = g_ptr_array_index(alerts, 0);
    ck_assert_str_eq(a->key, "incident:sign-in-alert:alert1@mailhost.example");
    ck_assert_uint_eq(a->count, 76);
    ck_assert_str_eq(a->campaign, "bw-0000000a");
    g_ptr_array_unref(alerts);

    /* an incident long over is history: no alert from it */
    sa->incident_last = NOW - 30 * 86400;
    g_ptr_array_set_size(r->surges, 0);
    alerts = bw_alerts_from_result(r, "me@example.com", NOW, NULL, NULL);
    ck_assert_uint_eq(alerts->len, 0);
    g_ptr_array_unref(alerts);
    r->signals_assessment = NULL;
    bw_signals_assessment_free(sa);
    free_result(r);
}
END_TEST

Suite *
suite_notify(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("alerts");
    tcase_add_test(tc, test_only_ongoing_surges_alert);
    tcase_add_test(tc, test_muted_campaigns_stay_silent);
    tcase_add_test(tc, test_markup_escaped);
    tcase_add_test(tc, test_alert_starts_at_first_report);
    tcase_add_test(tc, test_long_subject_cut);
    tcase_add_test(tc, test_signals_incident_one_alert);
    suite_add_tcase(s, tc);
    return s;
}
