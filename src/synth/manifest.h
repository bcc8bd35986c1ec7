/* manifest.h: DIR/manifest.json (internal to src/synth).
 *
 * The manifest records the parameters, the resources per node and per
 * type (equal to the line counts of the files), how a reader can tell
 * the publisher of each resource, the configured and observed rates, the
 * governance cases by NHS number, and the organisations of the world.
 * Depends on life.h. */
#ifndef CR_SYNTH_MANIFEST_H
#define CR_SYNTH_MANIFEST_H

#include "synth/life.h"

/* Write DIR/manifest.json for the finished run described by 'g' (whose
 * stats must hold the final counts) with parameters 'p'. */
cr_rc
cr_synth_manifest_write(const struct cr_synth_gen *g,
                        const struct cr_synth_params *p, struct cr_err *err);

#endif
