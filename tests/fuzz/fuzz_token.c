/* fuzz_token.c: a bearer token as the API sees it. Verification must
 * refuse anything not signed by the node key, and never crash. */
#include "access/token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cr_keys *keys;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_principal p;
    struct cr_err err;

    if (keys == NULL) {
        char dir[] = "/tmp/cr-fuzz-token-XXXXXX";
        if (mkdtemp(dir) == NULL ||
            cr_token_keys_open(dir, &keys, &err) != CR_OK)
            abort();
    }
    cr_err_clear(&err);
    /* A fresh random key signed nothing the fuzzer could know. */
    if (cr_token_verify(keys, (const char *)data, size, 1800000000, &p,
                        &err) == CR_OK)
        abort();
    return 0;
}
