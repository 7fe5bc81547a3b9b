/* main.c: the bouncewatch program: option-less dispatch to one command per
 * file (cmd-*.c), after notmuch's command table.
 *
 * This program links only the core and the reader's client: `parse`,
 * --version and --help run here.  The commands that need notmuch, SQLite
 * or libnotify live in the engine module (engine.c), loaded with dlopen()
 * when one of them runs: the dynamic linking of those libraries (Xapian,
 * libstdc++, gpgme...) was most of what `bouncewatch parse` spent before
 * its first message. */
#include "config.h"
#include "cli.h"
#include <dlfcn.h>
#include <errno.h>
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BW_ENGINE_PATH
#define BW_ENGINE_PATH "/usr/local/lib/bouncewatch/bouncewatch-engine.so"
#endif

/* A NULL run: the command is the engine module's (engine.c). */
static const bw_command_t commands[] = {
    { "parse", bw_cmd_parse, N_("parse delivery reports and print what they say") },
    { "scan", NULL, N_("find backscatter in the notmuch database and say what to do") },
    { "hook", NULL, N_("run from notmuch's post-new hook: scan, tag and alert") },
    { "watch", NULL, N_("stay running and notify when a surge of backscatter starts") },
    { "setup", NULL, N_("protect your own mail: install the notmuch hook, start the agent") },
    { "doctor", NULL, N_("check that bouncewatch really protects this mailbox") },
};

static void
usage(FILE *to)
{
    fprintf(to, _("Usage: bouncewatch COMMAND [OPTION...]\n\n"
                  "Find backscatter (bounces, auto-replies and complaints about mail you\n"
                  "never sent) in a notmuch mailbox.\n\nCommands:\n"));
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
    fprintf(to, _("\nRun 'bouncewatch COMMAND --help' for the options of a command.\n"
                  "See bouncewatch(1) and bouncewatch-config(5).\n"));
}

/* Which engine module: $BOUNCEWATCH_ENGINE when set (tests, an installed
 * copy moved elsewhere), else the one libtool built next to this program
 * in the build tree (.libs/; an installed bindir has none), else the
 * installed one. */
static char *
engine_path(void)
{
    const char *env = g_getenv("BOUNCEWATCH_ENGINE");
    if (env != NULL && *env != '\0')
        return g_strdup(env);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self != NULL) {
        g_autofree char *dir = g_path_get_dirname(self);
        char *built = g_build_filename(dir, ".libs", "bouncewatch-engine.so", NULL);
        if (g_file_test(built, G_FILE_TEST_IS_REGULAR))
            return built;
        g_free(built);
    }
    return g_strdup(BW_ENGINE_PATH);
}

/* The module's libraries (notmuch, Xapian, libstdc++, SQLite...) look
 * their symbols up in their own scope first: loaded from here, every
 * lookup of theirs would first miss in the ~20 libraries of this program
 * (+3.4 M instructions of the dynamic linker per `hook` against the one
 * program it was).  Not under AddressSanitizer, whose malloc in the
 * program must be the one everything calls, and not when LD_PRELOAD is
 * set: a deep scope would bypass what the user preloads for every library
 * of the module (a malloc such as jemalloc's would then be mixed with
 * glibc's; a debugging shim would see nothing). */
#if defined(__SANITIZE_ADDRESS__)
#define ENGINE_DEEPBIND 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ENGINE_DEEPBIND 0
#endif
#endif
#ifndef ENGINE_DEEPBIND
#define ENGINE_DEEPBIND RTLD_DEEPBIND
#endif

/* Runs an engine command (argv[0] is its name).  The module stays loaded
 * until exit: the command's threads and exit handlers may use it. */
static int
run_engine(int argc, char **argv)
{
    g_autofree char *path = engine_path();
    const char *preload = getenv("LD_PRELOAD");
    int deep = preload != NULL && preload[0] != '\0' ? 0 : ENGINE_DEEPBIND;
    void *module = dlopen(path, RTLD_LAZY | RTLD_LOCAL | deep);
    const char *why = module == NULL ? dlerror() : NULL;
    const char *version = module != NULL ? dlsym(module, "bw_engine_version") : NULL;
    int (*run)(int, char **) =
        module != NULL ? (int (*)(int, char **))dlsym(module, "bw_engine_command") : NULL;
    if (module != NULL && (version == NULL || run == NULL))
        why = _("not a bouncewatch engine module");
    else if (module != NULL && strcmp(version, PACKAGE_VERSION) != 0)
        why = _("it belongs to another version of bouncewatch");
    if (why != NULL) {
        fprintf(stderr, _("bouncewatch: cannot load the engine module %s: %s; reinstall "
                          "bouncewatch (or set BOUNCEWATCH_ENGINE to the module)\n"), path, why);
        /* The post-new hook never fails `notmuch new` (cmd-hook.c). */
        return strcmp(argv[0], "hook") == 0 ? BW_EXIT_OK : BW_EXIT_SOFTWARE;
    }
    return run(argc, argv);
}

/* The worker's heap in large pages.  After 10 new messages at 160k messages
 * the worker touched ~16 MB of fresh heap (notmuch's searches, the state's
 * rows, the snapshot): 4,100 first-touch faults of a 4 KiB page, and on the
 * virtual machines we measure on each costs ~16 us of system time (a loop
 * touching fresh pages: 91 ms for 5,900), more than half the hook's system
 * time.  So the heap grows once by WORKER_HEAP_RESERVE (address space only:
 * untouched pages cost nothing) and the kernel is asked to back that range
 * with transparent huge pages: one fault per 2 MiB.  Without THP (or with it
 * off) the advice is ignored and only the reserve remains.  The top is not
 * trimmed during the run, and large blocks come from the heap too (no mmap
 * per block): touched memory is reused.  The worker is short-lived; the
 * agent and the other commands keep the allocator's defaults. */
#define WORKER_HEAP_RESERVE ((size_t)64 << 20)
#define WORKER_LARGE_PAGE ((uintptr_t)2 << 20)

static void
worker_heap_in_large_pages(void)
{
#if defined(MADV_HUGEPAGE) && defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 33)
    char *before = sbrk(0);
    if (before == (char *)-1)
        return;
    /* One arena: the thread that opens notmuch allocates from this heap
     * too, not from an arena of its own in small pages. */
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, (int)(WORKER_HEAP_RESERVE * 2));
    mallopt(M_TOP_PAD, (int)WORKER_HEAP_RESERVE);
    /* One allocation larger than the free top of the heap makes malloc grow
     * it now, by the reserve. */
    struct mallinfo2 mi = mallinfo2();
    static void *volatile grow;   /* volatile: a malloc/free pair may be elided */
    grow = malloc(mi.keepcost + 4096);
    free(grow);
    grow = NULL;
    char *after = sbrk(0);
    uintptr_t from = ((uintptr_t)before + WORKER_LARGE_PAGE - 1) & ~(WORKER_LARGE_PAGE - 1);
    uintptr_t to = (uintptr_t)after & ~(WORKER_LARGE_PAGE - 1);
    if (after != (char *)-1 && to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#endif
#endif
}

/* `hook`: the whole hook runs in a child process (cmd-hook.c): mail is read
 * in the confined reader already, but whatever else may go wrong (a bug of
 * ours on stored data, a library that aborts), this process outlives it,
 * says so and exits 0.  One fork per run, before the engine module is
 * loaded: loaded here, its libraries were mapped and relocated (~500 page
 * faults) and the core initialised in this process, which only waits, and
 * the worker faulted their pages in again after the fork.  Now only the
 * worker loads them, into its large-page heap. */
static int
run_hook(int argc, char **argv)
{
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        worker_heap_in_large_pages();
        return run_engine(argc, argv);   /* ends through main() */
    }
    if (child < 0)
        return run_engine(argc, argv);   /* cannot fork: run it here */
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, _("bouncewatch hook: stopped by signal %d (a bug: please report it); "
                          "notmuch new is not affected\n"), WTERMSIG(status));
        return BW_EXIT_OK;
    }
    /* The worker's own status: 0, or a usage error of `hook` itself
     * (cmd-hook.c; `hook post-new` always exits 0). */
    return WIFEXITED(status) ? WEXITSTATUS(status) : BW_EXIT_OK;
}

void
bw_cli_locale(void)
{
    static gboolean done;
    if (done)
        return;
    done = TRUE;
    setlocale(LC_ALL, "");
    /* BOUNCEWATCH_LOCALEDIR: translations from elsewhere than the
     * installed ones (a build tree, the tests of the Japanese texts). */
    const char *localedir = g_getenv("BOUNCEWATCH_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

int
main(int argc, char **argv)
{
    /* `parse` sets it when it has something to say (cmd-parse.c). */
    if (argc < 2 || strcmp(argv[1], "parse") != 0)
        bw_cli_locale();

    if (argc < 2) {
        usage(stderr);
        return BW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return BW_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("bouncewatch %s\n", PACKAGE_VERSION);
        return BW_EXIT_OK;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            if (commands[i].run == NULL && strcmp(cmd, "hook") == 0)
                return run_hook(argc - 1, argv + 1);
            if (commands[i].run == NULL)
                return run_engine(argc - 1, argv + 1);
            /* No bw_init() here: parse only hands files to the reader
             * process and passes its answers on; the reader initialises
             * GMime and libsodium for itself (and bw_parse_* would too).
             * Unreferenced, they are not even loaded (the program is
             * linked with --gc-sections --as-needed, Makefile.am). */
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, _("bouncewatch: unknown command '%s'; run 'bouncewatch --help' for the list\n"), cmd);
    return BW_EXIT_USAGE;
}
