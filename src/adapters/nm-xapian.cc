/* nm-xapian.cc: notmuch's Xapian database read directly, for two
 * questions (see nm-xapian.h).  What this file relies on of notmuch 0.37's
 * schema (lib/database.cc, the schema comment; lib/prefix.cc):
 *   - every mail document holds the term "Tmail" ("type" is the boolean
 *     prefix "T"), every ghost "Tghost", never both (add-message.cc swaps
 *     them when a ghost becomes mail; message.cc makes a ghost of a
 *     deleted message still named in its thread); directory documents
 *     hold "Tdirectory";
 *   - notmuch_query_count_messages("*") with no excluded tags counts the
 *     documents of Tmail AND MatchAll (query.cc: an exact MSet count),
 *     which is the term frequency of "Tmail";
 *   - the Message-ID is the value of slot 1 (NOTMUCH_VALUE_MESSAGE_ID, set
 *     with the id term in _notmuch_message_create_for_message_id), which
 *     notmuch_message_get_header(m, "message-id") returns as a C string
 *     (talloc_strdup of c_str(): up to the first NUL) when the database
 *     has NOTMUCH_FEATURE_FROM_SUBJECT_ID_VALUES;
 *   - the id term is "Q" + the id (notmuch_message_get_message_id reads
 *     the first term at or after "Q" of the document's term list).
 * A database whose "version" is not 3, or whose "features" hold a line
 * notmuch 0.37 does not know or lack one of the three these answers need
 * (NM_NEEDED below), is not read here. */
#include "nm-xapian.h"

#include <xapian.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

/* lib/database.cc NOTMUCH_DATABASE_VERSION, and the lines of the
 * features string (features.cc, _notmuch_database_print_features: a
 * feature's name and flags, in this order) that notmuch 0.37 knows.  A
 * database it creates has all eight; one created by an older notmuch and
 * upgraded by `notmuch new` lacks those not in NOTMUCH_FEATURES_CURRENT
 * (database-private.h: the indexed MIME types, the separate body index,
 * and the header values of databases older than them).  The answers here
 * need only the values (the Message-ID slot), the ghosts (Tmail/Tghost)
 * and the lastmod slot (the revision check): NM_NEEDED. */
const char NM_VERSION[] = "3";
const char *const NM_KNOWN[] = {
    "multiple paths per message\trw",
    "relative directory paths\trw",
    "from/subject/message-ID in database\tw",
    "exact folder:/path: search\trw",
    "mail documents for missing messages\tw",
    "indexed MIME types\tw",
    "modification tracking\tw",
    "index body and headers separately\tw",
};
const unsigned NM_NEEDED[] = { 2, 4, 6 };   /* indexes into NM_KNOWN */
const Xapian::valueno NM_VALUE_MESSAGE_ID = 1;
const Xapian::valueno NM_VALUE_LAST_MOD = 4;
const unsigned ID_TERM_CHECKED = 64;   /* as nm-source.c's libnotmuch listing */

const char *
test_mode()
{
    const char *m = getenv("BOUNCEWATCH_TEST_XAPIAN");
    return m != nullptr ? m : "";
}

}   // namespace

struct bw_nm_xapian {
    Xapian::Database db;
    std::string path;
    Xapian::rev revision = 0;
    int usable = -1;   /* the last bw_nm_xapian_usable: -1 not asked, 0 no, 1 yes */
};

extern "C" bw_nm_xapian_t *
bw_nm_xapian_open(const char *database_path)
{
    if (database_path == nullptr || strcmp(test_mode(), "off") == 0)
        return nullptr;
    bw_nm_xapian_t *x = nullptr;
    try {
        x = new bw_nm_xapian_t;
        /* notmuch tries <path>/xapian and takes <path>/.notmuch/xapian when
         * no database opens there (a DatabaseOpeningError; a path that does
         * not exist gives one without being tried); any other error ended
         * notmuch's open */
        std::string trial = std::string(database_path) + "/xapian";
        struct stat st;
        bool opened = false;
        if (stat(trial.c_str(), &st) == 0 || errno != ENOENT) {
            try {
                x->db = Xapian::Database(trial);
                opened = true;
            } catch (const Xapian::DatabaseOpeningError &) {
            }
        }
        if (!opened) {
            trial = std::string(database_path) + "/.notmuch/xapian";
            x->db = Xapian::Database(trial);
        }
        x->path = trial;
        x->revision = x->db.get_revision();
        return x;
    } catch (...) {
        delete x;
        return nullptr;
    }
}

extern "C" void
bw_nm_xapian_close(bw_nm_xapian_t *x)
{
    try {
        delete x;
    } catch (...) {
    }
}

/* Every line of `features` is one notmuch 0.37 knows, none twice, and
 * the needed ones are there (an unknown feature may change the schema). */
static bool
features_ok(const std::string &features)
{
    const size_t n_known = sizeof NM_KNOWN / sizeof NM_KNOWN[0];
    bool seen[n_known] = {};
    size_t at = 0;
    while (at < features.size()) {
        size_t end = features.find('\n', at);
        if (end == std::string::npos)
            return false;   /* notmuch ends every line */
        std::string line = features.substr(at, end - at);
        size_t k = 0;
        while (k < n_known && line != NM_KNOWN[k])
            k++;
        if (k == n_known || seen[k])
            return false;
        seen[k] = true;
        at = end + 1;
    }
    for (unsigned k : NM_NEEDED)
        if (!seen[k])
            return false;
    return true;
}

static bool
check_usable(bw_nm_xapian_t *x, const char *uuid, uint64_t lastmod)
{
    if (x->db.get_metadata("version") != NM_VERSION ||
        !features_ok(x->db.get_metadata("features")))
        return false;
    if (uuid == nullptr || x->db.get_uuid() != uuid)
        return false;
    /* notmuch's revision (open.cc, _load_database_state) in x's snapshot */
    std::string top = x->db.get_value_upper_bound(NM_VALUE_LAST_MOD);
    uint64_t mine = top.empty() ? 0 : (uint64_t)Xapian::sortable_unserialise(top);
    if (mine != lastmod)
        return false;
    if (strcmp(test_mode(), "stale") == 0)
        return false;
    /* last: no commit between x's open and now */
    Xapian::Database fresh(x->path);
    return fresh.get_uuid() == x->db.get_uuid() && fresh.get_revision() == x->revision;
}

extern "C" bool
bw_nm_xapian_usable(bw_nm_xapian_t *x, const char *uuid, uint64_t lastmod)
{
    if (x == nullptr)
        return false;
    /* Asked again before every answer, not once: libnotmuch reopens its
     * own handle when a read meets Xapian's DatabaseModifiedError
     * (lib/message.cc, _notmuch_message_ensure_metadata), which takes
     * commits after ours was opened; the fresh handle's revision then
     * differs, so an answer is never given once that can have happened. */
    try {
        x->usable = check_usable(x, uuid, lastmod) ? 1 : 0;
    } catch (...) {
        x->usable = 0;
    }
    return x->usable == 1;
}

extern "C" int
bw_nm_xapian_unchanged(bw_nm_xapian_t *x, const char *uuid)
{
    if (x == nullptr || uuid == nullptr)
        return -1;
    try {
        Xapian::Database fresh(x->path);
        return fresh.get_uuid() == uuid && x->db.get_uuid() == uuid &&
               fresh.get_revision() == x->revision;
    } catch (...) {
        return -1;
    }
}

extern "C" bool
bw_nm_xapian_count_mail(bw_nm_xapian_t *x, uint64_t *count)
{
    *count = 0;
    if (x == nullptr || x->usable != 1)
        return false;
    try {
        *count = x->db.get_termfreq("Tmail");
        return true;
    } catch (...) {
        return false;
    }
}

/* The id term of document `did` as notmuch_message_get_message_id reads it
 * (_notmuch_message_get_term: the first term at or after "Q", if it starts
 * with "Q"), up to its first NUL; false when it has none. */
static bool
id_term(const Xapian::Database &db, Xapian::docid did, std::string *out)
{
    Xapian::TermIterator t = db.termlist_begin(did);
    t.skip_to("Q");
    if (t == db.termlist_end(did))
        return false;
    std::string term = *t;
    if (term.compare(0, 1, "Q") != 0)
        return false;
    *out = std::string(term.c_str() + 1);
    return true;
}

extern "C" int
bw_nm_xapian_each_id(bw_nm_xapian_t *x, void (*fn)(void *data, const char *message_id),
                     void *data)
{
    if (x == nullptr || x->usable != 1)
        return -1;
    /* The ids are gathered first, NUL-separated in one buffer, and handed
     * out once all are read: a Xapian error part-way (a writer committing
     * twice meanwhile) leaves the caller nothing to undo. */
    std::string ids;
    try {
        Xapian::PostingIterator p = x->db.postlist_begin("Tmail");
        Xapian::PostingIterator pend = x->db.postlist_end("Tmail");
        Xapian::ValueIterator v = x->db.valuestream_begin(NM_VALUE_MESSAGE_ID);
        Xapian::ValueIterator vend = x->db.valuestream_end(NM_VALUE_MESSAGE_ID);
        ids.reserve((size_t)x->db.get_termfreq("Tmail") * 48);
        unsigned n = 0;
        for (; p != pend; ++p, n++) {
            Xapian::docid did = *p;
            /* the stream holds the mail and the ghosts in docid order: the
             * next value is usually this document's (++ is cheaper than
             * skip_to) */
            if (v != vend && v.get_docid() < did) {
                ++v;
                if (v != vend && v.get_docid() < did)
                    v.skip_to(did);
            }
            /* no value is an empty one (Document::get_value) */
            std::string value = v != vend && v.get_docid() == did ? *v : std::string();
            const char *id = value.c_str();   /* up to the first NUL, as notmuch */
            if (*id == '\0')
                return 0;
            if (n < ID_TERM_CHECKED) {
                std::string term;
                if (!id_term(x->db, did, &term) || term != id)
                    return 0;
            }
            ids.append(id);
            ids.push_back('\0');
        }
    } catch (...) {
        return -1;
    }
    for (size_t at = 0; at < ids.size(); at += strlen(ids.c_str() + at) + 1)
        fn(data, ids.c_str() + at);
    return 1;
}
