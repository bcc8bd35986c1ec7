/* fuzz_resource.c: a request body as the API sees it on a write.
 *
 * Bound the nesting, parse, validate, find the compartment; for a body the
 * validator accepts, build the stored bytes the way api/prepare.c does and
 * check they parse back to the same members (the splice must never corrupt
 * a resource, whatever the client's formatting). */
#include "core/buf.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const skip[] = { "resourceType", "id", "meta", NULL };
    const char *text = (const char *)data;
    struct cr_buf b = cr_buf_make(0);
    struct cr_err err;
    json_error_t jerr;
    json_t *root, *back;
    char patient[65];

    if (cr_jsontext_depth(text, size, 64) > 64)
        return 0;
    root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return 0;
    cr_err_clear(&err);
    if (json_is_object(root) && cr_fhir_validate(root, &err) == CR_OK) {
        const char *key;
        json_t *v;
        cr_fhir_compartment_patient(root, patient, sizeof patient);
        cr_buf_adds(&b, "{\"resourceType\":\"X\",\"id\":\"y\"");
        cr_jsontext_add_members(&b, text, size, skip);
        cr_buf_addc(&b, '}');
        back = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, &jerr);
        if (back == NULL)
            abort();
        json_object_foreach(root, key, v) {
            if (strcmp(key, "resourceType") == 0 || strcmp(key, "id") == 0 ||
                strcmp(key, "meta") == 0)
                continue;
            if (!json_equal(v, json_object_get(back, key)))
                abort();
        }
        json_decref(back);
    }
    json_decref(root);
    cr_buf_free(&b);
    return 0;
}
