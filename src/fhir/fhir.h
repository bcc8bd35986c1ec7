/* fhir.h: what FHIR R4 says about resources, and the validator every write
 * goes through.
 *
 * The element names, types and cardinalities of every R4 resource and
 * datatype come from tables generated from HL7's official
 * StructureDefinitions (src/fhir/defs_gen.c, by tools/gen_fhir.mjs); the
 * primitive types and their formats are coded by hand. The validator checks
 * the shape of a resource's JSON against them and stops at the first
 * problem, which it describes in a struct cr_err precise enough for an
 * OperationOutcome: an IssueType code, a FHIRPath location such as
 * "Patient.name[0].given[1]" and a sentence. It does not check invariants
 * (FHIRPath constraints), terminology bindings or profiles; see
 * docs/internals/fhir.md.
 *
 * Every function here is pure: no allocation, no global state, safe to call
 * from any number of threads at once. Inputs are borrowed and not kept.
 * Depends on core/ and jansson. */
#ifndef CR_FHIR_FHIR_H
#define CR_FHIR_FHIR_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The system of the NHS number identifier (UK Core). */
#define CR_FHIR_NHS_NUMBER_SYSTEM "https://fhir.nhs.uk/Id/nhs-number"

/* Deepest nesting of JSON objects the validator follows before it gives up
 * with an error, so hostile input cannot exhaust the stack. */
#define CR_FHIR_MAX_DEPTH 100

/* True when 'name' is an R4 resource type ("Patient", "Bundle",
 * "AuditEvent", ...; not abstract "Resource" or "DomainResource"). Case
 * sensitive. NULL gives false. */
bool
cr_fhir_is_resource_type(const char *name);

/* True when 'name' is one of the resource types this server serves (see
 * cr_fhir_supported_types). NULL gives false. */
bool
cr_fhir_is_supported_type(const char *name);

/* The resource types this server serves, sorted by strcmp. Sets '*out_n'
 * (which must not be NULL) to their number. The array and its strings are
 * static. AuditEvent and Bundle are R4 types we produce but do not accept
 * as resources to store, so they are not in the list. */
const char *const *
cr_fhir_supported_types(size_t *out_n);

/* Validate 'resource', a parsed FHIR JSON resource of a supported type,
 * against the R4 structure. Returns CR_OK when it is valid. Otherwise
 * returns CR_EINVAL, or CR_EUNSUPPORTED when resourceType names an R4 type
 * this server does not serve, and fills 'err' (may be NULL) with the first
 * problem found:
 *   err->code  "structure"  not an object, unknown element, resourceType
 *                           unknown or misplaced, null, empty object or
 *                           array, array where max is 1 (or the reverse),
 *                           wrong JSON type, two variants of one choice,
 *                           bad "_element" extension sibling, nested
 *                           contained, nesting deeper than CR_FHIR_MAX_DEPTH
 *              "required"   resourceType or an element with min >= 1 missing
 *              "value"      a primitive's content is invalid (format,
 *                           range, empty string, control character) or an
 *                           NHS number fails its check digit
 *              "not-supported"  the type is not served (CR_EUNSUPPORTED)
 *   err->where a FHIRPath location: "Patient.name[0].given[1]",
 *              "Observation.valueQuantity.value", "resourceType"
 *   err->msg   what is wrong and what is expected.
 * 'resource' is not modified or kept. NULL is "not an object". */
cr_rc
cr_fhir_validate(const json_t *resource, struct cr_err *err);

/* As cr_fhir_validate, but any R4 resource type is accepted (Bundle,
 * AuditEvent, CodeSystem, ...), so never CR_EUNSUPPORTED. Use it for
 * envelopes such as a transaction Bundle, whose entries the caller then
 * checks with cr_fhir_validate; Bundle entries are validated here only as
 * R4 resources of any type. */
cr_rc
cr_fhir_validate_any(const json_t *resource, struct cr_err *err);

/* True when 's' ('len' bytes) is a valid NHS number: exactly ten ASCII
 * digits whose last is the Modulus 11 check digit of the first nine
 * (NHS Data Dictionary). No spaces. NULL gives false. */
bool
cr_fhir_nhs_number_valid(const char *s, size_t len);

/* True when 's' ('len' bytes) is a valid FHIR id: 1 to 64 of
 * [A-Za-z0-9-.]. Use it for ids in URLs as well as in bodies. NULL gives
 * false. */
bool
cr_fhir_valid_id(const char *s, size_t len);

/* True when 's' ('len' bytes, not necessarily NUL-terminated) is a valid
 * string form of primitive type 'type' ("date", "dateTime", "instant",
 * "time", "code", "id", "uri", "url", "canonical", "oid", "uuid",
 * "base64Binary", "string", "markdown", "xhtml"; also "boolean",
 * "integer", "positiveInt", "unsignedInt" and "decimal" in their JSON
 * spelling). False for an unknown type name or NULL. */
bool
cr_fhir_valid_primitive(const char *type, const char *s, size_t len);

/* Find the patient whose compartment 'resource' belongs to and write the
 * patient's id, NUL-terminated, to 'out' ('out_size' bytes). For a Patient
 * that is its own "id" if present, else the first Patient reference in
 * link.other. For other types the references listed for the type in the
 * R4 Patient CompartmentDefinition are examined in that order ("subject",
 * "performer", "participant.actor", ...), and the first that refers to a
 * Patient wins: "Patient/abc", "https://host/fhir/Patient/abc", with any
 * "/_history/n" suffix ignored. Contained ("#x") and logical references
 * do not count. Returns CR_OK; CR_ENOTFOUND when the resource is in no
 * patient's compartment (an answer, not a fault); CR_EINVAL when
 * 'resource' is not an object with a resourceType, or when the id is not
 * a valid FHIR id or does not fit in 'out'. Thread-safe. */
cr_rc
cr_fhir_compartment_patient(const json_t *resource, char *out,
                            size_t out_size);

/* What the tables say about one element, as returned by cr_fhir_element.
 * Where the base spec profiles Quantity as SimpleQuantity (Range.low,
 * Dosage.doseAndRate.doseQuantity, ...) the type reads "SimpleQuantity". */
struct cr_fhir_element {
    const char *type;   /* "string", "HumanName", "Patient.contact",
                           "Resource" (any resource), ... (static) */
    int min;            /* minimum cardinality */
    bool is_array;      /* max is "*" */
    bool is_choice;     /* one variant of a choice such as value[x] */
    bool is_prohibited; /* max is "0": a profile forbids it
                           (SimpleQuantity.comparator) */
};

/* Look up element 'name' (its JSON name: "birthDate", "valueQuantity") of
 * 'type', which is a resource type, a datatype or a backbone path
 * ("Patient.contact"), or a dotted path from one ("Observation.component.
 * valueQuantity", "Patient.name.given"). Fills '*out' and returns CR_OK,
 * or CR_ENOTFOUND when there is no such element. The strings in '*out' are
 * static. Not for hot paths: resolving a datatype name is a linear scan. */
cr_rc
cr_fhir_element(const char *type, const char *name,
                struct cr_fhir_element *out);

/* The JSON names of the required top-level elements of resource 'type'
 * (minimum cardinality 1; for a required choice such as value[x], every
 * variant's name). Writes up to 'max' names (static strings) to 'out' and
 * returns how many there are in all; 0 for an unknown type. */
size_t
cr_fhir_required_elements(const char *type, const char **out, size_t max);

/* Called with each patient id a resource's compartment references name
 * (not NUL-terminated; may repeat). */
typedef void (*cr_fhir_patient_fn)(void *ctx, const char *id, size_t len);

/* Every Patient the resource is in the compartment of, through every
 * compartment parameter of its type (a Communication between two patients
 * is in both compartments). Does not report a Patient resource's own id
 * (see cr_fhir_compartment_patient). CR_EINVAL if 'resource' is not a
 * resource. */
cr_rc
cr_fhir_compartment_patients(const json_t *resource, cr_fhir_patient_fn fn,
                             void *ctx);

#endif
