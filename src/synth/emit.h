/* emit.h: where generated resources go (internal to src/synth).
 *
 * The sink keeps one large buffer per node and resource type and writes it
 * to DIR/<node>/<Type>.ndjson with big write(2) calls, so the generator
 * never waits on small writes and never allocates per resource. A file is
 * created on its first write; files of types a node never receives do not
 * exist. Opening removes the files of every known type left in the node
 * folders by an earlier run, so a folder never mixes two runs. Errors
 * stick: the first one is kept and reported by cr_synth_sink_close.
 * One thread. Depends on core/buf.h, core/err.h and synth.h. */
#ifndef CR_SYNTH_EMIT_H
#define CR_SYNTH_EMIT_H

#include "core/buf.h"
#include "core/err.h"
#include "synth/synth.h"

#include <stdint.h>

struct cr_synth_sink;

/* Create 'dir' and its node folders (existing ones are fine) and clear
 * old NDJSON files there. On success '*out' owns the sink: end it with
 * cr_synth_sink_close. Returns CR_EIO (with 'err') when a folder cannot
 * be made, CR_ENOMEM when out of memory. */
cr_rc
cr_synth_sink_open(struct cr_synth_sink **out, const char *dir,
                   struct cr_err *err);

/* The buffer to append one resource (without newline) for 'node' and
 * 'type' to. Valid until the matching cr_synth_sink_commit. */
struct cr_buf *
cr_synth_sink_buf(struct cr_synth_sink *s, int node, int type);

/* Finish the resource just appended: add the newline, count it and write
 * the buffer out when it is large. */
void
cr_synth_sink_commit(struct cr_synth_sink *s, int node, int type);

/* Lines committed so far for 'node' and 'type'. */
uint64_t
cr_synth_sink_count(const struct cr_synth_sink *s, int node, int type);

/* Lines committed so far, all files. */
uint64_t
cr_synth_sink_total(const struct cr_synth_sink *s);

/* Write everything out, close the files and free the sink (NULL is a
 * no-op returning CR_OK). Returns the first error of the sink's life. */
cr_rc
cr_synth_sink_close(struct cr_synth_sink *s, struct cr_err *err);

/* Write 'len' bytes to the file 'path' (created or truncated), all or
 * nothing from the caller's point of view. CR_EIO with 'err' on failure. */
cr_rc
cr_synth_write_file(const char *path, const char *data, size_t len,
                    struct cr_err *err);

#endif
