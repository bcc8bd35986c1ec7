/* emit.c: buffered NDJSON files per node and resource type. Depends on
 * emit.h, core/buf.h, core/err.h and POSIX file calls. */
#include "synth/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLUSH_AT (1u << 20)      /* write a buffer out once it holds 1 MiB */

struct cr_synth_sink {
    char dir[PATH_MAX - 64];
    int fd[CR_SYNTH_NODES][CR_SYNTH_TYPES];
    struct cr_buf buf[CR_SYNTH_NODES][CR_SYNTH_TYPES];
    uint64_t count[CR_SYNTH_NODES][CR_SYNTH_TYPES];
    uint64_t total;
    cr_rc rc;                    /* first error, sticky */
    char msg[PATH_MAX + 128];
};

static void
fail(struct cr_synth_sink *s, cr_rc rc, const char *what, const char *path)
{
    if (s->rc != CR_OK)
        return;
    s->rc = rc;
    snprintf(s->msg, sizeof s->msg, "%s %s: %s", what, path,
             rc == CR_ENOMEM ? "out of memory" : strerror(errno));
}

static void
file_path(const struct cr_synth_sink *s, int node, int type, char *out,
          size_t size)
{
    snprintf(out, size, "%s/%s/%s.ndjson", s->dir, cr_synth_node_id(node),
             cr_synth_type_name(type));
}

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
flush_one(struct cr_synth_sink *s, int node, int type)
{
    struct cr_buf *b = &s->buf[node][type];
    char path[PATH_MAX];

    if (s->rc != CR_OK) {
        cr_buf_reset(b);
        return;
    }
    if (b->rc != CR_OK) {
        errno = ENOMEM;
        file_path(s, node, type, path, sizeof path);
        fail(s, b->rc == CR_ENOMEM ? CR_ENOMEM : CR_EIO, "buffering", path);
        return;
    }
    if (b->len == 0)
        return;
    if (s->fd[node][type] < 0) {
        file_path(s, node, type, path, sizeof path);
        s->fd[node][type] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                 0644);
        if (s->fd[node][type] < 0) {
            fail(s, CR_EIO, "cannot create", path);
            return;
        }
    }
    if (write_all(s->fd[node][type], b->ptr, b->len) != 0) {
        file_path(s, node, type, path, sizeof path);
        fail(s, CR_EIO, "cannot write", path);
    }
    cr_buf_reset(b);
}

static int
make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return -1;
}

cr_rc
cr_synth_sink_open(struct cr_synth_sink **out, const char *dir,
                   struct cr_err *err)
{
    struct cr_synth_sink *s = NULL;
    char path[PATH_MAX];
    int node, type;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0' || strlen(dir) >= sizeof s->dir)
        return cr_err_set(err, CR_EINVAL, "value", "out",
                          "the output directory name is empty or too long");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    for (node = 0; node < CR_SYNTH_NODES; node++)
        for (type = 0; type < CR_SYNTH_TYPES; type++) {
            s->fd[node][type] = -1;
            s->buf[node][type] = cr_buf_make(0);
        }
    if (make_dir(s->dir) != 0) {
        cr_err_set(err, CR_EIO, "exception", "out", "cannot create %s: %s",
                   s->dir, strerror(errno));
        free(s);
        return CR_EIO;
    }
    for (node = 0; node < CR_SYNTH_NODES; node++) {
        snprintf(path, sizeof path, "%s/%s", s->dir, cr_synth_node_id(node));
        if (make_dir(path) != 0) {
            cr_err_set(err, CR_EIO, "exception", "out", "cannot create %s: %s",
                       path, strerror(errno));
            free(s);
            return CR_EIO;
        }
        for (type = 0; type < CR_SYNTH_TYPES; type++) {
            file_path(s, node, type, path, sizeof path);
            if (unlink(path) != 0 && errno != ENOENT) {
                cr_err_set(err, CR_EIO, "exception", "out",
                           "cannot remove old %s: %s", path, strerror(errno));
                free(s);
                return CR_EIO;
            }
        }
    }
    *out = s;
    return CR_OK;
}

struct cr_buf *
cr_synth_sink_buf(struct cr_synth_sink *s, int node, int type)
{
    return &s->buf[node][type];
}

void
cr_synth_sink_commit(struct cr_synth_sink *s, int node, int type)
{
    struct cr_buf *b = &s->buf[node][type];

    cr_buf_addc(b, '\n');
    s->count[node][type]++;
    s->total++;
    if (b->len >= FLUSH_AT || b->rc != CR_OK)
        flush_one(s, node, type);
}

uint64_t
cr_synth_sink_count(const struct cr_synth_sink *s, int node, int type)
{
    return s->count[node][type];
}

uint64_t
cr_synth_sink_total(const struct cr_synth_sink *s)
{
    return s->total;
}

cr_rc
cr_synth_sink_close(struct cr_synth_sink *s, struct cr_err *err)
{
    cr_rc rc;
    int node, type;

    if (s == NULL)
        return CR_OK;
    for (node = 0; node < CR_SYNTH_NODES; node++)
        for (type = 0; type < CR_SYNTH_TYPES; type++) {
            flush_one(s, node, type);
            if (s->fd[node][type] >= 0 && close(s->fd[node][type]) != 0) {
                char path[PATH_MAX];
                file_path(s, node, type, path, sizeof path);
                fail(s, CR_EIO, "cannot close", path);
            }
            cr_buf_free(&s->buf[node][type]);
        }
    rc = s->rc;
    if (rc != CR_OK)
        cr_err_set(err, rc, "exception", "out", "%s", s->msg);
    free(s);
    return rc;
}

cr_rc
cr_synth_write_file(const char *path, const char *data, size_t len,
                    struct cr_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return cr_err_set(err, CR_EIO, "exception", "out", "cannot create %s: %s",
                          path, strerror(errno));
    if (write_all(fd, data, len) != 0) {
        int e = errno;
        close(fd);
        return cr_err_set(err, CR_EIO, "exception", "out", "cannot write %s: %s",
                          path, strerror(e));
    }
    if (close(fd) != 0)
        return cr_err_set(err, CR_EIO, "exception", "out", "cannot close %s: %s",
                          path, strerror(errno));
    return CR_OK;
}
