/* journal.c: the audit journal, a memory-mapped ring of records on their
 * way into the hash-chained table (auditInt.h says what it is for).
 *
 * File: a 4 KiB header ("CRAJRNL1", the ring's size, the jseq of the last
 * entry put), then the ring. Positions are absolute byte counts that only
 * grow; an entry lives at position % size. Entries are 32-byte aligned and
 * never wrap: when one does not fit before the end, a pad entry fills the
 * rest and it goes at the start. Each entry:
 *
 *   u32 magic ("CJR1" entry, "CPAD" pad)   u32 size (whole entry)
 *   u64 jseq                               u64 check
 *   u32 payload length                     u32 0
 *   payload: i64 time, i64 alerts, u32 body length, u32 0,
 *            patient, sub, org, action, outcome (each NUL-terminated),
 *            body
 *
 * check = XXH3-64(payload) seeded with jseq, size and magic, so an entry
 * torn by a crash, or left from an earlier lap round the ring (its jseq is
 * not the one expected), ends the scan at open. Integers are in the
 * machine's order (little-endian on every platform we build for).
 * Depends on core/, xxhash and POSIX (mmap, posix_fallocate). */
#include "audit/auditInt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC_FILE "CRAJRNL1"
#define MAGIC_ENTRY 0x31524A43u   /* "CJR1" */
#define MAGIC_PAD 0x44415043u     /* "CPAD" */
#define ALIGN 32u
#define HDR 32u                   /* an entry's header */
#define FIXED 24u                 /* the payload's fixed part */
#define MIN_CAP ((size_t)64 << 10)
#define MAX_CAP ((size_t)1 << 30)
#define NSTR 5

struct cr_audit_journal {
    int fd;
    unsigned char *map;         /* header + ring */
    size_t cap;                 /* the ring's bytes */
    uint64_t head;              /* where the next entry goes */
    uint64_t tail;              /* the first entry not consumed */
    int64_t next_jseq;          /* the next entry's */
    int64_t tail_jseq;          /* the last consumed entry's */
    char path[1100];
};

struct ehdr {
    uint32_t magic;
    uint32_t size;
    uint64_t jseq;
    uint64_t check;
    uint32_t plen;
    uint32_t zero;
};

static size_t
round_cap(size_t cap)
{
    if (cap < MIN_CAP)
        cap = MIN_CAP;
    if (cap > MAX_CAP)
        cap = MAX_CAP;
    return (cap + 4095) & ~(size_t)4095;
}

static uint64_t
check_of(uint32_t magic, uint32_t size, uint64_t jseq, const void *p,
         size_t n)
{
    return XXH3_64bits_withSeed(p, n,
                                jseq ^ ((uint64_t)size << 32) ^ magic);
}

static unsigned char *
ring(const struct cr_audit_journal *j)
{
    return j->map + CR_AUDIT_JOURNAL_HEADER;
}

static void
set_put_jseq(struct cr_audit_journal *j, int64_t jseq)
{
    uint64_t v = (uint64_t)jseq;

    memcpy(j->map + CR_AUDIT_JOURNAL_PUT_AT, &v, sizeof v);
}

/* The header of the entry at position 'pos', if one could be there:
 * false when its size does not fit the ring where it is. */
static bool
read_hdr(const struct cr_audit_journal *j, uint64_t pos, struct ehdr *h)
{
    size_t off = (size_t)(pos % j->cap);

    memcpy(h, ring(j) + off, sizeof *h);
    if (h->size < HDR || h->size % ALIGN != 0 || h->size > j->cap - off)
        return false;
    if (h->magic == MAGIC_PAD)
        return h->plen == 0 && h->size == j->cap - off;
    return h->magic == MAGIC_ENTRY && h->plen >= FIXED &&
           h->plen <= h->size - HDR &&
           ((HDR + h->plen + ALIGN - 1) & ~(ALIGN - 1)) == h->size;
}

/* Whether the entry at 'pos' is whole and is the one expected there. */
static bool
is_whole(const struct cr_audit_journal *j, uint64_t pos, int64_t jseq,
         struct ehdr *h)
{
    size_t off = (size_t)(pos % j->cap);

    if (!read_hdr(j, pos, h) || h->jseq != (uint64_t)jseq)
        return false;
    return check_of(h->magic, h->size, h->jseq, ring(j) + off + HDR,
                    h->plen) == h->check;
}

/* Parse the payload of the entry at 'off' with header 'h'. */
static bool
parse(const struct cr_audit_journal *j, size_t off, const struct ehdr *h,
      struct cr_audit_jrec *r)
{
    const char *p = (const char *)ring(j) + off + HDR;
    const char *end = p + h->plen;
    const char **strs[NSTR];
    uint32_t blen;
    int i;

    strs[0] = &r->patient;
    strs[1] = &r->sub;
    strs[2] = &r->org;
    strs[3] = &r->action;
    strs[4] = &r->outcome;
    memcpy(&r->time_ms, p, 8);
    memcpy(&r->alerts, p + 8, 8);
    memcpy(&blen, p + 16, 4);
    p += FIXED;
    for (i = 0; i < NSTR; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul == NULL)
            return false;
        *strs[i] = p;
        p = nul + 1;
    }
    if ((size_t)(end - p) != blen || blen == 0)
        return false;
    r->body = p;
    r->len = blen;
    r->jseq = (int64_t)h->jseq;
    return true;
}

static cr_rc
io_error(struct cr_err *err, const char *what, const char *path)
{
    return cr_err_set(err, CR_EIO, "exception", NULL,
                      "audit journal %s: %s: %s", path, what,
                      strerror(errno));
}

/* Open the journal file at 'path' (made if missing) and take its lock,
 * the data directory's: held by a serving node, or by a command that
 * writes the store of a stopped node. The lock goes with the file
 * descriptor, so a process that dies releases it. */
static cr_rc
lock_path(const char *path, int *out_fd, struct cr_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    *out_fd = -1;
    if (fd < 0)
        return io_error(err, "cannot open it", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        cr_rc rc = errno == EWOULDBLOCK
                       ? cr_err_set(err, CR_EUNAVAILABLE, "transient", NULL,
                                    "%s is in use: a carerecord node runs "
                                    "on this data directory, or a command "
                                    "is writing to it. Stop it first, or "
                                    "use another --data (a running node "
                                    "loads data through POST "
                                    "/fhir/$import)", path)
                       : io_error(err, "cannot lock it", path);
        close(fd);
        return rc;
    }
    *out_fd = fd;
    return CR_OK;
}

cr_rc
cr_audit_dir_lock(const char *dir, int *out_fd, struct cr_err *err)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
                         CR_AUDIT_JOURNAL_FILE) >= sizeof path) {
        *out_fd = -1;
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "the data directory's path is too long");
    }
    return lock_path(path, out_fd, err);
}

void
cr_audit_dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Give the file HEADER + cap bytes on disk and map it. */
static cr_rc
map_file(struct cr_audit_journal *j, size_t cap, bool is_new,
         struct cr_err *err)
{
    size_t bytes = CR_AUDIT_JOURNAL_HEADER + cap;
    int r;

    if (is_new && ftruncate(j->fd, (off_t)bytes) != 0)
        return io_error(err, "cannot set its size", j->path);
    r = posix_fallocate(j->fd, 0, (off_t)bytes);
    if (r != 0) {
        errno = r;
        return io_error(err, "cannot allocate its space", j->path);
    }
    j->map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
    if (j->map == MAP_FAILED) {
        j->map = NULL;
        return io_error(err, "cannot map it", j->path);
    }
    j->cap = cap;
    if (is_new) {
        uint64_t c = cap;
        memset(j->map, 0, CR_AUDIT_JOURNAL_HEADER);
        memcpy(j->map, MAGIC_FILE, 8);
        memcpy(j->map + 8, &c, 8);
    }
    return CR_OK;
}

/* The ring size an existing file says it has, or 0 when it is not a
 * journal (a new file, one cut short when it was being made). */
static size_t
existing_cap(int fd)
{
    unsigned char h[16];
    struct stat st;
    uint64_t cap;

    if (fstat(fd, &st) != 0 || st.st_size < (off_t)CR_AUDIT_JOURNAL_HEADER ||
        pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h, MAGIC_FILE, 8) != 0)
        return 0;
    memcpy(&cap, h + 8, 8);
    if (cap < MIN_CAP || cap > MAX_CAP || cap % 4096 != 0 ||
        (uint64_t)st.st_size != CR_AUDIT_JOURNAL_HEADER + cap)
        return 0;
    return (size_t)cap;
}

cr_rc
cr_audit_journal_open(const char *dir, size_t cap, int64_t moved_jseq,
                      uint64_t moved_pos, struct cr_audit_journal **out,
                      struct cr_err *err)
{
    struct cr_audit_journal *j = calloc(1, sizeof *j);
    struct ehdr h;
    size_t have;
    cr_rc rc;

    if (j == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    j->fd = -1;
    snprintf(j->path, sizeof j->path, "%s/%s", dir, CR_AUDIT_JOURNAL_FILE);
    if (moved_jseq < 0 || moved_pos % ALIGN != 0) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "audit journal: the position the log recorded "
                        "(%lld at %llu) is damaged; run 'carerecord audit "
                        "verify'", (long long)moved_jseq,
                        (unsigned long long)moved_pos);
        goto fail;
    }
    /* One node per data directory: two putting into one ring would
     * overwrite each other's records. */
    rc = lock_path(j->path, &j->fd, err);
    if (rc != CR_OK)
        goto fail;
    have = existing_cap(j->fd);
    rc = map_file(j, have ? have : round_cap(cap), have == 0, err);
    if (rc != CR_OK)
        goto fail;
    j->tail = j->head = moved_pos;
    j->tail_jseq = moved_jseq;
    j->next_jseq = moved_jseq + 1;
    /* The entries after the last move that are whole and in sequence:
     * put before a crash (or a stop that could not move them), pending
     * again. The first that is not ends them. */
    while (j->head - j->tail < j->cap && is_whole(j, j->head, j->next_jseq,
                                                  &h)) {
        j->head += h.size;
        if (h.magic == MAGIC_ENTRY)
            j->next_jseq++;
    }
    set_put_jseq(j, j->next_jseq - 1);
    *out = j;
    return CR_OK;
fail:
    cr_audit_journal_close(j);
    return rc;
}

void
cr_audit_journal_close(struct cr_audit_journal *j)
{
    if (j == NULL)
        return;
    if (j->map != NULL)
        munmap(j->map, CR_AUDIT_JOURNAL_HEADER + j->cap);
    if (j->fd >= 0)
        close(j->fd);
    free(j);
}

cr_rc
cr_audit_journal_resize(struct cr_audit_journal *j, size_t cap,
                        struct cr_err *err)
{
    cap = round_cap(cap);
    if (j->head != j->tail || cap == j->cap)
        return CR_OK;
    munmap(j->map, CR_AUDIT_JOURNAL_HEADER + j->cap);
    j->map = NULL;
    if (ftruncate(j->fd, 0) != 0)
        return io_error(err, "cannot resize it", j->path);
    return map_file(j, cap, true, err) == CR_OK
               ? (set_put_jseq(j, j->next_jseq - 1), CR_OK)
               : CR_EIO;
}

static void
put_hdr(struct cr_audit_journal *j, size_t off, uint32_t magic,
        uint32_t size, uint64_t jseq, uint32_t plen)
{
    struct ehdr h;

    h.magic = magic;
    h.size = size;
    h.jseq = jseq;
    h.plen = plen;
    h.zero = 0;
    h.check = check_of(magic, size, jseq, ring(j) + off + HDR, plen);
    memcpy(ring(j) + off, &h, sizeof h);
}

cr_rc
cr_audit_journal_put(struct cr_audit_journal *j,
                     const struct cr_audit_jrec *r, int64_t *out_jseq)
{
    const char *strs[NSTR];
    size_t lens[NSTR], plen = FIXED + r->len, size, off, pad = 0;
    unsigned char *p;
    uint32_t blen = (uint32_t)r->len, zero = 0;
    int i;

    strs[0] = r->patient;
    strs[1] = r->sub;
    strs[2] = r->org;
    strs[3] = r->action;
    strs[4] = r->outcome;
    for (i = 0; i < NSTR; i++) {
        if (strs[i] == NULL)
            strs[i] = "";
        lens[i] = strlen(strs[i]) + 1;
        plen += lens[i];
    }
    size = (HDR + plen + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (r->len == 0 || r->len > UINT32_MAX || size > j->cap / 4)
        return CR_EUNAVAILABLE;
    off = (size_t)(j->head % j->cap);
    if (j->cap - off < size)
        pad = j->cap - off;
    if (j->head - j->tail + pad + size > j->cap)
        return CR_EUNAVAILABLE;
    if (pad) {
        put_hdr(j, off, MAGIC_PAD, (uint32_t)pad, (uint64_t)j->next_jseq, 0);
        j->head += pad;
        off = 0;
    }
    p = ring(j) + off + HDR;
    memcpy(p, &r->time_ms, 8);
    memcpy(p + 8, &r->alerts, 8);
    memcpy(p + 16, &blen, 4);
    memcpy(p + 20, &zero, 4);
    p += FIXED;
    for (i = 0; i < NSTR; i++) {
        memcpy(p, strs[i], lens[i]);
        p += lens[i];
    }
    memcpy(p, r->body, r->len);
    put_hdr(j, off, MAGIC_ENTRY, (uint32_t)size, (uint64_t)j->next_jseq,
            (uint32_t)plen);
    j->head += size;
    set_put_jseq(j, j->next_jseq);
    if (out_jseq)
        *out_jseq = j->next_jseq;
    j->next_jseq++;
    return CR_OK;
}

void
cr_audit_journal_pending(const struct cr_audit_journal *j, uint64_t *from,
                         uint64_t *to, int64_t *last_jseq)
{
    if (from)
        *from = j->tail;
    if (to)
        *to = j->head;
    if (last_jseq)
        *last_jseq = j->next_jseq - 1;
}

cr_rc
cr_audit_journal_walk(const struct cr_audit_journal *j, uint64_t from,
                      uint64_t to, cr_audit_jrec_fn fn, void *ctx,
                      struct cr_err *err)
{
    struct cr_audit_jrec r;
    struct ehdr h;
    cr_rc rc;

    while (from < to) {
        size_t off = (size_t)(from % j->cap);
        if (!read_hdr(j, from, &h) || h.size > to - from)
            goto damaged;
        if (h.magic == MAGIC_ENTRY) {
            if (!parse(j, off, &h, &r))
                goto damaged;
            rc = fn(ctx, &r);
            if (rc != CR_OK)
                return rc;
        }
        from += h.size;
    }
    return CR_OK;
damaged:
    return cr_err_set(err, CR_EIO, "exception", NULL,
                      "audit journal %s: the entry at %llu is damaged",
                      j->path, (unsigned long long)from);
}

/* Give back the memory of the whole pages in ring offsets [from, to):
 * their bytes stay in the file (the page cache keeps what is not yet
 * written back), only the node's mapping of them goes, so the node's
 * resident size holds what is pending, not the whole ring. */
static void
release_pages(struct cr_audit_journal *j, size_t from, size_t to)
{
    size_t page = 4096, a = (from + page - 1) & ~(page - 1),
           b = to & ~(page - 1);

    if (b > a)
        madvise(ring(j) + a, b - a, MADV_DONTNEED);
}

void
cr_audit_journal_consume(struct cr_audit_journal *j, uint64_t to,
                         int64_t last_jseq)
{
    size_t from_off = (size_t)(j->tail % j->cap),
           to_off = (size_t)(to % j->cap);

    if (to - j->tail >= j->cap) {
        release_pages(j, 0, j->cap);
    } else if (to_off >= from_off) {
        release_pages(j, from_off, to_off);
    } else {
        release_pages(j, from_off, j->cap);
        release_pages(j, 0, to_off);
    }
    j->tail = to;
    j->tail_jseq = last_jseq;
}

size_t
cr_audit_journal_cap(const struct cr_audit_journal *j)
{
    return j->cap;
}

cr_rc
cr_audit_journal_count_dir(const char *dir, int64_t moved_jseq,
                           uint64_t moved_pos, int64_t *out_n,
                           struct cr_err *err)
{
    struct cr_audit_journal j;
    struct ehdr h;
    uint64_t pos = moved_pos;
    int64_t jseq = moved_jseq + 1;
    cr_rc rc = CR_OK;

    *out_n = 0;
    memset(&j, 0, sizeof j);
    snprintf(j.path, sizeof j.path, "%s/%s", dir, CR_AUDIT_JOURNAL_FILE);
    j.fd = open(j.path, O_RDONLY | O_CLOEXEC);
    if (j.fd < 0)
        return errno == ENOENT ? CR_OK : io_error(err, "cannot open it",
                                                   j.path);
    j.cap = existing_cap(j.fd);
    if (j.cap == 0 || moved_pos % ALIGN != 0)
        goto out;
    j.map = mmap(NULL, CR_AUDIT_JOURNAL_HEADER + j.cap, PROT_READ,
                 MAP_SHARED, j.fd, 0);
    if (j.map == MAP_FAILED) {
        j.map = NULL;
        rc = io_error(err, "cannot map it", j.path);
        goto out;
    }
    while (pos - moved_pos < j.cap && is_whole(&j, pos, jseq, &h)) {
        pos += h.size;
        if (h.magic == MAGIC_ENTRY) {
            jseq++;
            (*out_n)++;
        }
    }
    munmap(j.map, CR_AUDIT_JOURNAL_HEADER + j.cap);
out:
    close(j.fd);
    return rc;
}
