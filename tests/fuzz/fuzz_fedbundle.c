/* fuzz_fedbundle.c: a Bundle another node sent, as a federated read sees it.
 *
 * A peer's answer is checked with cr_jsontext_valid and then only scanned,
 * never parsed (federation/bundle.c), and its resources are tagged by
 * splicing text (tag.c). Checked against jansson: text jansson reads
 * (without a NUL byte, where jansson stops) is valid to
 * cr_jsontext_valid (within the depth bound), and valid text
 * jansson reads too unless a number is beyond its range; every span the
 * scanners give lies inside the text, each entry's resource span is a
 * JSON object, and tagging one without duplicate keys gives valid JSON
 * whose members are the resource's, and a meta whose tags hold the node
 * tag. */
#include "core/buf.h"
#include "core/jsontext.h"
#include "federation/federation.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 64

static void
check_span(struct cr_fed_span s, size_t len)
{
    if (s.end < s.start || s.end > len)
        abort();
}

static bool
has_node_tag(json_t *res)
{
    json_t *tags = json_object_get(json_object_get(res, "meta"), "tag"), *t;
    size_t i;

    json_array_foreach(tags, i, t) {
        const char *sys = json_string_value(json_object_get(t, "system"));
        if (sys && strcmp(sys, CR_FED_NODE_SYSTEM) == 0)
            return true;
    }
    return false;
}

static bool
on_entry(void *ctx, const char *bundle, const struct cr_fed_entry *e)
{
    size_t len = *(size_t *)ctx;
    const struct cr_fed_span *spans[] = {
        &e->entry, &e->full_url, &e->resource, &e->type, &e->id,
        &e->version, &e->mode, &e->node, &e->publisher,
    };
    struct cr_buf b = cr_buf_make(0);
    json_t *res, *tagged;
    const char *key;
    json_t *v;
    size_t i;

    for (i = 0; i < sizeof spans / sizeof spans[0]; i++)
        check_span(*spans[i], len);
    if (e->resource.end == e->resource.start)
        return true;
    /* Nodes store and send resources without duplicate keys (writes are
     * parsed with JSON_REJECT_DUPLICATES); which of two "meta" members
     * counts is up to the reader. */
    res = json_loadb(bundle + e->resource.start,
                     e->resource.end - e->resource.start,
                     JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES,
                     NULL);
    if (res == NULL)
        return true;        /* a number jansson cannot hold, or duplicates */
    if (!json_is_object(res))
        abort();
    cr_fed_tag(&b, bundle + e->resource.start,
               e->resource.end - e->resource.start, "RX1", "peer");
    if (b.rc == CR_OK) {
        if (!cr_jsontext_valid(b.ptr, b.len, MAX_DEPTH + 4))
            abort();
        tagged = json_loadb(b.ptr, b.len, JSON_DECODE_INT_AS_REAL, NULL);
        if (!json_is_object(tagged))
            abort();
        json_object_foreach(res, key, v) {
            if (strcmp(key, "meta") != 0 &&
                !json_equal(v, json_object_get(tagged, key)))
                abort();
        }
        if (!has_node_tag(tagged))
            abort();
        json_decref(tagged);
    }
    cr_buf_free(&b);
    json_decref(res);
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_error_t jerr;
    json_t *j;
    struct cr_fed_span link;
    bool is_valid;
    size_t len = size;

    if (cr_jsontext_depth(text, size, MAX_DEPTH) > MAX_DEPTH)
        return 0;
    is_valid = cr_jsontext_valid(text, size, MAX_DEPTH);
    j = json_loadb(text, size, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                   &jerr);
    /* (jansson stops at a NUL byte, as if the text ended there) */
    if (j != NULL && !is_valid && memchr(text, '\0', size) == NULL)
        abort();        /* jansson read what the validator refused */
    if (j == NULL && is_valid && strstr(jerr.text, "overflow") == NULL &&
        strstr(jerr.text, "too big") == NULL)
        abort();        /* the validator let through what is not JSON */
    json_decref(j);
    if (!is_valid)
        return 0;
    cr_fed_bundle_entries(text, size, on_entry, &len);
    if (cr_fed_bundle_link(text, size, "next", &link))
        check_span(link, size);
    return 0;
}
