/* test_audit_journal.c: the audit journal (audit/journal.c) and the log
 * through it (audit/audit.c): entries put come back in order, pending
 * entries are found again after a crash and no others (torn, or left from
 * an earlier lap round the ring), a full ring refuses rather than
 * overwrites, and records journaled through the log end up in the chain
 * exactly once: after a flush, after a close, and after a node that was
 * stopped without moving them is opened again. */
#include "unit.h"

#include "audit/audit.h"
#include "audit/auditInt.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KB ((size_t)1024)

static void
mkjrec(struct cr_audit_jrec *r, int i, char *body, size_t size)
{
    memset(r, 0, sizeof *r);
    r->time_ms = 1700000000000LL + i;
    r->alerts = i % 7;
    r->patient = i % 3 ? "p1" : "";
    r->sub = "u1";
    r->org = "RR8";
    r->action = "read";
    r->outcome = "allowed";
    snprintf(body, size, "{\"n\":%d}", i);
    r->body = body;
    r->len = strlen(body);
}

struct seen {
    int n;
    int64_t first, last;
    int64_t times[4096];
};

static cr_rc
collect(void *ctx, const struct cr_audit_jrec *r)
{
    struct seen *s = ctx;
    char want[32];

    snprintf(want, sizeof want, "{\"n\":%d}", (int)(r->time_ms -
                                                    1700000000000LL));
    if (r->len != strlen(want) || memcmp(r->body, want, r->len) != 0)
        return CR_EINVAL;
    if (strcmp(r->sub, "u1") != 0 || strcmp(r->action, "read") != 0)
        return CR_EINVAL;
    if (s->n == 0)
        s->first = r->jseq;
    else if (r->jseq != s->last + 1)
        return CR_EINVAL;
    s->last = r->jseq;
    if (s->n < 4096)
        s->times[s->n] = r->time_ms;
    s->n++;
    return CR_OK;
}

static struct cr_audit_journal *
jopen(const char *dir, size_t cap, int64_t jseq, uint64_t pos)
{
    struct cr_audit_journal *j = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_journal_open(dir, cap, jseq, pos, &j, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "journal open: %s", err.msg);
    return j;
}

static int
put_n(struct cr_audit_journal *j, int from, int n)
{
    struct cr_audit_jrec r;
    char body[64];
    int i;

    for (i = from; i < from + n; i++) {
        mkjrec(&r, i, body, sizeof body);
        if (cr_audit_journal_put(j, &r, NULL) != CR_OK)
            return i - from;
    }
    return n;
}

static struct seen
walk_pending(struct cr_audit_journal *j)
{
    struct seen s;
    uint64_t from, to;

    memset(&s, 0, sizeof s);
    cr_audit_journal_pending(j, &from, &to, NULL);
    CHECK_EQ_INT(cr_audit_journal_walk(j, from, to, collect, &s, NULL),
                 CR_OK);
    return s;
}

TEST(journal_entries_come_back_in_order_with_every_field)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 0, 0, 0);
    struct seen s;
    int64_t last = -1;

    CHECK_EQ_INT(cr_audit_journal_cap(j), 64 * KB);   /* the least */
    CHECK_EQ_INT(put_n(j, 0, 100), 100);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 100);
    CHECK_EQ_INT(s.first, 1);
    CHECK_EQ_INT(s.last, 100);
    CHECK_EQ_INT(s.times[42], 1700000000042LL);
    cr_audit_journal_pending(j, NULL, NULL, &last);
    CHECK_EQ_INT(last, 100);
    cr_audit_journal_close(j);
}

/* The position just past the k-th entry from the start of the file's
 * ring (a fresh journal whose first entry is at position 0). */
static uint64_t
pos_after(const char *dir, int k)
{
    char path[1100];
    uint64_t pos = 0;
    uint32_t size;
    int fd, i;

    snprintf(path, sizeof path, "%s/" CR_AUDIT_JOURNAL_FILE, dir);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    for (i = 0; i < k; i++) {
        CHECK_EQ_INT(pread(fd, &size, 4, (off_t)(CR_AUDIT_JOURNAL_HEADER +
                                                  pos + 4)), 4);
        CHECK(size >= 32 && size % 32 == 0);
        pos += size;
    }
    close(fd);
    return pos;
}

TEST(journal_pending_entries_are_found_again_after_a_crash)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 0, 0, 0);
    uint64_t from, to, at10;
    int64_t last;
    struct seen s;

    CHECK_EQ_INT(put_n(j, 0, 30), 30);
    cr_audit_journal_close(j);          /* a crash: nothing was moved */
    j = jopen(dir, 0, 0, 0);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 30);
    CHECK_EQ_INT(s.first, 1);
    cr_audit_journal_close(j);
    /* The table says the first ten were moved: the other twenty are
     * pending, and a new entry follows them as the 31st. */
    at10 = pos_after(dir, 10);
    /* Counted from outside, reading only: 20 after the tenth, none for a
     * directory without a journal. */
    {
        int64_t n = -1;
        CHECK_EQ_INT(cr_audit_journal_count_dir(dir, 10, at10, &n, NULL),
                     CR_OK);
        CHECK_EQ_INT(n, 20);
        CHECK_EQ_INT(cr_audit_journal_count_dir(dir, 0, 0, &n, NULL), CR_OK);
        CHECK_EQ_INT(n, 30);
        CHECK_EQ_INT(cr_audit_journal_count_dir("/nonexistent-dir", 0, 0, &n,
                                                NULL), CR_OK);
        CHECK_EQ_INT(n, 0);
    }
    j = jopen(dir, 0, 10, at10);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 20);
    CHECK_EQ_INT(s.first, 11);
    CHECK_EQ_INT(s.last, 30);
    CHECK_EQ_INT(put_n(j, 30, 1), 1);
    cr_audit_journal_pending(j, &from, &to, &last);
    CHECK_EQ_INT(from, at10);
    CHECK_EQ_INT(last, 31);
    /* All moved: nothing pending when opened with that position. */
    cr_audit_journal_consume(j, to, last);
    cr_audit_journal_close(j);
    j = jopen(dir, 0, 31, to);
    cr_audit_journal_pending(j, &from, NULL, NULL);
    CHECK_EQ_INT(from, to);
    cr_audit_journal_pending(j, NULL, &from, NULL);
    CHECK_EQ_INT(from, to);
    cr_audit_journal_close(j);
}

TEST(journal_a_torn_entry_ends_what_is_found)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 0, 0, 0);
    char path[1100];
    unsigned char b;
    uint64_t at3;
    struct seen s;
    int fd;

    CHECK_EQ_INT(put_n(j, 0, 5), 5);
    cr_audit_journal_close(j);
    /* One byte of the 4th entry's payload changed, as a crash while it
     * was being written leaves it: the first three only. */
    at3 = pos_after(dir, 3);
    snprintf(path, sizeof path, "%s/" CR_AUDIT_JOURNAL_FILE, dir);
    fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ_INT(pread(fd, &b, 1, (off_t)(CR_AUDIT_JOURNAL_HEADER + at3 +
                                          32 + 2)), 1);
    b ^= 0x40;
    CHECK_EQ_INT(pwrite(fd, &b, 1, (off_t)(CR_AUDIT_JOURNAL_HEADER + at3 +
                                           32 + 2)), 1);
    close(fd);
    j = jopen(dir, 0, 0, 0);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 3);
    /* The next entry put takes the torn one's place and number. */
    CHECK_EQ_INT(put_n(j, 3, 1), 1);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 4);
    CHECK_EQ_INT(s.last, 4);
    cr_audit_journal_close(j);
}

TEST(journal_full_refuses_and_wraps_round_once_moved)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 64 * KB, 0, 0);
    struct cr_audit_jrec r;
    char big[20000];
    uint64_t from, to;
    int64_t last;
    int n, lap, total = 0;
    struct seen s;

    /* Too large for the ring (over a quarter of it): refused. */
    mkjrec(&r, 0, big, sizeof big);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    r.len = strlen(big);
    CHECK_EQ_INT(cr_audit_journal_put(j, &r, NULL), CR_EUNAVAILABLE);
    /* Full: refused, and what is in it is untouched. */
    for (lap = 0; lap < 5; lap++) {
        n = put_n(j, total, 100000);
        CHECK(n > 100);
        s = walk_pending(j);
        CHECK_EQ_INT(s.n, n);
        CHECK_EQ_INT(s.first, total + 1);
        CHECK_EQ_INT(s.times[0], 1700000000000LL + total);
        total += n;
        /* Moving half of them makes room for about as many again. */
        cr_audit_journal_pending(j, &from, &to, &last);
        cr_audit_journal_consume(j, to, last);
        CHECK_EQ_INT(put_n(j, total, 3), 3);
        total += 3;
        cr_audit_journal_pending(j, &from, &to, &last);
        s = walk_pending(j);
        CHECK_EQ_INT(s.n, 3);
        cr_audit_journal_consume(j, to, last);
    }
    /* Five laps round the ring: entries of earlier laps after the head
     * are whole, but not the ones expected there, so a journal opened at
     * the head finds nothing pending. */
    CHECK(to > 5 * 64 * KB);
    cr_audit_journal_close(j);
    j = jopen(dir, 64 * KB, last, to);
    cr_audit_journal_pending(j, &from, NULL, NULL);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(from, to);
    cr_audit_journal_close(j);
}

TEST(journal_resize_waits_until_nothing_is_pending)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 64 * KB, 0, 0);
    uint64_t from, to;
    int64_t last;
    struct seen s;

    CHECK_EQ_INT(put_n(j, 0, 10), 10);
    CHECK_EQ_INT(cr_audit_journal_resize(j, 256 * KB, NULL), CR_OK);
    CHECK_EQ_INT(cr_audit_journal_cap(j), 64 * KB);
    cr_audit_journal_pending(j, &from, &to, &last);
    cr_audit_journal_consume(j, to, last);
    CHECK_EQ_INT(cr_audit_journal_resize(j, 256 * KB, NULL), CR_OK);
    CHECK_EQ_INT(cr_audit_journal_cap(j), 256 * KB);
    CHECK_EQ_INT(put_n(j, 10, 5), 5);
    cr_audit_journal_close(j);
    /* An existing journal keeps its size, whatever is asked. */
    j = jopen(dir, 64 * KB, last, to);
    CHECK_EQ_INT(cr_audit_journal_cap(j), 256 * KB);
    s = walk_pending(j);
    CHECK_EQ_INT(s.n, 5);
    CHECK_EQ_INT(s.first, 11);
    cr_audit_journal_close(j);
}

/* ---- the log through the journal ---- */

static struct cr_store *
open_store(const char *dir)
{
    struct cr_store *s = NULL;
    struct cr_err err;
    struct cr_store_opts o = { "node-a", 0, false };

    cr_err_clear(&err);
    if (cr_store_open(dir, &o, &s, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "open: %s", err.msg);
    return s;
}

/* A move interval no test run reaches: only flush and close move. */
#define HOUR_MS (3600 * 1000)

static struct cr_audit *
open_log(struct cr_store *s, const char *dir, int move_ms)
{
    struct cr_audit_opts o;
    struct cr_audit *log = NULL;
    struct cr_err err;

    memset(&o, 0, sizeof o);
    o.journal_dir = dir;
    o.move_ms = move_ms;
    cr_err_clear(&err);
    if (cr_audit_open(s, &o, &log, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "audit open: %s", err.msg);
    return log;
}

static void
mkrec(struct cr_audit_rec *r, int i)
{
    cr_audit_rec_init(r);
    r->time_ms = 1700000000000LL + (int64_t)i * 1000;
    r->request_id = "req";
    r->sub = "u1";
    r->org = "RR8";
    r->role = "R8000";
    r->purpose = "direct-care";
    r->action = CR_AUDIT_READ;
    r->status = 200;
    r->patient = i % 2 ? "p1" : "p2";
}

static void
journal_n(struct cr_audit *log, int from, int n)
{
    struct cr_audit_rec r;
    struct cr_err err;
    int i;

    for (i = from; i < from + n; i++) {
        mkrec(&r, i);
        cr_err_clear(&err);
        if (cr_audit_append_journal(log, &r, &err) != CR_OK)
            cr_unit_fail(__FILE__, __LINE__, "journal %d: %s", i, err.msg);
    }
}

struct rows {
    int n;
    int64_t times[256];
};

static cr_rc
count_row(void *ctx, const struct cr_store_audit_entry *e)
{
    struct rows *r = ctx;

    if (r->n < 256)
        r->times[r->n] = e->time_ms;
    r->n++;
    return CR_OK;
}

static struct rows
rows_of(struct cr_store *s)
{
    struct rows r;

    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(cr_store_audit_scan(s, 0, count_row, &r, NULL), CR_OK);
    return r;
}

static bool
is_intact(const char *dir, int64_t n)
{
    struct cr_audit_verdict v;

    CHECK_EQ_INT(cr_audit_verify_dir(dir, NULL, &v, NULL), CR_OK);
    return v.is_intact && v.nrecords == n;
}

TEST(log_journaled_records_reach_the_chain_in_order_on_flush)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s, dir, HOUR_MS);
    struct cr_audit_rec r;
    struct rows rows;

    /* An hour between moves: only the flush moves them (the first may
     * go at once, as the log was idle). */
    journal_n(log, 0, 20);
    /* A record committed with a write, between journaled ones. */
    mkrec(&r, 20);
    r.action = CR_AUDIT_CREATE;
    CHECK_EQ_INT(cr_audit_append(log, &r, NULL, NULL), CR_OK);
    journal_n(log, 21, 20);
    CHECK_EQ_INT(cr_audit_flush(log, NULL), CR_OK);
    rows = rows_of(s);
    CHECK_EQ_INT(rows.n, 41);
    CHECK(is_intact(dir, 41));
    /* In the order they were recorded: the committed record after the
     * twenty journaled before it (they are moved first), before the
     * twenty after. */
    {
        int i;
        for (i = 0; i < rows.n; i++)
            CHECK_EQ_INT(rows.times[i], 1700000000000LL + (int64_t)i * 1000);
    }
    cr_audit_close(log);
    cr_store_close(s);
}

TEST(log_close_moves_what_is_pending)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s, dir, 1000);

    journal_n(log, 0, 30);
    cr_audit_close(log);
    CHECK_EQ_INT(rows_of(s).n, 30);
    cr_store_close(s);
    CHECK(is_intact(dir, 30));
}

TEST(log_records_of_a_killed_node_are_moved_when_it_opens_again)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s;
    struct cr_audit *log;
    pid_t pid;
    int status = 0;

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The node: records journaled, then it dies without closing. */
        s = open_store(dir);
        log = open_log(s, dir, HOUR_MS);
        /* The first is moved; the next move is an hour away, so however
         * slow the build (sanitizers), the rest stay in the journal. */
        journal_n(log, 0, 1);
        if (cr_audit_flush(log, NULL) != CR_OK)
            _exit(1);
        journal_n(log, 1, 24);
        _exit(0);
    }
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Only the first was moved before it died ... */
    s = open_store(dir);
    CHECK_EQ_INT(rows_of(s).n, 1);
    /* ... and opening the log moves the rest, once. */
    log = open_log(s, dir, 1000);
    CHECK_EQ_INT(rows_of(s).n, 25);
    cr_audit_close(log);
    log = open_log(s, dir, 1000);
    CHECK_EQ_INT(rows_of(s).n, 25);
    journal_n(log, 25, 5);
    CHECK_EQ_INT(cr_audit_flush(log, NULL), CR_OK);
    CHECK_EQ_INT(rows_of(s).n, 30);
    cr_audit_close(log);
    cr_store_close(s);
    CHECK(is_intact(dir, 30));
}

TEST(log_without_a_journal_says_so)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = NULL;
    struct cr_audit_rec r;

    CHECK_EQ_INT(cr_audit_open(s, NULL, &log, NULL), CR_OK);
    mkrec(&r, 0);
    CHECK_EQ_INT(cr_audit_append_journal(log, &r, NULL), CR_EUNAVAILABLE);
    CHECK_EQ_INT(cr_audit_flush(log, NULL), CR_OK);
    CHECK_EQ_INT(rows_of(s).n, 0);
    cr_audit_close(log);
    cr_store_close(s);
}

TEST(journal_one_node_per_directory)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_journal *j = jopen(dir, 0, 0, 0), *k = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_journal_open(dir, 0, 0, 0, &k, &err),
                 CR_EUNAVAILABLE);
    CHECK(k == NULL);
    CHECK(strstr(err.msg, "a carerecord node runs") != NULL);
    /* Counting from outside still works while it is held. */
    {
        int64_t n = -1;
        CHECK_EQ_INT(put_n(j, 0, 3), 3);
        CHECK_EQ_INT(cr_audit_journal_count_dir(dir, 0, 0, &n, NULL), CR_OK);
        CHECK_EQ_INT(n, 3);
    }
    cr_audit_journal_close(j);
    k = jopen(dir, 0, 0, 0);     /* free again once closed */
    cr_audit_journal_close(k);
}
