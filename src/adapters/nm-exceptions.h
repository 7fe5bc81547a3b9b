/* nm-exceptions.h: the notmuch calls that can let a C++ exception out.
 *
 * libnotmuch is C++ behind a C API and catches Xapian's exceptions in
 * almost every entry point, turning them into a status or NULL.  Not in
 * all: in notmuch 0.37 notmuch_messages_get() reads the document
 * (Xapian::Database::get_document) and catches only DocNotFoundError.
 * When a `notmuch new` commits twice while we read, Xapian throws
 * DatabaseModifiedError there; no C frame can catch it, so the process
 * ends in std::terminate() (abort) instead of reading again.  Likewise
 * notmuch_message_thaw() writes the document (replace_document) outside
 * any try: a write error (a full disk) would end the tagging in an abort.
 *
 * These wrappers (with nm-xapian.cc, which reads notmuch's Xapian database
 * itself) are the only C++ in bouncewatch: a try/catch around the
 * call, so the exception becomes what the rest of notmuch's API already
 * gives us, a NULL the scan treats as "the read failed, read again". */
#ifndef BW_NM_EXCEPTIONS_H
#define BW_NM_EXCEPTIONS_H

#include <notmuch.h>

#ifdef __cplusplus
extern "C" {
#endif

/* notmuch_messages_get(), or NULL when reading the message's document
 * failed, an exception included. */
notmuch_message_t *bw_nm_messages_get(notmuch_messages_t *messages);

/* notmuch_message_thaw(), or NOTMUCH_STATUS_XAPIAN_EXCEPTION when writing
 * the document threw. */
notmuch_status_t bw_nm_message_thaw(notmuch_message_t *message);

#ifdef __cplusplus
}
#endif

#endif
