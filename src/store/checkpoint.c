/* checkpoint.c: moving the WAL into the database file, off the writer.
 *
 * SQLite checkpoints by default inside the commit that crosses its
 * threshold, on the committing thread: here that is the single writer, the
 * bottleneck of every write. Instead the writer's connection has automatic
 * checkpoints off and reports the WAL's size after each commit; past a
 * threshold this thread runs a PASSIVE checkpoint on its own connection,
 * which copies frames while writes go on. Depends on SQLite, pthreads. */
#include "store/storeInt.h"

#include <time.h>

#define CHECKPOINT_FRAMES 2000
#define TRUNCATE_FRAMES 16384     /* 64 MiB of 4 KiB pages */

static int
on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct cr_store *s = arg;

    (void)db;
    (void)name;
    pthread_mutex_lock(&s->clock_);
    s->wal_frames = frames;
    if (frames >= CHECKPOINT_FRAMES)
        pthread_cond_signal(&s->ccond);
    pthread_mutex_unlock(&s->clock_);
    return SQLITE_OK;
}

static void *
checkpointer_main(void *arg)
{
    struct cr_store *s = arg;

    pthread_mutex_lock(&s->clock_);
    while (!s->is_ckpt_stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        if (s->wal_frames < CHECKPOINT_FRAMES)
            pthread_cond_timedwait(&s->ccond, &s->clock_, &until);
        if (s->is_ckpt_stopping)
            break;
        if (s->wal_frames > 0) {
            /* Passive checkpoints never wait, but under constant reading
             * the WAL may never start over; past a bound, truncate it
             * (waiting briefly for readers, holding writers off meanwhile). */
            int mode = s->wal_frames >= TRUNCATE_FRAMES
                           ? SQLITE_CHECKPOINT_TRUNCATE
                           : SQLITE_CHECKPOINT_PASSIVE;
            s->wal_frames = 0;
            pthread_mutex_unlock(&s->clock_);
            sqlite3_wal_checkpoint_v2(s->cconn->db, NULL, mode, NULL, NULL);
            pthread_mutex_lock(&s->clock_);
        }
    }
    pthread_mutex_unlock(&s->clock_);
    return NULL;
}

cr_rc
cr_store_checkpointer_start(struct cr_store *s, struct cr_err *err)
{
    cr_rc rc = cr_store_conn_open(s, false, &s->cconn, err);

    if (rc != CR_OK)
        return rc;
    pthread_mutex_init(&s->clock_, NULL);
    pthread_cond_init(&s->ccond, NULL);
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
