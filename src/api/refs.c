/* refs.c: rewriting the references inside a resource's JSON text.
 *
 * A transaction Bundle and a care plan both send new resources that refer
 * to each other by temporary names (urn:uuid:...); the server assigns ids
 * and must store each resource with the real references, as the client's
 * own text (numbers keep their written form). Only the value of a
 * "reference" key (Reference.reference) is rewritten: free text that
 * happens to look like a reference is left alone. Depends on core/.
 * Thread-safe (no state). */
#include "api/apiInt.h"

#include <string.h>

cr_rc
cr_api_rewrite_refs(const char *s, size_t len, cr_api_ref_fn fn, void *ctx,
                    struct cr_buf *out)
{
    size_t i = 0, run = 0;
    bool is_bad = false, is_ref_value = false;

    while (i < len) {
        size_t start, end, k;
        bool has_escape = false;
        const char *to = NULL;

        if (s[i] != '"') {
            i++;
            continue;
        }
        start = i + 1;
        end = start;
        while (end < len && s[end] != '"') {
            if (s[end] == '\\') {
                has_escape = true;
                end++;
            }
            end++;
        }
        k = end + 1;
        while (k < len &&
               (s[k] == ' ' || s[k] == '\n' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (k < len && s[k] == ':') {
            /* a key: is the value that follows a Reference.reference? */
            is_ref_value = end - start == 9 &&
                           memcmp(s + start, "reference", 9) == 0;
            i = end + 1;
            continue;
        }
        if (is_ref_value && !has_escape)
            to = fn(ctx, s + start, end - start, &is_bad);
        is_ref_value = false;
        if (is_bad)
            return CR_EINVAL;
        if (to) {
            cr_buf_add(out, s + run, start - run);
            cr_buf_adds(out, to);
            run = end;
        }
        i = end + 1;
    }
    cr_buf_add(out, s + run, len - run);
    return out->rc;
}
