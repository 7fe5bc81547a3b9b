/* check_assess.c: the overall call, advice, remedies, and the JSON of a
 * scan result and of stored items. */
#include "suites.h"
#include "engine-fixtures.h"

#define T0 1763300000
#define OWNER "mika.tanaka@mailhost.example"

static const char *const owners[] = { OWNER, NULL };

/* The provider's submission hop of a hijacked account's spam. */
static const char *const rcv_hijack[] = {
    "from User (unknown [45.9.8.7]) by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};

static bw_item_t *
item(bw_class_t k, bw_origin_t o, const char *campaign, const char *rcpt, bw_reason_t reason)
{
    fake_report_t d = { .recipient = rcpt, .reason = reason, .date = T0,
                        .received = o == BW_ORIGIN_OWN_ACCOUNT ? rcv_hijack : NULL };
    bw_item_t *it = g_new0(bw_item_t, 1);
    it->message_id = g_strdup_printf("r-%s-%d@x", rcpt ? rcpt : "none", g_random_int());
    it->date_unix = T0;
    it->report = fake_report(&d);
    it->klass = k;
    it->origin = o;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(it->evidence, g_strdup("test"));
    it->campaign = g_strdup(campaign);
    return it;
}

static bw_campaign_t *
campaign(const char *id, guint size, bw_origin_t o)
{
    bw_campaign_t *c = g_new0(bw_campaign_t, 1);
    c->id = g_strdup(id);
    c->members = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < size; i++)
        g_ptr_array_add(c->members, g_strdup_printf("m%u@x", i));
    c->subjects = g_ptr_array_new_with_free_func(g_free);
    c->forged_senders = g_ptr_array_new_with_free_func(g_free);
    c->reporting_domains = g_ptr_array_new_with_free_func(g_free);
    c->origin = o;
    return c;
}

static bool
any_contains(GPtrArray *a, const char *needle)
{
    for (guint i = 0; a && i < a->len; i++)
        if (strstr(g_ptr_array_index(a, i), needle))
            return true;
    return false;
}

START_TEST(test_compromise)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 10; i++) {
        g_autofree char *rc = g_strdup_printf("x%d@v.example", i);
        g_ptr_array_add(items, item(BW_CLASS_BACKSCATTER, BW_ORIGIN_OWN_ACCOUNT, "bw-aaaaaaaa", rc, BW_REASON_USER_UNKNOWN));
    }
    g_autoptr(GPtrArray) camps = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(camps, campaign("bw-aaaaaaaa", 10, BW_ORIGIN_OWN_ACCOUNT));
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(p, items, camps, NULL, T0, &a), BW_OK);
    ck_assert_int_eq(a->status, BW_STATUS_COMPROMISE_SUSPECTED);
    ck_assert_ptr_nonnull(strstr(a->summary, OWNER));
    ck_assert(any_contains(a->advice, "Change the password of " OWNER));
    ck_assert(any_contains(a->advice, "two-factor"));
    ck_assert(any_contains(a->advice, "forwarding"));
    ck_assert(any_contains(a->advice, "app passwords"));
    ck_assert(any_contains(a->advice, "Never open links"));
    bw_assessment_free(a);
}
END_TEST

/* An own-account backscatter item about original `mid`, sent at t. */
static bw_item_t *
own_item(const char *campaign, const char *rcpt, const char *mid, gint64 t)
{
    fake_report_t d = { .recipient = rcpt, .orig_mid = mid, .orig_from = OWNER, .orig_subject = "Hello", .date = t,
                        .received = rcv_hijack };
    bw_item_t *it = item(BW_CLASS_BACKSCATTER, BW_ORIGIN_OWN_ACCOUNT, campaign, rcpt, BW_REASON_USER_UNKNOWN);
    bw_report_free(it->report);
    it->report = fake_report(&d);
    it->report->original->date_unix = t;
    it->date_unix = t + 60;
    return it;
}

static bw_assessment_status_t
status_of(GPtrArray *items, guint size, GPtrArray *surges, bool *noted)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    g_autoptr(GPtrArray) camps = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(camps, campaign("bw-cccccccc", size, BW_ORIGIN_OWN_ACCOUNT));
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(p, items, camps, surges, T0, &a), BW_OK);
    bw_assessment_status_t st = a->status;
    *noted = any_contains(a->advice, "not in your sent mail");
    ck_assert_ptr_nonnull(strstr(a->summary, OWNER));
    bw_assessment_free(a);
    return st;
}

START_TEST(test_compromise_needs_weight)
{
    bool noted = false;
    /* one message from a phone that keeps no Sent copy, to a new address */
    g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    g_ptr_array_add(one, own_item("bw-cccccccc", "new@friend.example", "p1@phone.example", T0));
    ck_assert_int_eq(status_of(one, 1, NULL, &noted), BW_STATUS_CLEAR);
    ck_assert(noted);
    /* one message to three people, each bouncing (and one bounced twice):
     * four reports, one message */
    g_autoptr(GPtrArray) group = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    g_ptr_array_add(group, own_item("bw-cccccccc", "a@club.example", "p2@phone.example", T0));
    g_ptr_array_add(group, own_item("bw-cccccccc", "b@club.example", "p2@phone.example", T0));
    g_ptr_array_add(group, own_item("bw-cccccccc", "c@club.example", "p2@phone.example", T0));
    g_ptr_array_add(group, own_item("bw-cccccccc", "c@club.example", "p2@phone.example", T0));
    ck_assert_int_ne(status_of(group, 4, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    ck_assert(noted);
    /* three messages to three new addresses over three months */
    g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 3; i++) {
        g_autofree char *rc = g_strdup_printf("n%d@far.example", i);
        g_autofree char *mid = g_strdup_printf("p%d@phone.example", 10 + i);
        g_ptr_array_add(slow, own_item("bw-cccccccc", rc, mid, T0 - (gint64)i * 30 * 86400));
    }
    ck_assert_int_ne(status_of(slow, 3, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    /* three within a day is still what one person may do */
    g_autoptr(GPtrArray) three = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 3; i++) {
        g_autofree char *rc = g_strdup_printf("n%d@far.example", i);
        g_autofree char *mid = g_strdup_printf("t%d@phone.example", i);
        g_ptr_array_add(three, own_item("bw-cccccccc", rc, mid, T0 - (gint64)i * 3600));
    }
    ck_assert_int_ne(status_of(three, 3, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    /* five people within a day: a stolen account at work */
    g_autoptr(GPtrArray) burst = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 5; i++) {
        g_autofree char *rc = g_strdup_printf("n%d@far.example", i);
        g_autofree char *mid = g_strdup_printf("s%d@bot.example", i);
        g_ptr_array_add(burst, own_item("bw-cccccccc", rc, mid, T0 - (gint64)i * 3600));
    }
    ck_assert_int_eq(status_of(burst, 5, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    /* the slow three inside a surge of backscatter */
    g_autoptr(GPtrArray) surges = g_ptr_array_new_with_free_func((GDestroyNotify)bw_surge_free);
    bw_surge_t *sg = g_new0(bw_surge_t, 1);
    sg->campaigns = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(sg->campaigns, g_strdup("bw-cccccccc"));
    sg->detector = g_strdup("poisson");
    g_ptr_array_add(surges, sg);
    ck_assert_int_eq(status_of(slow, 3, surges, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    /* what a run with nothing new sees (the scanner's slim items: recipients,
     * dates, class, origin, campaign; no originals): the same calls */
    for (guint i = 0; i < group->len; i++) {
        bw_item_t *it = g_ptr_array_index(group, i);
        g_clear_pointer(&it->report->original, bw_original_free);
    }
    ck_assert_int_ne(status_of(group, 4, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
    for (guint i = 0; i < burst->len; i++) {
        bw_item_t *it = g_ptr_array_index(burst, i);
        g_clear_pointer(&it->report->original, bw_original_free);
    }
    ck_assert_int_eq(status_of(burst, 5, NULL, &noted), BW_STATUS_COMPROMISE_SUSPECTED);
}
END_TEST

START_TEST(test_spoofing_and_clear)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 5; i++)
        g_ptr_array_add(items, item(BW_CLASS_BACKSCATTER, BW_ORIGIN_FOREIGN, "bw-bbbbbbbb", "x@v.example", BW_REASON_USER_UNKNOWN));
    /* one stray own-account report in a foreign run does not make a compromise */
    g_ptr_array_add(items, item(BW_CLASS_BACKSCATTER, BW_ORIGIN_OWN_ACCOUNT, "bw-bbbbbbbb", "y@v.example", BW_REASON_USER_UNKNOWN));
    g_autoptr(GPtrArray) camps = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(camps, campaign("bw-bbbbbbbb", 6, BW_ORIGIN_FOREIGN));
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(p, items, camps, NULL, T0, &a), BW_OK);
    ck_assert_int_eq(a->status, BW_STATUS_SPOOFING);
    ck_assert(any_contains(a->advice, "spam"));
    ck_assert(any_contains(a->advice, "DMARC"));
    ck_assert(!any_contains(a->advice, "As the owner of the domain"));   /* a provider's address */
    bw_assessment_free(a);

    /* legitimate bounces and vacation replies only: clear, with remedies */
    g_autoptr(GPtrArray) legit = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "taro@gmail.con", BW_REASON_HOST_UNKNOWN));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "ann@example.org", BW_REASON_MAILBOX_FULL));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "bob@example.org", BW_REASON_USER_UNKNOWN));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "bob@example.org", BW_REASON_USER_UNKNOWN));
    g_ptr_array_add(legit, item(BW_CLASS_UNDETERMINED, BW_ORIGIN_UNKNOWN, NULL, "cy@example.org", BW_REASON_VACATION));
    ck_assert_int_eq(bw_assess(p, legit, NULL, NULL, T0, &a), BW_OK);
    ck_assert_int_eq(a->status, BW_STATUS_CLEAR);
    ck_assert(any_contains(a->hard_bouncing, "taro@gmail.con (did you mean taro@gmail.com?)"));
    ck_assert_uint_eq(a->hard_bouncing->len, 2);     /* bob once */
    ck_assert(any_contains(a->legit_remedies, "mailbox-full"));
    ck_assert(any_contains(a->legit_remedies, "typo"));
    bw_assessment_free(a);
}
END_TEST

START_TEST(test_typo_hints_correspondents)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    bw_profile_add_correspondent(p, "Alice <alice@friends.example.com>");
    bw_profile_add_correspondent(p, "bob@uni.example.edu");
    bw_profile_add_correspondent(p, "christopher@uni.example.edu");
    bw_profile_add_correspondent(p, OWNER);                       /* never a hint */
    bw_profile_add_correspondent(p, "frank@gmail.con");           /* the owner wrote to a typo... */
    /* a domain one slip from a correspondent's */
    g_autofree char *h1 = bw_profile_typo_hint(p, "alice@frineds.example.com");
    ck_assert_str_eq(h1, "alice@friends.example.com");
    /* a local part one slip from a correspondent at that domain */
    g_autofree char *h2 = bw_profile_typo_hint(p, "cristopher@uni.example.edu");
    ck_assert_str_eq(h2, "christopher@uni.example.edu");
    /* short names are too close to each other to guess */
    ck_assert_ptr_null(bw_profile_typo_hint(p, "rob@uni.example.edu"));
    /* the big providers still count */
    g_autofree char *h3 = bw_profile_typo_hint(p, "zoe@hotmial.com");
    ck_assert_str_eq(h3, "zoe@hotmail.com");
    /* unrelated domains: nothing */
    ck_assert_ptr_null(bw_profile_typo_hint(p, "x@completely-other.example"));
    ck_assert_ptr_null(bw_profile_typo_hint(p, "alice@friends.example.com"));

    /* bw_assess: frank@gmail.con hard-bounces, so the typo is not a known
     * domain; gina's full mailbox shows shop.example.net is alive */
    g_autoptr(GPtrArray) legit = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "frank@gmail.con", BW_REASON_HOST_UNKNOWN));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "gina@shop.example.net", BW_REASON_MAILBOX_FULL));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "hugo@shop.exmaple.net", BW_REASON_HOST_UNKNOWN));
    g_ptr_array_add(legit, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_UNKNOWN, NULL, "alice@friends.exampel.com", BW_REASON_HOST_UNKNOWN));
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(p, legit, NULL, NULL, T0, &a), BW_OK);
    ck_assert(any_contains(a->hard_bouncing, "frank@gmail.con (did you mean frank@gmail.com?)"));
    ck_assert(any_contains(a->hard_bouncing, "hugo@shop.exmaple.net (did you mean hugo@shop.example.net?)"));
    ck_assert(any_contains(a->hard_bouncing, "(did you mean alice@friends.example.com?)"));
    ck_assert_uint_eq(a->hard_bouncing->len, 3);
    bw_assessment_free(a);
}
END_TEST

START_TEST(test_custom_domain_advice)
{
    /* an address on the owner's domain, hosted by a provider elsewhere */
    const char *const own[] = { "me@my-studio.example", NULL };
    g_autoptr(bw_profile_t) p = bw_profile_new(own, NULL);
    g_autoptr(GPtrArray) rcv = g_ptr_array_new();
    g_ptr_array_add(rcv, (gpointer)"from [203.0.113.7] by smtp.bighost.example with ESMTPSA id 1; Sun, 16 Nov 2025 10:00:00 +0000");
    bw_sent_t sent = { .message_id = "x@my-studio.example", .from = "me@my-studio.example", .received = rcv };
    bw_profile_add_sent(p, &sent);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 4; i++)
        g_ptr_array_add(items, item(BW_CLASS_BACKSCATTER, BW_ORIGIN_FOREIGN, "bw-dddddddd", "x@v.example", BW_REASON_USER_UNKNOWN));
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(p, items, NULL, NULL, T0, &a), BW_OK);
    ck_assert_int_eq(a->status, BW_STATUS_SPOOFING);
    ck_assert(any_contains(a->advice, "As the owner of the domain, publish SPF, DKIM"));
    ck_assert_ptr_nonnull(strstr(a->summary, "me@my-studio.example"));
    bw_assessment_free(a);
}
END_TEST

START_TEST(test_json)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    bw_scan_result_t *r = g_new0(bw_scan_result_t, 1);
    r->database = g_strdup("/mail");
    r->revision = 42;
    r->items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    bw_item_t *bs = item(BW_CLASS_BACKSCATTER, BW_ORIGIN_FOREIGN, "bw-cccccccc", "x@v.example", BW_REASON_USER_UNKNOWN);
    bs->fp.subject_template = G_GUINT64_CONSTANT(0xfedcba9876543210);
    bs->fp.subject_masked = g_strdup("cheap # pills");
    bs->score = 0.97;
    g_ptr_array_add(r->items, bs);
    r->campaigns = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(r->campaigns, campaign("bw-cccccccc", 1, BW_ORIGIN_FOREIGN));
    r->surges = g_ptr_array_new_with_free_func((GDestroyNotify)bw_surge_free);
    ck_assert_int_eq(bw_assess(p, r->items, r->campaigns, r->surges, T0, &r->assessment), BW_OK);
    JsonNode *n = bw_scan_result_to_json(r);
    g_autofree char *text = json_to_string(n, FALSE);
    json_node_unref(n);
    g_autoptr(JsonParser) jp = json_parser_new();
    ck_assert(json_parser_load_from_data(jp, text, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(jp));
    ck_assert_int_eq(json_object_get_int_member(o, "revision"), 42);
    JsonObject *b0 = json_array_get_object_element(json_object_get_array_member(o, "bounces"), 0);
    ck_assert_str_eq(json_object_get_string_member(b0, "class"), "backscatter");
    ck_assert_str_eq(json_object_get_string_member(b0, "campaign"), "bw-cccccccc");
    ck_assert_str_eq(json_object_get_string_member(b0, "kind"), "dsn");
    ck_assert(g_str_has_suffix(json_object_get_string_member(b0, "date"), "+00:00"));
    JsonObject *c0 = json_array_get_object_element(json_object_get_array_member(o, "campaigns"), 0);
    ck_assert_int_eq(json_object_get_int_member(c0, "size"), 1);
    ck_assert_str_eq(json_object_get_string_member(c0, "origin"), "foreign");
    JsonObject *as = json_object_get_object_member(o, "assessment");
    ck_assert_str_eq(json_object_get_string_member(as, "status"), "clear");   /* 1 report < 3 */

    /* an item survives the state store */
    JsonNode *in = bw_item_to_json(bs);
    bw_item_t *back = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_item_from_json(in, &back, &detail), BW_OK);
    json_node_unref(in);
    ck_assert_str_eq(back->message_id, bs->message_id);
    ck_assert_int_eq(back->klass, BW_CLASS_BACKSCATTER);
    ck_assert_int_eq(back->origin, BW_ORIGIN_FOREIGN);
    ck_assert(back->fp.subject_template == bs->fp.subject_template);
    ck_assert_str_eq(back->fp.subject_masked, "cheap # pills");
    ck_assert_double_eq_tol(back->score, 0.97, 1e-9);
    ck_assert_ptr_nonnull(back->report);
    ck_assert_uint_eq(back->report->recipients->len, 1);
    bw_item_free(back);
    /* garbage is refused, not crashed on */
    JsonNode *junk = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(junk, json_array_new());
    ck_assert_int_ne(bw_item_from_json(junk, &back, NULL), BW_OK);
    json_node_unref(junk);
    bw_scan_result_free(r);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(bw_class_to_string(BW_CLASS_UNDETERMINED), "undetermined");
    ck_assert_str_eq(bw_origin_to_string(BW_ORIGIN_OWN_ACCOUNT), "own-account");
    ck_assert_str_eq(bw_assessment_status_to_string(BW_STATUS_COMPROMISE_SUSPECTED), "compromise-suspected");
}
END_TEST

/* bw_assess_learnt: the originals of the items it is told the profile
 * learnt from are not read again; told right (the profile did learn them),
 * the result is bw_assess()'s. */
START_TEST(test_assess_learnt)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int i = 0; i < 4; i++) {
        g_autofree char *rc = g_strdup_printf("friend%d@v.example", i);
        /* legitimate, its original submitted at smtp.mailhost.example */
        g_ptr_array_add(items, item(BW_CLASS_LEGITIMATE, BW_ORIGIN_OWN_ACCOUNT, NULL, rc,
                                    BW_REASON_MAILBOX_FULL));
    }
    g_autoptr(GPtrArray) camps = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_autoptr(GHashTable) learnt = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < items->len; i++)
        g_hash_table_add(learnt, g_ptr_array_index(items, i));

    /* bw_assess learns the provider from them */
    g_autoptr(bw_profile_t) fresh = bw_profile_new(owners, NULL);
    g_autofree char *before = bw_profile_digest(fresh);
    bw_assessment_t *a = NULL;
    ck_assert_int_eq(bw_assess(fresh, items, camps, NULL, T0, &a), BW_OK);
    g_autofree char *after = bw_profile_digest(fresh);
    ck_assert_str_ne(before, after);

    /* a profile that learnt them before: told so, the same profile and call */
    g_autoptr(bw_profile_t) taught = bw_profile_new(owners, NULL);
    for (guint i = 0; i < items->len; i++)
        bw_profile_learn_original(taught, ((bw_item_t *)g_ptr_array_index(items, i))->report->original);
    bw_assessment_t *b = NULL;
    ck_assert_int_eq(bw_assess_learnt(taught, items, camps, NULL, T0, learnt, &b), BW_OK);
    g_autofree char *taught_digest = bw_profile_digest(taught);
    ck_assert_str_eq(taught_digest, after);
    ck_assert_int_eq(a->status, b->status);
    ck_assert_str_eq(a->summary, b->summary);
    ck_assert_uint_eq(a->advice->len, b->advice->len);
    for (guint i = 0; i < a->advice->len; i++)
        ck_assert_str_eq(g_ptr_array_index(a->advice, i), g_ptr_array_index(b->advice, i));

    /* told wrong (a profile that never learnt them): not read again */
    g_autoptr(bw_profile_t) untaught = bw_profile_new(owners, NULL);
    bw_assessment_t *c = NULL;
    ck_assert_int_eq(bw_assess_learnt(untaught, items, camps, NULL, T0, learnt, &c), BW_OK);
    g_autofree char *untaught_digest = bw_profile_digest(untaught);
    ck_assert_str_eq(untaught_digest, before);
    bw_assessment_free(a);
    bw_assessment_free(b);
    bw_assessment_free(c);
}
END_TEST

Suite *
suite_assess(void)
{
    Suite *s = suite_create("assess");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_compromise);
    tcase_add_test(tc, test_compromise_needs_weight);
    tcase_add_test(tc, test_typo_hints_correspondents);
    tcase_add_test(tc, test_spoofing_and_clear);
    tcase_add_test(tc, test_custom_domain_advice);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_assess_learnt);
    suite_add_tcase(s, tc);
    return s;
}
