/* throwing-notmuch.so: LD_PRELOADed by tests/e2e/T250, it makes
 * notmuch_messages_get() throw the way notmuch 0.37's does when Xapian
 * reports a concurrent commit (DatabaseModifiedError out of get_document,
 * which notmuch does not catch there).  A real writer hits that window
 * rarely; this hits it on demand.  BW_TEST_THROWS=N: the first N calls
 * of each process throw; later calls are notmuch's own. */
#include <dlfcn.h>
#include <stdexcept>
#include <stdlib.h>
#include <notmuch.h>

extern "C" notmuch_message_t *
notmuch_messages_get(notmuch_messages_t *messages)
{
    typedef notmuch_message_t *(*get_fn)(notmuch_messages_t *);
    static get_fn real = NULL;
    if (real == NULL) {
        /* libnotmuch is in the engine module's local scope (dlopen
         * RTLD_LOCAL), which RTLD_NEXT from here does not search. */
        void *lib = dlopen("libnotmuch.so.5", RTLD_LAZY | RTLD_NOLOAD);
        real = (get_fn) dlsym(lib ? lib : RTLD_NEXT, "notmuch_messages_get");
        if (real == NULL)
            abort();
    }
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
