/* fhirInt.h: private to src/fhir/: the generated R4 tables and the helpers
 * the module's files share. Nothing outside src/fhir/ includes this.
 *
 * The tables live in defs_gen.c, written by tools/gen_fhir.mjs; the layout
 * here and the generator must agree (the generated file checks the enum
 * values with _Static_assert). See docs/internals/fhir.md. */
#ifndef CR_FHIR_FHIRINT_H
#define CR_FHIR_FHIRINT_H

#include "fhir/fhir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Primitive types, in the generator's order. A type reference (the 'type'
 * field of an element) below CR_FHIR_NPRIM is one of these. */
enum cr_fhir_prim {
    CR_FHIR_P_BASE64BINARY,
    CR_FHIR_P_BOOLEAN,
    CR_FHIR_P_CANONICAL,
    CR_FHIR_P_CODE,
    CR_FHIR_P_DATE,
    CR_FHIR_P_DATETIME,
    CR_FHIR_P_DECIMAL,
    CR_FHIR_P_ID,
    CR_FHIR_P_INSTANT,
    CR_FHIR_P_INTEGER,
    CR_FHIR_P_MARKDOWN,
    CR_FHIR_P_OID,
    CR_FHIR_P_POSITIVEINT,
    CR_FHIR_P_STRING,
    CR_FHIR_P_TIME,
    CR_FHIR_P_UNSIGNEDINT,
    CR_FHIR_P_URI,
    CR_FHIR_P_URL,
    CR_FHIR_P_UUID,
    CR_FHIR_P_XHTML,
    CR_FHIR_NPRIM
};

/* Type reference CR_FHIR_T_RESOURCE means "any resource" (contained,
 * Bundle.entry.resource); CR_FHIR_T_COMPLEX + i means cr_fhir_types[i]. */
#define CR_FHIR_T_RESOURCE CR_FHIR_NPRIM
#define CR_FHIR_T_COMPLEX (CR_FHIR_NPRIM + 1)

/* Element flags. */
#define CR_FHIR_F_ARRAY 1  /* max is "*": the JSON value is an array */
#define CR_FHIR_F_MAX0 2   /* max is "0": must not appear (SimpleQuantity) */
#define CR_FHIR_F_CHOICE 4 /* one variant of a choice element "value[x]" */

/* Type kinds. */
#define CR_FHIR_K_RESOURCE 0 /* a resource type: "Patient" */
#define CR_FHIR_K_DATATYPE 1 /* a complex datatype: "HumanName" */
#define CR_FHIR_K_BACKBONE 2 /* an inline element: "Patient.contact" */

/* One element of a type, under its JSON name (choices expanded:
 * "valueQuantity"). Within a type, elements are sorted by name. */
struct cr_fhir_elem {
    uint16_t name;  /* index into cr_fhir_names */
    uint16_t type;  /* primitive, CR_FHIR_T_RESOURCE or CR_FHIR_T_COMPLEX+i */
    uint8_t min;    /* minimum cardinality */
    uint8_t flags;  /* CR_FHIR_F_* */
    uint8_t group;  /* choice group within the type, 1..63; 0: not a choice */
};

/* A resource type, datatype or backbone element. Resources come first in
 * cr_fhir_types, sorted by name, so they can be binary-searched. */
struct cr_fhir_type {
    uint16_t name;       /* index into cr_fhir_names */
    uint8_t kind;        /* CR_FHIR_K_* */
    uint32_t first;      /* first element in cr_fhir_elems */
    uint16_t count;      /* number of elements */
    uint32_t req_first;  /* first entry in cr_fhir_required */
    uint16_t req_count;  /* required elements, each choice group once */
};

/* A resource type's Patient-compartment paths: cr_fhir_comp_paths[first]
 * up to first + count. */
struct cr_fhir_comp {
    uint16_t first;
    uint16_t count;
};

extern const size_t cr_fhir_nnames;
extern const size_t cr_fhir_ntypes;
extern const size_t cr_fhir_nresources;
extern const size_t cr_fhir_nelems;
extern const size_t cr_fhir_max_elems;
extern const uint16_t cr_fhir_type_identifier;
extern const uint16_t cr_fhir_type_element;
extern const uint16_t cr_fhir_type_reference;
extern const char *const cr_fhir_names[];
extern const struct cr_fhir_type cr_fhir_types[];
extern const struct cr_fhir_elem cr_fhir_elems[];
extern const uint16_t cr_fhir_required[];
extern const struct cr_fhir_comp cr_fhir_comp[];
extern const char *const cr_fhir_comp_paths[];

/* The name of primitive 'p' ("dateTime"), or NULL if out of range. */
const char *
cr_fhir_prim_name(unsigned p);

/* The name of a type reference: a primitive's name, "Resource", or a
 * complex type's name ("HumanName", "Patient.contact"). Never NULL. */
const char *
cr_fhir_typeref_name(unsigned type);

/* Index into cr_fhir_types of resource type 'name', or -1. */
int
cr_fhir_resource_index(const char *name);

/* Index into cr_fhir_types of any type (resource, datatype or backbone path)
 * named 'name', or -1. Linear in the number of types: not for hot paths. */
int
cr_fhir_type_index(const char *name);

/* The element of type 'type' (index into cr_fhir_types) whose JSON name is
 * 'name' ('len' bytes), or NULL. Binary search; thread-safe. */
const struct cr_fhir_elem *
cr_fhir_elem_find(unsigned type, const char *name, size_t len);

/* Check the string form of primitive 'p' (one held as a JSON string):
 * returns NULL when valid, else a short description of what is expected,
 * for an error message. 's' need not be NUL-terminated. */
const char *
cr_fhir_prim_check(unsigned p, const char *s, size_t len);

#endif
