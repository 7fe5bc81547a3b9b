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

/* The worker's heap: one reserve, one arena, no trim, no mmap per block.
 * After 10 new messages at 160k messages the worker used ~9 MB of heap
 * (the stored items 2 MB, the snapshot read and re-encoded 3 MB: since
 * session 13 only the entries of the rows a save writes, notmuch's
 * searches, each of which has Xapian reserve 88 bytes per document in the
 * database: 14.6 MB, barely touched).  So the heap grows once by WORKER_HEAP_RESERVE
 * (address space only: untouched pages cost nothing), the top is not
 * trimmed during the run, and large blocks come from the heap too (no mmap
 * per block): memory touched once is reused, not faulted in again.
 *
 * The range is not advised MADV_HUGEPAGE (it was until session 13): on the
 * virtual machines we measure on, the guest reports its free 2 MiB blocks
 * to the host (virtio-balloon free page reporting, page_reporting_order 9),
 * which takes their memory back; a transparent huge page is exactly such a
 * block, and zeroing one the host took back costs 4-8 ms instead of 0.1 ms.
 * Whether the worker's 6-8 huge pages came from warm or reported blocks
 * depends on what the machine freed and reported since the last run, so
 * the hook's CPU was bimodal: +20-50 ms at 160k in one run in three or so
 * (clear_page_erms under do_huge_pmd_anonymous_page in perf).  Small pages
 * come from the per-CPU lists and split blocks, which are not reported:
 * ~1,900 more faults (~2-3 ms) in every run, no slow mode.  The worker is
 * short-lived; the agent and the other commands keep the allocator's
 * defaults. */
#define WORKER_HEAP_RESERVE ((size_t)64 << 20)

static void
worker_heap_reserve(void)
{
#if defined(__GLIBC__)
    /* One arena: the thread that opens notmuch allocates from this heap
     * too, not from an arena of its own. */
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, (int)(WORKER_HEAP_RESERVE * 2));
    mallopt(M_TOP_PAD, (int)WORKER_HEAP_RESERVE);
#endif
}

/* `hook`: the whole hook runs in a child process (cmd-hook.c): mail is read
 * in the confined reader already, but whatever else may go wrong (a bug of
 * ours on stored data, a library that aborts), this process outlives it,
 * says so and exits 0.  One fork per run, before the engine module is
 * loaded: loaded here, its libraries were mapped and relocated (~500 page
 * faults) and the core initialised in this process, which only waits, and
 * the worker faulted their pages in again after the fork.  Now only the
 * worker loads them. */
static int
run_hook(int argc, char **argv)
{
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        worker_heap_reserve();
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
