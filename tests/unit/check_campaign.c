/* check_campaign.c: grouping backscatter into campaigns, stable ids. */
#include "suites.h"
#include "engine-fixtures.h"

#define T0 1763300000
#define OWNER "me@mailhost.example"

static const char *const owners[] = { OWNER, NULL };
static const char *const first_names[] = { "Taro", "Anna", "Ivan", "Sara", "Kofi", "Mia", "Luca", "Emma" };
static const char *const last_names[] = { "Yamada", "Berg", "Petrov", "Lind", "Mensah", "Rossi", "Kato", "Brown" };

typedef struct {
    const char *subject_fmt;   /* {name} and {n} are filled in */
    const char *const *urls;
    const char *forged_from;
} run_t;

static const char *const pharma_urls[] = { "pills-rx1.example", "cheap-meds7.example", NULL };
static const char *const loan_urls[] = { "fastloan-pay3.example", NULL };
static const char *const other_loan_urls[] = { "money-win9.example", NULL };

static const run_t pharma = { "{name}, save {n}% on your prescription today", pharma_urls, OWNER };
static const run_t loan = { "Your loan of ${n},000 has been approved for {name}", loan_urls, OWNER };
static const run_t loan2 = { "Your loan of ${n},000 has been approved for {name}", other_loan_urls, OWNER };

/* One backscatter item of a run; `carry`: 0 full, 1 headers only,
 * 2 subject only, 3 nothing but the recipient. */
static bw_item_t *
make_item(const bw_profile_t *p, const bw_mailbox_ops_t *ops, const run_t *run, int n, gint64 t, int carry)
{
    const char *fn = first_names[n % 8], *ln = last_names[(n / 8) % 8];
    g_autofree char *rcpt = g_strdup_printf("%c%s%d@dom%d.example", g_ascii_tolower(fn[0]),
                                            ln, n, n % 13);
    for (char *c = rcpt; *c; c++)
        *c = g_ascii_tolower(*c);
    g_autofree char *name = g_strdup_printf("%s %s", fn, ln);
    g_autofree char *num = g_strdup_printf("%d", 10 + n * 7 % 80);
    g_auto(GStrv) p1 = g_strsplit(run->subject_fmt, "{name}", -1);
    g_autofree char *s1 = g_strjoinv(name, p1);
    g_auto(GStrv) p2 = g_strsplit(s1, "{n}", -1);
    g_autofree char *subj = g_strjoinv(num, p2);
    g_autofree char *mid = g_strdup_printf("%08x%04x@bot%d.example", (unsigned)(n * 2654435761u), n, n % 5);
    g_autofree char *rcv = g_strdup_printf(
        "from WIN-%d (unknown [91.%d.%d.%d]) by mx.dom%d.example with ESMTP id Q%d; Sun, 16 Nov 2025 10:00:00 +0000",
        n, 10 + n % 200, n % 250, 1 + n % 253, n % 13, n);
    const char *rcvv[] = { rcv, NULL };
    const char *url1[] = { run->urls[n % 2 == 0 || run->urls[1] == NULL ? 0 : 1], NULL };
    g_autofree char *body = g_strdup_printf("Dear %s, visit https://%s/c/%d now", name, url1[0], n);
    fake_report_t d = { .recipient = rcpt, .date = t };
    if (carry <= 2)
        d.orig_subject = subj;
    if (carry <= 1) {
        d.orig_mid = mid;
        d.orig_from = run->forged_from;
        d.received = rcvv;
    }
    if (carry == 0) {
        d.urls = url1;
        d.body = body;
    }
    g_autofree char *rid = g_strdup_printf("report-%d-%" G_GINT64_FORMAT "@mx.example", n, t);
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, ops, rid, NULL, t, fake_report(&d), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    return it;
}

typedef struct {
    fake_mailbox_t *f;
    bw_profile_t *p;
    bw_mailbox_ops_t ops;
} env_t;

static void
env_init(env_t *e)
{
    e->f = fake_new(true);
    fake_sent(e->f, "real@mailhost.example", "friend@example.org", "Hello", T0 - 86400 * 30);
    e->p = bw_profile_new(owners, NULL);
    e->ops = fake_ops(e->f);
}

static void
env_clear(env_t *e)
{
    fake_free(e->f);
    bw_profile_free(e->p);
}

/* Two runs at different times: a pharma flood and a loan drip. */
static GPtrArray *
two_runs(env_t *e, int n_pharma, int n_loan)
{
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < n_pharma; i++)
        g_ptr_array_add(items, make_item(e->p, &e->ops, &pharma, i, T0 + i * 120, i % 4));
    for (int i = 0; i < n_loan; i++)
        g_ptr_array_add(items, make_item(e->p, &e->ops, &loan, 100 + i, T0 - 86400 * 20 + i * 86400, i % 3));
    return items;
}

static const char *
campaign_of(GPtrArray *items, const char *mid)
{
    for (guint i = 0; i < items->len; i++) {
        bw_item_t *it = g_ptr_array_index(items, i);
        if (strcmp(it->message_id, mid) == 0)
            return it->campaign;
    }
    return NULL;
}

START_TEST(test_two_runs_grouped)
{
    env_t e;
    env_init(&e);
    g_autoptr(GPtrArray) items = two_runs(&e, 40, 12);
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    ck_assert_uint_eq(camps->len, 2);
    bw_campaign_t *big = g_ptr_array_index(camps, 0), *small = g_ptr_array_index(camps, 1);
    ck_assert_uint_eq(big->members->len, 40);
    ck_assert_uint_eq(small->members->len, 12);
    ck_assert(g_str_has_prefix(big->id, "bw-") && strlen(big->id) == 11);
    ck_assert_int_eq(big->origin, BW_ORIGIN_FOREIGN);
    ck_assert_uint_gt(big->subjects->len, 0);
    ck_assert(big->first_seen <= big->last_seen);
    for (guint i = 0; i < items->len; i++)
        ck_assert_ptr_nonnull(((bw_item_t *)g_ptr_array_index(items, i))->campaign);
    env_clear(&e);
}
END_TEST

START_TEST(test_ids_stable_under_shuffle_and_growth)
{
    env_t e;
    env_init(&e);
    g_autoptr(GPtrArray) items = two_runs(&e, 30, 10);
    g_autoptr(GPtrArray) first = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &first), BW_OK);
    g_autofree char *id_p = g_strdup(campaign_of(items, "report-0-1763300000@mx.example"));
    /* shuffled input, no previous state: the same ids (rescan) */
    GRand *rnd = g_rand_new_with_seed(7);
    for (guint i = items->len - 1; i > 0; i--) {
        guint j = g_rand_int_range(rnd, 0, i + 1);
        gpointer t = items->pdata[i];
        items->pdata[i] = items->pdata[j];
        items->pdata[j] = t;
    }
    g_rand_free(rnd);
    g_autoptr(GPtrArray) again = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &again), BW_OK);
    ck_assert_str_eq(campaign_of(items, "report-0-1763300000@mx.example"), id_p);
    /* growth, including members EARLIER than the first one: the previous
     * campaigns keep their ids through member overlap */
    for (int i = 0; i < 10; i++)
        g_ptr_array_add(items, make_item(e.p, &e.ops, &pharma, 500 + i, T0 - 3600 + i * 60, i % 4));
    g_autoptr(GPtrArray) grown = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, first, &grown), BW_OK);
    ck_assert_str_eq(campaign_of(items, "report-0-1763300000@mx.example"), id_p);
    ck_assert_uint_eq(((bw_campaign_t *)g_ptr_array_index(grown, 0))->members->len, 40);
    ck_assert_str_eq(((bw_campaign_t *)g_ptr_array_index(grown, 0))->id, id_p);
    env_clear(&e);
}
END_TEST

START_TEST(test_same_theme_other_run)
{
    /* the same subject template, other link domains, weeks apart: two runs */
    env_t e;
    env_init(&e);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 20; i++)
        g_ptr_array_add(items, make_item(e.p, &e.ops, &loan, i, T0 + i * 300, i % 3));
    for (int i = 0; i < 20; i++)
        g_ptr_array_add(items, make_item(e.p, &e.ops, &loan2, 100 + i, T0 + 86400 * 30 + i * 300, i % 3));
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    ck_assert_uint_eq(camps->len, 2);
    ck_assert_uint_eq(((bw_campaign_t *)g_ptr_array_index(camps, 0))->members->len, 20);
    env_clear(&e);
}
END_TEST

START_TEST(test_envelope_only_and_promotion)
{
    env_t e;
    env_init(&e);
    /* nothing but recipients, and no campaign at all: one group */
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 6; i++)
        g_ptr_array_add(items, make_item(e.p, &e.ops, &loan, i, T0 + i * 86400 * 3, 3));
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    ck_assert_uint_eq(camps->len, 1);
    ck_assert_uint_eq(((bw_campaign_t *)g_ptr_array_index(camps, 0))->members->len, 6);
    /* an undetermined report with the subject of a run is promoted */
    g_autoptr(GPtrArray) more = two_runs(&e, 12, 0);
    fake_report_t d = { .recipient = "kmensah77@far.example", .orig_subject = "Kofi Mensah, save 55% on your prescription today",
                        .date = T0 + 600 };
    bw_item_t *u = NULL;
    ck_assert_int_eq(bw_classify(e.p, NULL, "undet@x", NULL, T0 + 600, fake_report(&d), &u), BW_OK);
    ck_assert_int_eq(u->klass, BW_CLASS_UNDETERMINED);
    g_ptr_array_add(more, u);
    g_autoptr(GPtrArray) c2 = NULL;
    ck_assert_int_eq(bw_campaigns_build(more, NULL, &c2), BW_OK);
    ck_assert_int_eq(u->klass, BW_CLASS_BACKSCATTER);
    ck_assert_ptr_nonnull(u->campaign);
    ck_assert(evidence_has(u, "same spam run"));
    env_clear(&e);
}
END_TEST

/* A run that rotates its subject lines and carries no links (a reply-bait
 * or advance-fee text, HTML-only mail read as text): the body holds it
 * together; a run with another text days later stays apart. */
static bw_item_t *
body_item(env_t *e, int n, gint64 t, const char *const *subjects, const char *body_fmt)
{
    g_autofree char *rcpt = g_strdup_printf("user%d@isp%d.example", n, n % 7);
    g_autofree char *mid = g_strdup_printf("%08x@h%d.example", (unsigned)(n * 2654435761u), n);
    g_autofree char *rcv = g_strdup_printf(
        "from host%d (unknown [%d.%d.%d.9]) by mx.isp%d.example with ESMTP id Z%d; Sun, 16 Nov 2025 10:00:00 +0000",
        n, 20 + n * 37 % 180, n * 11 % 250, n * 3 % 250, n % 7, n);
    const char *rcvv[] = { rcv, NULL };
    const char *name = first_names[n % 8];
    g_auto(GStrv) parts = g_strsplit(body_fmt, "{name}", -1);
    g_autofree char *body = g_strjoinv(name, parts);
    fake_report_t d = { .recipient = rcpt, .date = t, .orig_subject = subjects[n % 4], .orig_mid = mid,
                        .orig_from = OWNER, .received = rcvv, .body = body };
    g_autofree char *rid = g_strdup_printf("body-%d@mx.example", n);
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(e->p, &e->ops, rid, NULL, t, fake_report(&d), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    return it;
}

START_TEST(test_body_holds_rotating_subjects)
{
    static const char *const subj_a[] = { "Urgent business proposal", "Confidential: partnership",
                                          "Please reply at your earliest", "Request for assistance" };
    static const char *const subj_b[] = { "Congratulations winner", "Claim your prize today",
                                          "Lottery results inside", "You have been selected" };
    const char *body_a = "Dear {name}, I am a banker with a private fund of considerable size and I seek a "
                         "trustworthy partner abroad to receive it on my behalf. Reply with your full name "
                         "and telephone number so that we can proceed without delay.";
    const char *body_b = "Hello {name}, your e-mail address won the second prize of our international "
                         "promotion draw held last week. To claim the prize send the reference number "
                         "and your postal address to the claims agent named below.";
    env_t e;
    env_init(&e);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 16; i++)
        g_ptr_array_add(items, body_item(&e, i, T0 + i * 300, subj_a, body_a));
    for (int i = 0; i < 12; i++)
        g_ptr_array_add(items, body_item(&e, 100 + i, T0 + 10 * 86400 + i * 300, subj_b, body_b));
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    ck_assert_uint_eq(camps->len, 2);
    const char *ca = campaign_of(items, "body-0@mx.example");
    const char *cb = campaign_of(items, "body-100@mx.example");
    ck_assert_ptr_nonnull(ca);
    ck_assert_ptr_nonnull(cb);
    ck_assert_str_ne(ca, cb);
    for (int i = 0; i < 16; i++) {
        g_autofree char *rid = g_strdup_printf("body-%d@mx.example", i);
        ck_assert_str_eq(campaign_of(items, rid), ca);
    }
    env_clear(&e);
}
END_TEST

START_TEST(test_many_items_linear)
{
    /* 30k items: must finish quickly (union-find, hash probes) */
    env_t e;
    env_init(&e);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 30000; i++)
        g_ptr_array_add(items, make_item(e.p, &e.ops, i % 2 ? &pharma : &loan, i, T0 + i * 5, i % 4));
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    gint64 dt = g_get_monotonic_time() - t0;
    /* under a second here; quadratic grouping would take minutes.  The bound
     * leaves room for sanitizer builds. */
    ck_assert_msg(dt < 30 * G_USEC_PER_SEC, "campaigns over 30k items took %" G_GINT64_FORMAT " us", dt);
    ck_assert_uint_le(camps->len, 4);
    env_clear(&e);
}
END_TEST

/* SPEC 2b: reports whose originals are members of a run in Sent the owner
 * did not write are backscatter through the owner's own account, one
 * campaign for the run, although each original sits in Sent and the two
 * spam themes would otherwise be two campaigns. */
static bool
run_member(void *ctx, const char *mid, const char **run_out)
{
    (void)ctx;
    bool member = mid != NULL && strstr(mid, "@bot") != NULL;
    if (member && run_out)
        *run_out = "run-first@mailhost.example";
    return member;
}

START_TEST(test_sent_anomaly_one_campaign)
{
    env_t e;
    env_init(&e);
    e.ops.sent_is_anomaly = run_member;
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 30; i++) {
        g_autofree char *mid = g_strdup_printf("%08x%04x@bot%d.example", (unsigned)(i * 2654435761u), i, i % 5);
        fake_sent(e.f, mid, "stranger@example.net", "offer", T0 + i * 120 - 60);
        g_ptr_array_add(items, make_item(e.p, &e.ops, i % 2 ? &pharma : &loan2, i, T0 + i * 120, i % 2));
    }
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
        ck_assert_int_eq(it->origin, BW_ORIGIN_OWN_ACCOUNT);
        ck_assert_str_eq(it->anomaly, "run-first@mailhost.example");
        /* the stored form keeps it */
        g_autoptr(JsonNode) n = bw_item_to_json(it);
        g_autoptr(bw_item_t) back = NULL;
        ck_assert_int_eq(bw_item_from_json(n, &back, NULL), BW_OK);
        ck_assert_str_eq(back->anomaly, "run-first@mailhost.example");
    }
    g_autoptr(GPtrArray) camps = NULL;
    ck_assert_int_eq(bw_campaigns_build(items, NULL, &camps), BW_OK);
    ck_assert_uint_eq(camps->len, 1);
    bw_campaign_t *c = g_ptr_array_index(camps, 0);
    ck_assert_uint_eq(c->members->len, 30);
    ck_assert_int_eq(c->origin, BW_ORIGIN_OWN_ACCOUNT);
    /* without the run the same originals are the owner's own mail */
    e.ops.sent_is_anomaly = NULL;
    g_autofree char *mid0 = g_strdup_printf("%08x%04x@bot%d.example", 0u, 0, 0);
    fake_report_t d = { .recipient = "x@dom0.example", .date = T0, .orig_mid = mid0,
                        .orig_subject = "offer", .orig_from = OWNER };
    g_autoptr(bw_item_t) own = NULL;
    ck_assert_int_eq(bw_classify(e.p, &e.ops, "r0@mx.example", NULL, T0, fake_report(&d), &own), BW_OK);
    ck_assert_int_eq(own->klass, BW_CLASS_LEGITIMATE);
    ck_assert_ptr_null(own->anomaly);
    env_clear(&e);
}
END_TEST

Suite *
suite_campaign(void)
{
    Suite *s = suite_create("campaign");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_two_runs_grouped);
    tcase_add_test(tc, test_ids_stable_under_shuffle_and_growth);
    tcase_add_test(tc, test_same_theme_other_run);
    tcase_add_test(tc, test_envelope_only_and_promotion);
    tcase_add_test(tc, test_body_holds_rotating_subjects);
    tcase_add_test(tc, test_many_items_linear);
    tcase_add_test(tc, test_sent_anomaly_one_campaign);
    suite_add_tcase(s, tc);
    return s;
}
