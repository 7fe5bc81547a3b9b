/* reader-read.c: the READ requests of the reader protocol (bw-reader.h):
 * what the reader process runs on a file's bytes, and the parent's checks
 * of what it answers. */
#include "bw-private.h"
#include "bw-reader.h"
#include "bw-signals.h"
#include <string.h>

size_t
bw_reader_read_max(guint32 read)
{
    switch (read) {
    case BW_READER_FACTS:
    case BW_READER_NOTABLE_FACTS: return BW_SIG_MAX_MESSAGE_BYTES;
    case BW_READER_SENT_SUMMARY: return BW_SIG_MAX_HEADER_BYTES;
    case BW_READER_SENT_HEADERS: return BW_SENT_MAIL_MAX_BYTES;
    default: return 0;
    }
}

bw_status_t
bw_reader_read_json(guint32 read, const char *data, size_t len, char **json, char **detail)
{
    *json = NULL;
    if (data == NULL || len == 0)
        return bw_error_set(detail, BW_E_NOT_MAIL, "%s", "the file is empty");
    bw_status_t st;
    switch (read) {
    case BW_READER_FACTS:
    case BW_READER_NOTABLE_FACTS: {
        g_autoptr(bw_mailfacts_t) m = NULL;
        st = read == BW_READER_FACTS ? bw_mailfacts_read(data, len, &m, detail)
                                     : bw_mailfacts_read_notable(data, len, &m, detail);
        if (st == BW_OK && m != NULL)
            *json = bw_mailfacts_to_json_text(m);
        return st;
    }
    case BW_READER_SENT_SUMMARY: {
        g_autoptr(bw_sent_summary_t) s = NULL;
        st = bw_sent_summary_read(data, len, &s, detail);
        if (st == BW_OK && s != NULL)
            *json = bw_sent_summary_to_json_text(s);
        return st;
    }
    case BW_READER_SENT_HEADERS: {
        g_autoptr(bw_sent_mail_t) s = NULL;
        st = bw_sent_mail_read(data, len, &s, detail);
        if (st == BW_OK && s != NULL)
            *json = bw_json_node_take_text(bw_sent_mail_to_json(s));
        return st;
    }
    default:
        return bw_error_set(detail, BW_E_INVALID, "%s", "not a read request");
    }
}

bw_status_t
bw_reader_payload_parse(const char *json, size_t len, JsonNode **out, char **why)
{
    *out = NULL;
    bw_status_t st = bw_reader_payload_check(json, len, why);
    if (st != BW_OK)
        return st;
    return bw_reader_payload_parse_checked(json, len, out, why);
}

bw_status_t
bw_reader_payload_parse_checked(const char *json, size_t len, JsonNode **out, char **why)
{
    *out = NULL;
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (!json_parser_load_from_data(p, json, (gssize)len, NULL) || json_parser_get_root(p) == NULL)
        return bw_error_set(why, BW_E_INVALID, "%s", "an answer that is not JSON");
    *out = json_node_copy(json_parser_get_root(p));
    return BW_OK;
}
