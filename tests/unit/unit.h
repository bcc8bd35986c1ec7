/* unit.h: the unit-test harness.
 *
 * A test file defines tests with TEST(name) { ... } and checks with CHECK,
 * CHECK_EQ_INT, CHECK_EQ_STR. The harness (unit.c) runs every test, or the
 * ones named on the command line, each in a child process with a timeout,
 * and ends with a line "N passed, N failed". A failing CHECK stops that
 * test and reports the file, line and expression. */
#ifndef CR_TESTS_UNIT_H
#define CR_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*cr_unit_fn)(void);

void
cr_unit_register(const char *name, cr_unit_fn fn);

/* Stop the current test as failed. */
void
cr_unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* The path of node_modules/<package> of the source tree, found from
 * $CR_SOURCE_DIR or by walking up from the current directory; NULL when
 * the npm packages are not installed. The string is static. */
const char *
cr_unit_node_package(const char *package);

/* A fresh empty directory for this test, removed when the test ends. */
const char *
cr_unit_tmpdir(void);

#define TEST(name)                                                         \
    static void test_##name(void);                                         \
    __attribute__((constructor)) static void register_##name(void)         \
    {                                                                      \
        cr_unit_register(#name, test_##name);                              \
    }                                                                      \
    static void test_##name(void)

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond))                                                       \
            cr_unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                 \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_)                                                      \
            cr_unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, \
                         #b, a_, b_);                                      \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                 \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)               \
            cr_unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
                         #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
    } while (0)

#endif
