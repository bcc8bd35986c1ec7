/* checkpoint.c: moving the WAL into the database file, off the writer.
 *
 * SQLite checkpoints by default inside the commit that crosses its
 * threshold, on the committing thread: here that is the single writer, the
 * bottleneck of every write. Instead the writer's connection has automatic
 * checkpoints off and reports the WAL's size after each commit; once
 * CHECKPOINT_FRAMES frames have been added since the last checkpoint, this
 * thread runs a PASSIVE checkpoint on its own connection, which copies
 * frames while writes go on.
 *
 * Under constant writing such a checkpoint never leaves the WAL fully
 * copied (commits land while it runs), and SQLite only starts the WAL over
 * from its beginning when the writer begins a transaction with every frame
 * copied. So after each background checkpoint the writer, between two
 * batches, copies the few frames committed meanwhile (a small PASSIVE
 * checkpoint on its own connection, cr_store_checkpoint_finish); its next
 * commit then writes from the start of the WAL file again. A WAL that
 * starts over keeps its size and its blocks, so a commit overwrites
 * allocated blocks, which syncs about twice as fast as growing the file
 * (see docs/internals/store.md), and checkpoints stay small.
 * Depends on SQLite, pthreads. */
#include "store/storeInt.h"

#include <time.h>

#define CHECKPOINT_FRAMES 2000
#define TRUNCATE_FRAMES 16384     /* 64 MiB of 4 KiB pages */

/* Frames committed since the last checkpoint copied them (clock_ held). */
static int
pending_frames(const struct cr_store *s)
{
    return s->wal_frames > s->ckpt_frames ? s->wal_frames - s->ckpt_frames
                                          : 0;
}

static int
on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct cr_store *s = arg;

    (void)db;
    (void)name;
    pthread_mutex_lock(&s->clock_);
    if (frames < s->wal_frames) {
        s->ckpt_frames = 0;      /* the WAL started over */
        atomic_store(&s->is_draining, false);
    } else if (s->is_drained) {
        /* It did not: a reader was still in the WAL. Readers go back to
         * keeping their snapshots; the next checkpoint tries again. */
        atomic_store(&s->is_draining, false);
    }
    s->is_drained = false;
    s->wal_frames = frames;
    if (pending_frames(s) >= CHECKPOINT_FRAMES)
        pthread_cond_signal(&s->ccond);
    pthread_mutex_unlock(&s->clock_);
    return SQLITE_OK;
}

/* From now until the WAL starts over (or the writer gave it its chance),
 * readers end their snapshots after each use; idle ones end theirs now. */
static void
drain(struct cr_store *s)
{
    atomic_store(&s->is_draining, true);
    cr_store_end_idle_snapshots(s);
}

static void *
checkpointer_main(void *arg)
{
    struct cr_store *s = arg;

    pthread_setname_np(pthread_self(), "cr-checkpoint");   /* top -H, perf */

    pthread_mutex_lock(&s->clock_);
    while (!s->is_ckpt_stopping) {
        struct timespec until;
        int mode, nlog = 0, nckpt = 0;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        if (pending_frames(s) < CHECKPOINT_FRAMES)
            pthread_cond_timedwait(&s->ccond, &s->clock_, &until);
        if (s->is_ckpt_stopping)
            break;
        if (pending_frames(s) == 0)
            continue;
        /* Passive checkpoints never wait, but if the WAL cannot start over
         * (a reader kept an old snapshot each time) it only grows; past a
         * bound, truncate it (waiting briefly for readers, holding writers
         * off meanwhile). */
        mode = s->wal_frames >= TRUNCATE_FRAMES ? SQLITE_CHECKPOINT_TRUNCATE
                                                : SQLITE_CHECKPOINT_PASSIVE;
        pthread_mutex_unlock(&s->clock_);
        /* Readers let go of the WAL once this has copied it (a snapshot
         * begun while it copies is in the WAL all the same); a truncation
         * waits for every reader, so they let go before it. */
        if (mode == SQLITE_CHECKPOINT_TRUNCATE)
            drain(s);
        sqlite3_wal_checkpoint_v2(s->cconn->db, NULL, mode, &nlog, &nckpt);
        drain(s);
        pthread_mutex_lock(&s->clock_);
        if (mode == SQLITE_CHECKPOINT_TRUNCATE && nlog == 0) {
            s->wal_frames = s->ckpt_frames = 0;
            atomic_store(&s->is_draining, false);
        } else if (nckpt > s->ckpt_frames && nckpt <= s->wal_frames) {
            s->ckpt_frames = nckpt;
            /* the writer copies the rest, so that the WAL starts over */
            atomic_store(&s->is_finish_wanted, true);
        }
    }
    pthread_mutex_unlock(&s->clock_);
    return NULL;
}

void
cr_store_checkpoint_finish(struct cr_store *s)
{
    int nlog = 0, nckpt = 0;

    if (!atomic_exchange(&s->is_finish_wanted, false))
        return;
    cr_store_end_idle_snapshots(s);
    /* Busy (the checkpointer is running) or not: either way, nothing to
     * do now; the next background checkpoint asks again. */
    if (sqlite3_wal_checkpoint_v2(s->wconn->db, NULL,
                                  SQLITE_CHECKPOINT_PASSIVE, &nlog,
                                  &nckpt) != SQLITE_OK)
        return;
    pthread_mutex_lock(&s->clock_);
    if (nckpt <= s->wal_frames && nckpt > s->ckpt_frames)
        s->ckpt_frames = nckpt;
    s->is_drained = true;       /* the next commit starts the WAL over */
    pthread_mutex_unlock(&s->clock_);
}

cr_rc
cr_store_checkpointer_start(struct cr_store *s, struct cr_err *err)
{
    cr_rc rc = cr_store_conn_open(s, false, &s->cconn, err);

    if (rc != CR_OK)
        return rc;
    pthread_mutex_init(&s->clock_, NULL);
    pthread_cond_init(&s->ccond, NULL);
    atomic_init(&s->is_finish_wanted, false);
    if (sqlite3_exec(s->wconn->db, "PRAGMA wal_autocheckpoint=0", NULL,
                     NULL, NULL) != SQLITE_OK)
        return cr_store_sqlerr(s->wconn, "setting up checkpoints", err);
    sqlite3_wal_hook(s->wconn->db, on_wal, s);
    if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) != 0) {
        sqlite3_wal_hook(s->wconn->db, NULL, NULL);
        sqlite3_exec(s->wconn->db, "PRAGMA wal_autocheckpoint=1000", NULL,
                     NULL, NULL);
        return CR_OK;   /* fall back to SQLite's own checkpoints */
    }
    s->has_checkpointer = true;
    return CR_OK;
}

void
cr_store_checkpointer_stop(struct cr_store *s)
{
    if (s->has_checkpointer) {
        pthread_mutex_lock(&s->clock_);
        s->is_ckpt_stopping = true;
        pthread_cond_signal(&s->ccond);
        pthread_mutex_unlock(&s->clock_);
        pthread_join(s->checkpointer, NULL);
        s->has_checkpointer = false;
    }
    if (s->cconn) {
        sqlite3_wal_hook(s->wconn->db, NULL, NULL);
        cr_store_conn_close(s->cconn);
        s->cconn = NULL;
        pthread_mutex_destroy(&s->clock_);
        pthread_cond_destroy(&s->ccond);
    }
}
