/* throwing-notmuch.so: LD_PRELOADed by tests/e2e/T250, it makes
 * notmuch_messages_get() throw the way notmuch 0.37's does when Xapian
 * reports a concurrent commit (DatabaseModifiedError out of get_document,
 * which notmuch does not catch there).  A real writer hits that window
 * rarely; this hits it on demand.  BW_TEST_THROWS=N: the first N calls
 * of each process throw; later calls are notmuch's own.
 * BW_TEST_THAW_THROWS=1: notmuch_message_thaw() throws as notmuch's does
 * when writing the document fails (a full disk), without writing. */
#include <dlfcn.h>
#include <stdexcept>
#include <stdlib.h>
#include <notmuch.h>

static void *
real_symbol(const char *name)
{
    /* libnotmuch is in the engine module's local scope (dlopen
     * RTLD_LOCAL), which RTLD_NEXT from here does not search. */
    void *lib = dlopen("libnotmuch.so.5", RTLD_LAZY | RTLD_NOLOAD);
    void *f = dlsym(lib ? lib : RTLD_NEXT, name);
    if (f == NULL)
        abort();
    return f;
}

extern "C" notmuch_message_t *
notmuch_messages_get(notmuch_messages_t *messages)
{
    typedef notmuch_message_t *(*get_fn)(notmuch_messages_t *);
    static get_fn real = NULL;
    if (real == NULL)
        real = (get_fn) real_symbol("notmuch_messages_get");
    static long left = -1;
    if (left < 0) {
        const char *n = getenv("BW_TEST_THROWS");
        left = n ? strtol(n, NULL, 10) : 0;
    }
    if (left > 0) {
        left--;
        throw std::runtime_error("The revision being read has been discarded");
    }
    return real(messages);
}

extern "C" notmuch_status_t
notmuch_message_thaw(notmuch_message_t *message)
{
    typedef notmuch_status_t (*thaw_fn)(notmuch_message_t *);
    static thaw_fn real = NULL;
    if (real == NULL)
        real = (thaw_fn) real_symbol("notmuch_message_thaw");
    const char *t = getenv("BW_TEST_THAW_THROWS");
    if (t != NULL && t[0] == '1')
        throw std::runtime_error("Error writing block 1234 (No space left on device)");
    return real(message);
}
