/* names.h: name and street lists for synthetic people and places
 * (internal to src/synth).
 *
 * Given names and surnames reflect London's mix; the surname list is
 * deliberately short enough that many unrelated people share a surname,
 * which the access-audit rules ("same surname") need to see. All strings
 * are static. Depends on nothing. */
#ifndef CR_SYNTH_NAMES_H
#define CR_SYNTH_NAMES_H

#include <stddef.h>

extern const char *const cr_synth_female_names[];
extern const size_t cr_synth_n_female_names;
extern const char *const cr_synth_male_names[];
extern const size_t cr_synth_n_male_names;
extern const char *const cr_synth_surnames[];
extern const size_t cr_synth_n_surnames;
extern const char *const cr_synth_streets[];
extern const size_t cr_synth_n_streets;

#endif
