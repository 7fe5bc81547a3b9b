/* bw-signal-probe: what the signals core (src/core/bw-signals.h) says about
 * a set of mail files, for tests and benchmarks (built by `make check`,
 * never installed).  No notmuch: the files are read directly, and the
 * mailbox questions (who wrote to the owner, which ids exist, is there sent
 * mail) are answered from the files given.
 *
 *   bw-signal-probe --owner ADDR [--owner ADDR]... [--provider DOMAIN]...
 *                   [--sent-folder NAME] [--json] [--all] [--facts] PATH...
 *
 * PATH is a mail file or a directory (walked recursively: maildir folders,
 * MH, any tree; dot-directories such as .notmuch are skipped).  A message
 * from an owner address is the owner's sent mail (with --sent-folder NAME,
 * only when a directory of that name is on its path); every other message
 * is read as received mail.
 *
 * Text output: one line per message that is a signal or phishing (--all:
 * every message), "kind<TAB>message-id<TAB>file<TAB>summary", evidence
 * lines indented below; then the sent anomalies, the human replies and the
 * assessment.  --facts: also what stage 1 read of each message (JSON).
 * --json: one document {"signals": [...], "phishing": [...],
 * "assessment": {...}, "messages": n}.  What a person reads (summary,
 * advice, timeline) is in the user's language (BOUNCEWATCH_LOCALEDIR: where
 * the .mo files are, before installing). */
#include "bw-signals.h"
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    GHashTable *all_ids;        /* every message id read */
    GHashTable *sent_ids;       /* ids of the owner's messages */
    GHashTable *from_counts;    /* sender -> messages received from them */
    bool has_sent;
} probe_box_t;

static bool
op_has_sent(void *ctx)
{
    return ((probe_box_t *)ctx)->has_sent;
}

static bool
op_has_id(void *ctx, const char *id)
{
    return id && g_hash_table_contains(((probe_box_t *)ctx)->all_ids, id);
}

static bool
op_sent_has_id(void *ctx, const char *id, gint64 *date_out)
{
    (void)date_out;
    return id && g_hash_table_contains(((probe_box_t *)ctx)->sent_ids, id);
}

static unsigned
op_received_from(void *ctx, const char *addr)
{
    return addr ? GPOINTER_TO_UINT(g_hash_table_lookup(((probe_box_t *)ctx)->from_counts, addr)) : 0;
}

static gint
cmp_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
collect(const char *path, GPtrArray *files, unsigned depth)
{
    if (depth > 32)
        return;
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        GDir *d = g_dir_open(path, 0, NULL);
        if (d == NULL)
            return;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *n;
        while ((n = g_dir_read_name(d)) != NULL)
            if (n[0] != '.')
                g_ptr_array_add(names, g_strdup(n));
        g_dir_close(d);
        g_ptr_array_sort(names, cmp_name);
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *p = g_build_filename(path, (const char *)g_ptr_array_index(names, i), NULL);
            collect(p, files, depth + 1);
        }
    } else if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_ptr_array_add(files, g_strdup(path));
    }
}

static bool
in_folder(const char *file, const char *folder)
{
    if (folder == NULL)
        return true;
    g_autofree char *needle = g_strdup_printf("/%s/", folder);
    return strstr(file, needle) != NULL;
}

static void
print_json(JsonNode *n)
{
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    json_generator_set_root(g, n);
    g_autofree char *s = json_generator_to_data(g, NULL);
    puts(s);
    g_object_unref(g);
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* the translations: the installed ones, or BOUNCEWATCH_LOCALEDIR (a tree
     * of LANG/LC_MESSAGES/bouncewatch.mo, for tests before installing) */
    const char *ld = g_getenv("BOUNCEWATCH_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE, ld ? ld : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    g_autoptr(GPtrArray) owners = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) providers = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    const char *sent_folder = NULL;
    bool json = false, all = false, facts = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--owner") == 0 || strcmp(a, "--provider") == 0 || strcmp(a, "--sent-folder") == 0) &&
            i + 1 < argc) {
            if (a[2] == 'o')
                g_ptr_array_add(owners, g_strdup(argv[++i]));
            else if (a[2] == 'p')
                g_ptr_array_add(providers, g_strdup(argv[++i]));
            else
                sent_folder = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--all") == 0) {
            all = true;
        } else if (strcmp(a, "--facts") == 0) {
            facts = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s --owner ADDR [--owner ADDR]... [--provider DOMAIN]... [--sent-folder NAME] "
                   "[--json] [--all] [--facts] PATH...\n", argv[0]);
            return 0;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "bw-signal-probe: unknown option %s (try --help)\n", a);
            return 2;
        } else {
            g_ptr_array_add(paths, g_strdup(a));
        }
    }
    if (owners->len == 0 || paths->len == 0) {
        fprintf(stderr, "bw-signal-probe: give at least one --owner ADDR and one PATH (try --help)\n");
        return 2;
    }
    if (bw_init() != BW_OK) {
        fprintf(stderr, "bw-signal-probe: cannot initialise the core\n");
        return 1;
    }
    g_ptr_array_add(owners, NULL);
    g_ptr_array_add(providers, NULL);
    g_autoptr(bw_account_t) acc = bw_account_new((const char *const *)owners->pdata,
                                                 (const char *const *)providers->pdata);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < paths->len; i++)
        collect(g_ptr_array_index(paths, i), files, 0);

    probe_box_t box = {
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        false,
    };
    bw_mailbox_ops_t ops = { 0 };
    ops.has_sent_mail = op_has_sent;
    ops.has_message_id = op_has_id;
    ops.sent_has_message_id = op_sent_has_id;
    ops.received_from_count = op_received_from;
    ops.ctx = &box;

    g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_summary_free);
    g_autoptr(GPtrArray) received = g_ptr_array_new_with_free_func((GDestroyNotify)bw_mailfacts_free);
    g_autoptr(GPtrArray) received_files = g_ptr_array_new();
    g_autoptr(GPtrArray) signals = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    g_autoptr(GPtrArray) phish = g_ptr_array_new_with_free_func((GDestroyNotify)bw_phish_free);
    int status = 0;
    for (guint i = 0; i < files->len; i++) {
        const char *f = g_ptr_array_index(files, i);
        g_autofree char *data = NULL;
        gsize len = 0;
        g_autoptr(GError) err = NULL;
        if (!g_file_get_contents(f, &data, &len, &err)) {
            fprintf(stderr, "bw-signal-probe: %s: %s\n", f, err->message);
            status = 1;
            continue;
        }
        g_autoptr(bw_mailfacts_t) m = NULL;
        g_autofree char *detail = NULL;
        if (bw_mailfacts_read(data, len, &m, &detail) != BW_OK) {
            if (all)
                fprintf(stderr, "bw-signal-probe: %s: %s\n", f, detail ? detail : "not a message");
            continue;
        }
        if (facts) {
            JsonNode *fj = bw_mailfacts_to_json(m);
            print_json(fj);
            json_node_unref(fj);
        }
        if (m->message_id)
            g_hash_table_add(box.all_ids, g_strdup(m->message_id));
        if (m->from_addr && bw_account_is_owner(acc, m->from_addr) && in_folder(f, sent_folder)) {
            bw_sent_summary_t *s = NULL;
            if (bw_sent_summary_read(data, len, &s, NULL) == BW_OK) {
                g_ptr_array_add(sent, s);
                box.has_sent = true;
                if (s->message_id)
                    g_hash_table_add(box.sent_ids, g_strdup(s->message_id));
            }
            continue;
        }
        if (m->from_addr) {
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(box.from_counts, m->from_addr));
            g_hash_table_replace(box.from_counts, g_strdup(m->from_addr), GUINT_TO_POINTER(n + 1));
        }
        bw_signal_t *sig = NULL;
        bw_phish_t *ph = NULL;
        bw_notice_class_t c = bw_notice_judge(m, acc, f, &sig, &ph);
        if (c == BW_NOTICE_SIGNAL)
            g_ptr_array_add(signals, sig);
        else if (c == BW_NOTICE_PHISHING)
            g_ptr_array_add(phish, ph);
        if (!json && (all || c != BW_NOTICE_ORDINARY)) {
            const char *kind = c == BW_NOTICE_SIGNAL ? bw_signal_kind_to_string(sig->kind)
                             : c == BW_NOTICE_PHISHING ? "phishing" : "ordinary";
            printf("%s\t%s\t%s\t%s\n", kind, m->message_id ? m->message_id : "-", f,
                   c == BW_NOTICE_SIGNAL ? sig->summary : c == BW_NOTICE_PHISHING ? ph->tell : "");
            GPtrArray *ev = c == BW_NOTICE_SIGNAL ? sig->evidence : c == BW_NOTICE_PHISHING ? ph->evidence : NULL;
            for (guint k = 0; ev && k < ev->len; k++)
                printf("\t%s\n", (const char *)g_ptr_array_index(ev, k));
        }
        if (c != BW_NOTICE_SIGNAL && (m->in_reply_to || m->references->len)) {
            g_ptr_array_add(received, g_steal_pointer(&m));
            g_ptr_array_add(received_files, (gpointer)f);
        }
    }
    g_autoptr(GPtrArray) anomalies = NULL;
    bw_sent_anomalies_find(sent, acc, &ops, &anomalies);
    bw_reply_context_t rctx = { anomalies, &ops };
    for (guint i = 0; i < received->len; i++) {
        bw_signal_t *r = NULL;
        if (bw_reply_judge(g_ptr_array_index(received, i), acc, &rctx, g_ptr_array_index(received_files, i), &r)) {
            if (!json) {
                printf("human-reply\t%s\t%s\t%s\n", r->message_id ? r->message_id : "-", r->file, r->summary);
                for (guint k = 0; k < r->evidence->len; k++)
                    printf("\t%s\n", (const char *)g_ptr_array_index(r->evidence, k));
            }
            g_ptr_array_add(signals, r);
        }
    }
    for (guint i = 0; i < anomalies->len; i++) {
        bw_signal_t *s = g_ptr_array_index(anomalies, i);
        if (!json) {
            printf("sent-anomaly\t%u members\t%s\n", s->count, s->summary);
            for (guint k = 0; k < s->evidence->len; k++)
                printf("\t%s\n", (const char *)g_ptr_array_index(s->evidence, k));
        }
    }
    while (anomalies->len)
        g_ptr_array_add(signals, g_ptr_array_steal_index(anomalies, 0));
    g_ptr_array_sort(signals, bw_signal_compare);
    g_autoptr(bw_signals_assessment_t) sa = NULL;
    bw_signals_assess(signals, bw_account_primary(acc), false, &sa);
    if (json) {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "messages");
        json_builder_add_int_value(b, files->len);
        json_builder_set_member_name(b, "sent_messages");
        json_builder_add_int_value(b, sent->len);
        json_builder_set_member_name(b, "signals");
        json_builder_begin_array(b);
        for (guint i = 0; i < signals->len; i++)
            json_builder_add_value(b, bw_signal_to_json(g_ptr_array_index(signals, i), 0));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "phishing");
        json_builder_begin_array(b);
        for (guint i = 0; i < phish->len; i++)
            json_builder_add_value(b, bw_phish_to_json(g_ptr_array_index(phish, i), 0));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "assessment");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "compromise");
        json_builder_add_boolean_value(b, sa->compromise);
        json_builder_set_member_name(b, "summary");
        json_builder_add_string_value(b, sa->summary ? sa->summary : "");
        json_builder_set_member_name(b, "reasons");
        json_builder_begin_array(b);
        for (guint i = 0; i < sa->reasons->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(sa->reasons, i));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "advice");
        json_builder_begin_array(b);
        for (guint i = 0; i < sa->advice->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(sa->advice, i));
        json_builder_end_array(b);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "timeline");
        json_builder_begin_array(b);
        g_autoptr(GPtrArray) tl = bw_signals_timeline(signals, phish, 0);
        for (guint i = 0; i < tl->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(tl, i));
        json_builder_end_array(b);
        json_builder_end_object(b);
        JsonNode *root = json_builder_get_root(b);
        print_json(root);
        json_node_unref(root);
        g_object_unref(b);
    } else {
        printf("assessment\t%s\t%s\n", sa->compromise ? "compromise-suspected" : "no compromise from signals",
               sa->summary ? sa->summary : "");
        for (guint i = 0; i < sa->advice->len; i++)
            printf("\t- %s\n", (const char *)g_ptr_array_index(sa->advice, i));
    }
    g_hash_table_unref(box.all_ids);
    g_hash_table_unref(box.sent_ids);
    g_hash_table_unref(box.from_counts);
    return status;
}
