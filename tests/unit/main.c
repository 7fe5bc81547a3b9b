/* main.c: the unit test runner: every suite in suites.h, one SRunner. */
#include "suites.h"
#include "bw.h"
#include <stdlib.h>

char *
bw_test_path(const char *relative)
{
    return g_build_filename(BW_TEST_SRCDIR, relative, NULL);
}

char *
bw_test_read(const char *relative, size_t *len_out)
{
    char *path = bw_test_path(relative);
    char *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err))
        ck_abort_msg("cannot read fixture %s: %s", path, err->message);
    g_free(path);
    if (len_out)
        *len_out = len;
    return data;
}

int
main(void)
{
    bw_init();
    SRunner *sr = srunner_create(suite_util());
    /* Further suites are added here, one line each. */
    srunner_add_suite(sr, suite_notify());
    srunner_add_suite(sr, suite_parse());
    srunner_add_suite(sr, suite_hostile());
    srunner_add_suite(sr, suite_caps());
    srunner_add_suite(sr, suite_reader());
    srunner_add_suite(sr, suite_reason());
    srunner_add_suite(sr, suite_vendor());
    srunner_add_suite(sr, suite_generic());
    srunner_add_suite(sr, suite_store());
    srunner_add_suite(sr, suite_classify());
    srunner_add_suite(sr, suite_fingerprint());
    srunner_add_suite(sr, suite_campaign());
    srunner_add_suite(sr, suite_surge());
    srunner_add_suite(sr, suite_assess());
    srunner_add_suite(sr, suite_signals());
    srunner_add_suite(sr, suite_ops_record());
    srunner_add_suite(sr, suite_gv_read());
    srunner_add_suite(sr, suite_nm_query());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
