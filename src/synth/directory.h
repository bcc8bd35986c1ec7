/* directory.h: the world's organisations and staff as FHIR resources
 * (internal to src/synth).
 *
 * Each organisation is published on its own region's node (the
 * pan-London ambulance service and NHS 111 on every node, since they
 * publish to all of them) and copied onto any other node whose resources
 * refer to it; the same holds for staff (Practitioner), whose home is
 * their organisation's node. Run after all people are written, since the
 * copies depend on what they referred to. Depends on life.h. */
#ifndef CR_SYNTH_DIRECTORY_H
#define CR_SYNTH_DIRECTORY_H

#include "synth/life.h"

/* Write the Organization and Practitioner files of every node. */
void
cr_synth_directory_emit(struct cr_synth_gen *g);

#endif
