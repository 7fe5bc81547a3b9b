/* suites.h: one check suite per core module; tests/unit/main.c runs them all
 * (forked, so a crash fails one test, not the run). */
#ifndef BW_TEST_SUITES_H
#define BW_TEST_SUITES_H
#include <check.h>

Suite *suite_util(void);
Suite *suite_parse(void);
Suite *suite_hostile(void);
Suite *suite_caps(void);
Suite *suite_reader(void);
Suite *suite_reason(void);
Suite *suite_vendor(void);
Suite *suite_generic(void);
Suite *suite_notify(void);
Suite *suite_store(void);
Suite *suite_classify(void);
Suite *suite_fingerprint(void);
Suite *suite_campaign(void);
Suite *suite_surge(void);
Suite *suite_assess(void);
Suite *suite_signals(void);
Suite *suite_ops_record(void);
Suite *suite_gv_read(void);
Suite *suite_nm_query(void);

/* Path of a file under tests/ in the source tree (g_free it). */
char *bw_test_path(const char *relative);
/* Whole file under tests/ (g_free it); aborts the test when missing. */
char *bw_test_read(const char *relative, size_t *len_out);

#endif
