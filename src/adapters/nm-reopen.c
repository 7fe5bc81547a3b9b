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

/* libnotmuch's own notmuch_database_reopen: the next definition after
 * the engine's in the engine's lookup scope (dlsym(RTLD_NEXT): glibc
 * searches the module's own scope after the module, libnotmuch among its
 * dependencies; so on this machine with RTLD_DEEPBIND or without, and with
 * a definition preloaded: /tmp/tolerate12-next in the report), and taken
 * only when it lies in the object that holds libnotmuch's
 * notmuch_status_to_string.  Otherwise looked up in libnotmuch's own
 * handle (dladdr names it; ~170 k instructions, dladdr reading its symbol
 * table: the first way costs a few thousand). */
static void
find_real(void)
{
    void *lib_fn = (void *)(uintptr_t)notmuch_status_to_string;
    void *f = dlsym(RTLD_NEXT, "notmuch_database_reopen");
    if (f == (void *)(uintptr_t)counted_reopen || !bw_elf_same_object(f, lib_fn)) {
        Dl_info info;
        void *lib = NULL;
        if (dladdr(lib_fn, &info) != 0 && info.dli_fname != NULL)
            lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        f = lib != NULL ? dlsym(lib, "notmuch_database_reopen") : NULL;
        /* it must be libnotmuch's, not ours */
        if (f == (void *)(uintptr_t)counted_reopen || !bw_elf_same_object(f, lib_fn))
            f = NULL;
    }
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
