/* nm-exceptions.cc: see nm-exceptions.h for why this one file is C++. */
#include "nm-exceptions.h"

notmuch_message_t *
bw_nm_messages_get(notmuch_messages_t *messages)
{
    try {
        return notmuch_messages_get(messages);
    } catch (...) {
        /* Nothing to free: notmuch created no message object before the
         * document read threw, and unwinding destroyed Xapian's. */
        return nullptr;
    }
}

notmuch_status_t
bw_nm_message_thaw(notmuch_message_t *message)
{
    try {
        return notmuch_message_thaw(message);
    } catch (...) {
        return NOTMUCH_STATUS_XAPIAN_EXCEPTION;
    }
}
