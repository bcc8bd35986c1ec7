/* auditInt.h: audit/'s private interfaces: the log object shared by
 * audit.c (appends) and mover.c (the journal's life), and the journal
 * itself (journal.c).
 *
 * The journal is a file in the data directory, memory-mapped and used as
 * a ring: records of requests that wrote nothing are copied into it
 * before their answers leave, and moved from it into the hash-chained
 * table in batches (mover.c). A record copied into a shared file mapping
 * is in the operating system's page cache: a killed node loses none; the
 * move commits it to the table (synchronous=FULL) within the configured
 * interval. Each entry carries a journal sequence number (jseq, 1, 2,
 * 3 ...) and a checksum, so after a crash the entries not yet moved are
 * found again from the last position the table recorded, and a torn
 * entry ends the scan. See docs/internals/audit.md, "The journal".
 * journal.c depends on core/, xxhash and POSIX. It is not thread-safe by
 * itself: the log holds its lock around every call but
 * cr_audit_journal_walk, which reads only entries no other call changes
 * until they are consumed. */
#ifndef CR_AUDIT_AUDITINT_H
#define CR_AUDIT_AUDITINT_H

#include "audit/audit.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The file's name in the data directory. */
#define CR_AUDIT_JOURNAL_FILE "audit-journal"

/* The first bytes of the file: a header page, then the ring. */
#define CR_AUDIT_JOURNAL_HEADER 4096

/* Where, in the header, the jseq of the last entry put is kept (a
 * little-endian uint64): with the table's position (audit_journal.jseq)
 * it tells an outside reader whether every record has been moved. */
#define CR_AUDIT_JOURNAL_PUT_AT 16

/* One record as the journal holds it. Strings are NUL-terminated; "" is
 * none. In an entry read back they point into the mapping and live until
 * the entry is consumed. */
struct cr_audit_jrec {
    int64_t jseq;               /* set by put; read back by walk */
    int64_t time_ms;
    int64_t alerts;
    const char *patient;
    const char *sub;
    const char *org;
    const char *action;
    const char *outcome;
    const char *body;           /* canonical JSON, not NUL-terminated */
    size_t len;
};

struct cr_audit_journal;

/* Open, creating if needed, the journal in 'dir'. A new file gets a ring
 * of 'cap' bytes (rounded up to 4 KiB, at least 64 KiB); an existing one
 * keeps its own size. 'moved_jseq' and 'moved_pos' are what the table
 * recorded of the last move (0 and 0 for a log that never had a
 * journal): the entries after it that are whole and in sequence are
 * pending again (cr_audit_journal_pending), and new ones follow them. The
 * space is allocated on disk now, so a put never meets a full disk. The
 * file is locked (flock) while open: CR_EUNAVAILABLE when another open
 * journal (another node on the same directory) holds it. CR_EIO (detail
 * in err) when the file cannot be made or mapped. */
cr_rc
cr_audit_journal_open(const char *dir, size_t cap, int64_t moved_jseq,
                      uint64_t moved_pos, struct cr_audit_journal **out,
                      struct cr_err *err);

/* Unmap and close. Entries not consumed stay in the file for the next
 * open. NULL is a no-op. */
void
cr_audit_journal_close(struct cr_audit_journal *j);

/* When nothing is pending and the ring is not 'cap' bytes (rounded as by
 * open), make it so; positions go on from where they are. CR_OK also
 * when nothing was to be done; CR_EIO when the file cannot be changed
 * (then the journal is unusable: close it). */
cr_rc
cr_audit_journal_resize(struct cr_audit_journal *j, size_t cap,
                        struct cr_err *err);

/* Copy 'r' in as the next entry (r->jseq is ignored; *out_jseq, may be
 * NULL, gets the entry's). CR_EUNAVAILABLE when there is no room for it
 * now (the ring holds too much not yet moved, or the record is larger
 * than a quarter of the ring): nothing was written. */
cr_rc
cr_audit_journal_put(struct cr_audit_journal *j,
                     const struct cr_audit_jrec *r, int64_t *out_jseq);

/* What is put and not yet consumed: positions [*from, *to) and the jseq
 * of its last entry (*last_jseq; that of the last consumed one when
 * nothing is pending). Any out pointer may be NULL. */
void
cr_audit_journal_pending(const struct cr_audit_journal *j, uint64_t *from,
                         uint64_t *to, int64_t *last_jseq);

/* Called for each entry a walk reads; anything but CR_OK stops it. */
typedef cr_rc (*cr_audit_jrec_fn)(void *ctx, const struct cr_audit_jrec *r);

/* Call fn for every entry in positions [from, to), as given by
 * cr_audit_journal_pending, in order. CR_EIO (detail in err) when an
 * entry there is not whole: the mapping was changed under us. */
cr_rc
cr_audit_journal_walk(const struct cr_audit_journal *j, uint64_t from,
                      uint64_t to, cr_audit_jrec_fn fn, void *ctx,
                      struct cr_err *err);

/* The entries before position 'to', the last of them 'last_jseq' (as
 * cr_audit_journal_pending gave them), are in the table: their space may
 * be reused. */
void
cr_audit_journal_consume(struct cr_audit_journal *j, uint64_t to,
                         int64_t last_jseq);

/* How many records the journal in 'dir' holds after the position the
 * table recorded (moved_jseq, moved_pos), reading the file only (a
 * running node may go on putting and moving). 0 when there is no
 * journal. CR_EIO when it cannot be read. */
cr_rc
cr_audit_journal_count_dir(const char *dir, int64_t moved_jseq,
                           uint64_t moved_pos, int64_t *out_n,
                           struct cr_err *err);

/* The ring's size in bytes. */
size_t
cr_audit_journal_cap(const struct cr_audit_journal *j);

/* ---- the log (audit.c, mover.c) ---- */

/* The audit log of one open store. audit.c appends; mover.c runs the
 * journal. */
struct cr_audit {
    struct cr_store *store;
    struct cr_store_audit *rows;
    struct cr_buf scratch;      /* writer thread only: append_txn bodies */
    /* The journal; NULL: none. Everything below is under 'lock'. */
    struct cr_audit_journal *journal;
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* the mover waits here */
    pthread_cond_t moved;       /* flushers wait here */
    pthread_t mover;
    bool has_mover;
    bool is_stopping;
    bool is_mover_idle;         /* waiting with nothing to move: a put
                                   wakes it */
    bool is_flush_wanted;
    bool is_failing;            /* the last move failed */
    int64_t moved_jseq;         /* the last record in the table */
    uint64_t nmoves;            /* moves tried */
    int move_ms;
    cr_audit_warn_fn warn;
    void *warn_ctx;
};

/* Open the journal in opts->journal_dir, move what it holds past the
 * table's position, and start the mover thread (audit_open). CR_EIO or
 * CR_EUNAVAILABLE (detail in err) when any of it fails: the journal is
 * then not usable and cr_audit_mover_stop releases what was made. */
cr_rc
cr_audit_mover_start(struct cr_audit *log, const struct cr_audit_opts *opts,
                     struct cr_err *err);

/* Stop the mover (moving what is pending first) and close the journal.
 * A log without a journal: nothing. */
void
cr_audit_mover_stop(struct cr_audit *log);

/* Inside a write transaction (writer thread): move into the table every
 * record put in the journal and not yet in it, before the caller appends
 * its own record. CR_OK at once without a journal. */
cr_rc
cr_audit_settle_txn(struct cr_audit *log, struct cr_store_txn *txn,
                    struct cr_err *err);

#endif
