/* nm-reopen.c: see nm-reopen.h. */
#include "nm-reopen.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf-refs.h"

typedef notmuch_status_t (*reopen_fn)(notmuch_database_t *, notmuch_database_mode_t);

static unsigned long reopen_calls;   /* __atomic */
static reopen_fn real_reopen;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static bool proven;
static pthread_once_t proof_once = PTHREAD_ONCE_INIT;

static notmuch_status_t counted_reopen(notmuch_database_t *db, notmuch_database_mode_t mode);

/* libnotmuch's own notmuch_database_reopen: looked up in libnotmuch's
 * handle, found from the address of another of its functions (dladdr).
 * dlsym on that handle searches libnotmuch first, then its dependencies;
 * never the engine module or what is preloaded.  (dlsym(RTLD_NEXT) from
 * the module finds it too on this machine, with RTLD_DEEPBIND or without,
 * and with a preloaded definition: glibc searches the module's own scope
 * after the module, /tmp/tolerate12-next; but it would take the first
 * definition in the module's dependencies, whichever library that is.
 * The handle names libnotmuch.) */
static void
find_real(void)
{
    Dl_info info;
    void *lib = NULL;
    if (dladdr((void *)(uintptr_t)notmuch_status_to_string, &info) != 0 &&
        info.dli_fname != NULL)
        lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    void *f = lib != NULL ? dlsym(lib, "notmuch_database_reopen") : NULL;
    Dl_info at;
    /* it must be libnotmuch's, not ours */
    if (f == NULL || f == (void *)(uintptr_t)counted_reopen || dladdr(f, &at) == 0 ||
        at.dli_fbase != info.dli_fbase)
        f = NULL;
    real_reopen = (reopen_fn)(uintptr_t)f;
}

static notmuch_status_t
counted_reopen(notmuch_database_t *db, notmuch_database_mode_t mode)
{
    __atomic_add_fetch(&reopen_calls, 1, __ATOMIC_SEQ_CST);
    return bw_nm_reopen_own(db, mode);
}

/* The definition libnotmuch's PLT call reaches (nm-reopen.h).  An alias:
 * counted_reopen's own address is the one its GOT entry must hold, whatever
 * the engine's own lookup of this name would find. */
__attribute__((visibility("default")))
notmuch_status_t notmuch_database_reopen(notmuch_database_t *db, notmuch_database_mode_t mode)
    __attribute__((alias("counted_reopen")));

unsigned long
bw_nm_reopen_calls(void)
{
    return __atomic_load_n(&reopen_calls, __ATOMIC_SEQ_CST);
}

notmuch_status_t
bw_nm_reopen_own(notmuch_database_t *db, notmuch_database_mode_t mode)
{
    pthread_once(&real_once, find_real);
    if (real_reopen == NULL)
        return NOTMUCH_STATUS_XAPIAN_EXCEPTION;   /* cannot happen: libnotmuch is loaded */
    return real_reopen(db, mode);
}

static void
prove(void)
{
    pthread_once(&real_once, find_real);
    const char *t = getenv("BOUNCEWATCH_TEST_REOPEN_PROOF");
    if (real_reopen == NULL || (t != NULL && strcmp(t, "off") == 0))
        return;
    bw_elf_refs_t r;
    proven = bw_elf_refs((const void *)(uintptr_t)real_reopen, "notmuch_database_reopen", true,
                         &r) &&
             !r.symbolic && !r.other_refs && r.slots > 0 && !r.slots_differ &&
             r.slot_value == (void *)(uintptr_t)counted_reopen;
}

bool
bw_nm_reopen_proven(void)
{
    pthread_once(&proof_once, prove);
    return proven;
}
