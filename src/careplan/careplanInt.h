/* careplanInt.h: private to careplan/: small readers of parsed FHIR
 * resources (jansson trees), shared by the rules and the summary. Every
 * reader takes NULL and answers "absent". */
#ifndef CR_CAREPLAN_INT_H
#define CR_CAREPLAN_INT_H

#include "careplan/careplan.h"

#include <jansson.h>
#include <stdbool.h>

/* The first object in array 'list' whose string member 'key' is 'value'
 * (an extension by url, a parameter by name), or NULL. */
const json_t *
cr_careplan_item(const json_t *list, const char *key, const char *value);

/* ---- writing Parameters (summary.c) ---- */

/* Open the next parameter (or part): {"name":NAME,"KEY": after a comma
 * when '*n' > 0, counting it in '*n'. The caller writes the value and the
 * closing brace. Buffer errors stick in b->rc. */
void
cr_careplan_param_open(struct cr_buf *b, int *n, const char *name,
                       const char *key);

/* {"name":NAME,"KEY":"S"} as cr_careplan_param_open counts it; nothing
 * when 's' is NULL or empty. */
void
cr_careplan_param_str(struct cr_buf *b, int *n, const char *name,
                      const char *key, const char *s);

/* The string member 'key' of object 'obj', or NULL when absent, not a
 * string or empty. */
const char *
cr_careplan_str(const json_t *obj, const char *key);

/* The first extension of 'obj' (a resource, element or complex extension)
 * whose url is 'url', or NULL. */
const json_t *
cr_careplan_ext(const json_t *obj, const char *url);

/* The value member 'key' ("valueString"...) of the extension 'url' of
 * 'obj', or NULL. */
const json_t *
cr_careplan_ext_value(const json_t *obj, const char *url, const char *key);

/* The valueString of extension 'url' of 'obj', or NULL when absent or
 * empty. */
const char *
cr_careplan_ext_str(const json_t *obj, const char *url);

/* True when CodeableConcept 'cc' has a coding system|code. */
bool
cr_careplan_cc_has(const json_t *cc, const char *system, const char *code);

/* The code of the first coding of 'cc' from 'system', or NULL. */
const char *
cr_careplan_cc_code(const json_t *cc, const char *system);

/* What a person reads of CodeableConcept 'cc': its text, else the first
 * coding's display, else its code; NULL when it has none. */
const char *
cr_careplan_cc_text(const json_t *cc);

/* True when Reference 'ref' points at Patient 'id' ("Patient/id", or an
 * absolute URL ending in "/Patient/id", with or without a version). */
bool
cr_careplan_refers_to_patient(const json_t *ref, const char *id);

/* The Reference that names the patient of a plan resource of 'type'
 * (CarePlan, Flag, MedicationRequest: subject; RelatedPerson: patient),
 * or NULL. */
const json_t *
cr_careplan_patient_ref(const char *type, const json_t *res);


/* The YYYY-MM-DD date that starts FHIR date or dateTime 's' into 'out'
 * (11 bytes); false when 's' is NULL or shorter than a full date. */
bool
cr_careplan_date_of(const char *s, char out[11]);

#endif
