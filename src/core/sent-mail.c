/* sent-mail.c: one of the owner's sent messages as the profile learns from
 * it (bw-scan.h: bw_sent_mail_t).
 *
 * Read from the header block only, in the reader process (the owner's Sent
 * holds what a hijacker wrote too), and sent to bouncewatch as JSON. */
#include "bw-private.h"
#include "bw-signals-private.h"
#include <string.h>

/* The header fields of a sent message that the profile reads, and only
 * them, as GMime gets them. */
static const char *const sent_fields[] = {
    "To", "Cc", "From", "Received", "DKIM-Signature", "X-Mailer", "User-Agent", NULL,
};

/* Header fields walked (the extract keeps only the ones above). */
#define MAX_FIELDS 500
/* Group nesting followed in To and Cc. */
#define MAX_GROUP_DEPTH 2u

void
bw_sent_mail_free(bw_sent_mail_t *s)
{
    if (s == NULL)
        return;
    g_free(s->message_id);
    g_free(s->from);
    if (s->received)
        g_ptr_array_unref(s->received);
    g_free(s->dkim_domain);
    g_free(s->x_mailer);
    if (s->to)
        g_ptr_array_unref(s->to);
    g_free(s);
}

void
bw_sent_mail_feed(bw_profile_t *profile, const bw_sent_mail_t *s)
{
    bw_sent_t sent = {
        .message_id = s->message_id,
        .from = s->from,
        .received = s->received,
        .dkim_domain = s->dkim_domain,
        .x_mailer = s->x_mailer,
        .date_unix = s->date,
    };
    bw_profile_add_sent(profile, &sent);
    /* The people the owner writes to (typo hints among correspondents). */
    for (guint i = 0; s->to && i < s->to->len; i++)
        bw_profile_add_correspondent(profile, g_ptr_array_index(s->to, i));
}

static void
add_recipients(GPtrArray *out, InternetAddressList *list, unsigned depth)
{
    if (list == NULL || depth > MAX_GROUP_DEPTH)
        return;
    int n = internet_address_list_length(list);
    for (int i = 0; i < n && out->len < BW_SENT_MAIL_MAX_TO; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            char *a = bw_address_normalize(
                internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
            if (a)
                g_ptr_array_add(out, a);
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            add_recipients(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                           depth + 1);
        }
    }
}

bw_status_t
bw_sent_mail_read(const char *data, size_t len, bw_sent_mail_t **out, char **detail)
{
    (void)detail;
    *out = NULL;
    if (data == NULL || len == 0)
        return BW_E_NOT_MAIL;
    if (len > BW_SENT_MAIL_MAX_BYTES)
        len = BW_SENT_MAIL_MAX_BYTES;
    bw_sent_mail_t *s = g_new0(bw_sent_mail_t, 1);
    s->received = g_ptr_array_new_with_free_func(g_free);
    s->to = g_ptr_array_new_with_free_func(g_free);
    *out = s;
    g_autofree char *fields = NULL;
    size_t fields_len = 0;
    if (bw_header_fields_extract(data, len, sent_fields, BW_SENT_MAIL_MAX_BYTES, &fields,
                                 &fields_len, NULL) != BW_OK)
        return BW_OK;
    g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(fields, fields_len);
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
    g_autoptr(GMimeMessage) msg = g_mime_parser_construct_message(parser, NULL);
    if (msg == NULL)
        return BW_OK;
    GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    int count = g_mime_header_list_get_count(headers);
    static const GMimeAddressType kinds[] = { GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC };
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
        add_recipients(s->to, g_mime_message_get_addresses(msg, kinds[k]), 0);
    for (int i = 0; i < count && i < MAX_FIELDS; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
        const char *name = g_mime_header_get_name(h);
        const char *value = g_mime_header_get_value(h);
        if (name == NULL || value == NULL)
            continue;
        if (g_ascii_strcasecmp(name, "Received") == 0 && s->received->len < BW_SENT_MAIL_MAX_HOPS)
            g_ptr_array_add(s->received, g_strdup(value));
        else if (g_ascii_strcasecmp(name, "DKIM-Signature") == 0 && s->dkim_domain == NULL)
            s->dkim_domain = bw_dkim_domain(value);
        else if ((g_ascii_strcasecmp(name, "X-Mailer") == 0 ||
                  g_ascii_strcasecmp(name, "User-Agent") == 0) && s->x_mailer == NULL)
            s->x_mailer = g_strdup(value);
        else if (g_ascii_strcasecmp(name, "From") == 0 && s->from == NULL)
            s->from = bw_address_normalize(value);
    }
    /* JSON carries UTF-8 only; GMime gives UTF-8 for all but broken input. */
    bw_sig_fix_utf8(&s->from);
    bw_sig_fix_utf8(&s->dkim_domain);
    bw_sig_fix_utf8(&s->x_mailer);
    bw_sig_fix_utf8_all(s->received);
    bw_sig_fix_utf8_all(s->to);
    return BW_OK;
}

JsonNode *
bw_sent_mail_to_json(const bw_sent_mail_t *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    bw_sig_json_opt_str(b, "from", s->from);
    bw_json_add_strv(b, "received", s->received);
    bw_sig_json_opt_str(b, "dkim_domain", s->dkim_domain);
    bw_sig_json_opt_str(b, "x_mailer", s->x_mailer);
    bw_json_add_strv(b, "to", s->to);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* A string member, absent or null: NULL; anything else is an error. */
static bool
get_opt_str(JsonObject *o, const char *key, char **out)
{
    *out = NULL;
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || JSON_NODE_HOLDS_NULL(n))
        return true;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return false;
    *out = g_strdup(json_node_get_string(n));
    return true;
}

/* An array of at most `max` strings (absent: empty). */
static bool
get_strv(JsonObject *o, const char *key, guint max, GPtrArray *out)
{
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || JSON_NODE_HOLDS_NULL(n))
        return true;
    if (!JSON_NODE_HOLDS_ARRAY(n))
        return false;
    JsonArray *a = json_node_get_array(n);
    guint len = json_array_get_length(a);
    if (len > max)
        return false;
    for (guint i = 0; i < len; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
            return false;
        g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
    }
    return true;
}

bw_status_t
bw_sent_mail_from_json(JsonNode *node, bw_sent_mail_t **out, char **detail)
{
    *out = NULL;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return bw_error_set(detail, BW_E_INVALID, "%s", "a sent message is not a JSON object");
    JsonObject *o = json_node_get_object(node);
    bw_sent_mail_t *s = g_new0(bw_sent_mail_t, 1);
    s->received = g_ptr_array_new_with_free_func(g_free);
    s->to = g_ptr_array_new_with_free_func(g_free);
    if (!get_opt_str(o, "from", &s->from) || !get_opt_str(o, "dkim_domain", &s->dkim_domain) ||
        !get_opt_str(o, "x_mailer", &s->x_mailer) ||
        !get_strv(o, "received", BW_SENT_MAIL_MAX_HOPS, s->received) ||
        !get_strv(o, "to", BW_SENT_MAIL_MAX_TO, s->to)) {
        bw_sent_mail_free(s);
        return bw_error_set(detail, BW_E_INVALID, "%s", "a sent message has a bad member");
    }
    *out = s;
    return BW_OK;
}
