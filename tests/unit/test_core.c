/* test_core.c: buffers, arenas, errors, clock, civil dates and UK time,
 * the 64-bit hash map. */
#include "unit.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/civil.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/u64map.h"

#include <stdio.h>
#include <string.h>

TEST(buf_appends_and_terminates)
{
    struct cr_buf b = cr_buf_make(0);
    cr_buf_adds(&b, "abc");
    cr_buf_addf(&b, "-%d-", 42);
    cr_buf_addc(&b, 'z');
    CHECK_EQ_INT(b.rc, CR_OK);
    CHECK_EQ_STR(b.ptr, "abc-42-z");
    CHECK_EQ_INT(b.len, 8);
    cr_buf_free(&b);
}

TEST(buf_limit_is_sticky)
{
    struct cr_buf b = cr_buf_make(5);
    cr_buf_adds(&b, "1234");
    cr_buf_adds(&b, "56");
    cr_buf_adds(&b, "");
    cr_buf_addc(&b, 'x');
    CHECK_EQ_INT(b.rc, CR_ETOOBIG);
    CHECK_EQ_STR(b.ptr, "1234");
    CHECK(cr_buf_take(&b, NULL) == NULL);
}

/* A head goes in front of what is there, growing the buffer if need be,
 * within the limit like an append. */
TEST(buf_prepend_puts_bytes_in_front)
{
    struct cr_buf b = cr_buf_make(0), l = cr_buf_make(6);
    char big[600];

    cr_buf_prepend(&b, "head", 4);          /* an empty buffer */
    CHECK_EQ_STR(b.ptr, "head");
    cr_buf_adds(&b, "-tail");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_buf_prepend(&b, big, strlen(big));   /* past the first capacity */
    CHECK_EQ_INT(b.rc, CR_OK);
    CHECK_EQ_INT(b.len, 599 + 9);
    CHECK(memcmp(b.ptr, big, 599) == 0);
    CHECK_EQ_STR(b.ptr + 599, "head-tail");
    cr_buf_free(&b);

    cr_buf_adds(&l, "body");
    cr_buf_prepend(&l, "[", 1);
    cr_buf_prepend(&l, "ab", 2);            /* 7 bytes: over the limit */
    CHECK_EQ_INT(l.rc, CR_ETOOBIG);
    CHECK_EQ_STR(l.ptr, "[body");
    cr_buf_free(&l);
}

/* Formatted text that fits in the room already allocated is written in
 * one pass; text that does not grows the buffer; neither may pass the
 * limit, and a refused append leaves the contents as they were. */
TEST(buf_addf_fits_grows_and_keeps_the_limit)
{
    struct cr_buf b = cr_buf_make(0), l = cr_buf_make(300);
    char big[600];
    size_t cap;

    cr_buf_adds(&b, "a");
    cap = b.cap;
    cr_buf_addf(&b, "%s/%d", "xy", -7);
    CHECK_EQ_STR(b.ptr, "axy/-7");
    CHECK(b.cap == cap);
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_buf_addf(&b, "[%s]", big);
    CHECK_EQ_INT(b.rc, CR_OK);
    CHECK_EQ_INT(b.len, 6 + 2 + 599);
    CHECK(b.ptr[6] == '[' && b.ptr[b.len - 1] == ']' && b.ptr[b.len] == '\0');
    cr_buf_free(&b);

    cr_buf_adds(&l, "start");
    cr_buf_reserve(&l, 290);        /* room past the limit: one pass */
    cr_buf_addf(&l, "%.296s", big); /* 301 bytes in all */
    CHECK_EQ_INT(l.rc, CR_ETOOBIG);
    CHECK_EQ_STR(l.ptr, "start");
    cr_buf_free(&l);
}

TEST(buf_add_int_prints_like_lld)
{
    struct cr_buf b = cr_buf_make(0);
    long long v[] = { 0, 7, -1, 1234567890123LL, -9223372036854775807LL - 1,
                      9223372036854775807LL };
    char want[256] = "";
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        cr_buf_add_int(&b, v[i]);
        cr_buf_addc(&b, ' ');
        snprintf(want + strlen(want), sizeof want - strlen(want), "%lld ",
                 v[i]);
    }
    CHECK_EQ_STR(b.ptr, want);
    cr_buf_free(&b);
}

TEST(buf_json_escape)
{
    struct cr_buf b = cr_buf_make(0);
    cr_buf_add_json_str(&b, "a\"b\\c\n\x01");
    CHECK_EQ_STR(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\"");
    cr_buf_free(&b);
}

TEST(buf_url_encode)
{
    struct cr_buf b = cr_buf_make(0);
    cr_buf_add_url_encoded(&b, "ge2024-01-01T10:00:00+01:00");
    cr_buf_addc(&b, '&');
    cr_buf_add_url_encoded(&b, "a b&c=d|e/%\xc3\xa9");
    CHECK_EQ_STR(b.ptr, "ge2024-01-01T10:00:00%2B01:00&a%20b%26c%3Dd|e/%25%C3%A9");
    cr_buf_free(&b);
}

TEST(buf_take_gives_ownership)
{
    struct cr_buf b = cr_buf_make(0);
    size_t n = 0;
    char *p;
    cr_buf_adds(&b, "hello");
    p = cr_buf_take(&b, &n);
    CHECK_EQ_STR(p, "hello");
    CHECK_EQ_INT(n, 5);
    CHECK(b.ptr == NULL && b.len == 0);
    free(p);
    p = cr_buf_take(&b, &n);
    CHECK_EQ_STR(p, "");
    CHECK_EQ_INT(n, 0);
    free(p);
}

static int hook_order[4];
static int hook_n;

static void
hook(void *data)
{
    hook_order[hook_n++] = (int)(long)data;
}

TEST(arena_allocates_aligned_and_runs_hooks_in_reverse)
{
    struct cr_arena *a = cr_arena_create();
    char *big;
    int i;
    CHECK(a != NULL);
    for (i = 0; i < 1000; i++) {
        void *p = cr_arena_alloc(a, (size_t)(i % 37) + 1);
        CHECK(p != NULL);
        CHECK(((unsigned long)p % 16) == 0);
    }
    big = cr_arena_alloc(a, 1 << 20);
    CHECK(big != NULL);
    memset(big, 7, 1 << 20);
    CHECK_EQ_STR(cr_arena_strndup(a, "abcdef", 3), "abc");
    cr_arena_on_destroy(a, hook, (void *)1L);
    cr_arena_on_destroy(a, hook, (void *)2L);
    cr_arena_destroy(a);
    CHECK_EQ_INT(hook_n, 2);
    CHECK_EQ_INT(hook_order[0], 2);
    CHECK_EQ_INT(hook_order[1], 1);
}

TEST(err_keep_is_first_wins)
{
    struct cr_err e;
    cr_err_clear(&e);
    CHECK_EQ_INT(cr_err_keep(&e, CR_EINVAL, "value", "Patient.id", "bad %s",
                             "id"), CR_EINVAL);
    cr_err_keep(&e, CR_EIO, "exception", "", "later");
    CHECK_EQ_INT(e.rc, CR_EINVAL);
    CHECK_EQ_STR(e.msg, "bad id");
    CHECK_EQ_STR(e.where, "Patient.id");
    CHECK_EQ_STR(cr_rc_name(CR_EGONE), "CR_EGONE");
}

TEST(clock_formats_instant_and_http_date)
{
    char s[40];
    cr_clock_instant(1795255504123LL, s, sizeof s);
    CHECK_EQ_STR(s, "2026-11-21T10:05:04.123Z");
    cr_clock_instant(-1, s, sizeof s);
    CHECK_EQ_STR(s, "1969-12-31T23:59:59.999Z");
    cr_clock_instant(-86400000LL * 365 - 1500, s, sizeof s);
    CHECK_EQ_STR(s, "1968-12-31T23:59:58.500Z");
    cr_clock_http_date(1795255504123LL, s, sizeof s);
    CHECK_EQ_STR(s, "Sat, 21 Nov 2026 10:05:04 GMT");
}

/* 2025-03-30 and 2025-10-26 are the last Sundays of March and October. */
TEST(civil_uk_time_changes_at_one_utc)
{
    int64_t mar = cr_civil_days_from(2025, 3, 30) * CR_CIVIL_MS_PER_DAY;
    int64_t oct = cr_civil_days_from(2025, 10, 26) * CR_CIVIL_MS_PER_DAY;
    int64_t hour = 60 * CR_CIVIL_MS_PER_MIN;

    CHECK_EQ_INT(cr_civil_uk_offset_ms(mar + hour - 1), 0);
    CHECK_EQ_INT(cr_civil_uk_offset_ms(mar + hour), hour);
    CHECK_EQ_INT(cr_civil_uk_offset_ms(oct + hour - 1), hour);
    CHECK_EQ_INT(cr_civil_uk_offset_ms(oct + hour), 0);
    /* 23:30 UTC in July is 00:30 the next day in London; in January not */
    CHECK_EQ_INT(cr_civil_uk_day(cr_civil_days_from(2025, 7, 1) *
                                     CR_CIVIL_MS_PER_DAY + 23 * hour +
                                 30 * CR_CIVIL_MS_PER_MIN),
                 cr_civil_days_from(2025, 7, 2));
    CHECK_EQ_INT(cr_civil_uk_day(cr_civil_days_from(2025, 1, 1) *
                                     CR_CIVIL_MS_PER_DAY + 23 * hour +
                                 30 * CR_CIVIL_MS_PER_MIN),
                 cr_civil_days_from(2025, 1, 1));
}

TEST(civil_uk_day_starts_at_local_midnight)
{
    int64_t hour = 60 * CR_CIVIL_MS_PER_MIN;
    int64_t z;

    z = cr_civil_days_from(2025, 7, 2);
    CHECK_EQ_INT(cr_civil_uk_day_start(z), z * CR_CIVIL_MS_PER_DAY - hour);
    z = cr_civil_days_from(2025, 1, 2);
    CHECK_EQ_INT(cr_civil_uk_day_start(z), z * CR_CIVIL_MS_PER_DAY);
    /* the days the clocks change begin at midnight GMT and BST */
    z = cr_civil_days_from(2025, 3, 30);
    CHECK_EQ_INT(cr_civil_uk_day_start(z), z * CR_CIVIL_MS_PER_DAY);
    z = cr_civil_days_from(2025, 10, 26);
    CHECK_EQ_INT(cr_civil_uk_day_start(z), z * CR_CIVIL_MS_PER_DAY - hour);
    /* every day's start is on that day, and the instant before is not */
    for (z = cr_civil_days_from(2024, 1, 1);
         z < cr_civil_days_from(2026, 1, 1); z++) {
        CHECK_EQ_INT(cr_civil_uk_day(cr_civil_uk_day_start(z)), z);
        CHECK_EQ_INT(cr_civil_uk_day(cr_civil_uk_day_start(z) - 1), z - 1);
    }
}

TEST(civil_dates_parse_format_and_round_trip)
{
    int64_t z, y;
    unsigned m, d;
    char buf[16];

    CHECK(cr_civil_parse_date("2024-02-29", &z));
    CHECK_EQ_INT(z, cr_civil_days_from(2024, 2, 29));
    cr_civil_format_date(z, buf, sizeof buf);
    CHECK_EQ_STR(buf, "2024-02-29");
    CHECK(cr_civil_parse_date("1970-01-01", &z));
    CHECK_EQ_INT(z, 0);
    CHECK(!cr_civil_parse_date("2025-02-29", &z));
    CHECK(!cr_civil_parse_date("2025-13-01", &z));
    CHECK(!cr_civil_parse_date("2025-1-01", &z));
    CHECK(!cr_civil_parse_date("2025-01-01T00", &z));
    CHECK(!cr_civil_parse_date("1969-12-31", &z));
    CHECK(!cr_civil_parse_date("2025", &z));
    CHECK(!cr_civil_parse_date("", &z));
    CHECK(!cr_civil_parse_date(NULL, &z));
    for (z = -800000; z < 3000000; z += 997) {
        cr_civil_date_of(z, &y, &m, &d);
        CHECK_EQ_INT(cr_civil_days_from(y, m, d), z);
    }
    CHECK_EQ_INT(cr_civil_weekday(0), 4);
    CHECK_EQ_INT(cr_civil_days_in_month(2100, 2), 28);
    CHECK_EQ_INT(cr_civil_days_in_month(2000, 2), 29);
}

TEST(u64map_counts_distinct_keys_and_keeps_values)
{
    struct cr_u64map m = cr_u64map_make();
    bool is_new = false;
    uint64_t k, *v;

    CHECK(cr_u64map_find(&m, 7) == NULL);
    for (k = 0; k < 100000; k++) {
        v = cr_u64map_slot(&m, k * 0x10000, &is_new);
        CHECK(v != NULL && is_new && *v == 0);
        *v = k + 1;
    }
    for (k = 0; k < 100000; k += 7) {
        v = cr_u64map_slot(&m, k * 0x10000, &is_new);
        CHECK(v != NULL && !is_new);
        CHECK_EQ_INT(*v, k + 1);
    }
    CHECK_EQ_INT(cr_u64map_count(&m), 100000);
    CHECK(cr_u64map_find(&m, 0) != NULL);
    CHECK(cr_u64map_find(&m, 3) == NULL);
    cr_u64map_free(&m);
    CHECK_EQ_INT(cr_u64map_count(&m), 0);
    CHECK(cr_u64map_find(&m, 0) == NULL);
}
