/* config.c: node configuration from defaults, a JSON file and flags.
 * Depends on core/ and jansson. */
#include "cli/config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cr_config_defaults(struct cr_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8080;
    snprintf(c->data_dir, sizeof c->data_dir, "./carerecord-data");
    snprintf(c->node_id, sizeof c->node_id, "local");
    c->max_body = 8u << 20;
    c->max_response = 64u << 20;
    c->max_json_depth = 64;
    c->default_count = 50;
    c->max_count = 1000;
    c->log_requests = true;
}

void
cr_config_free(struct cr_config *c)
{
    json_decref(c->policy);
    c->policy = NULL;
    json_decref(c->mpi);
    c->mpi = NULL;
}

cr_rc
cr_config_listen(struct cr_config *c, const char *s, struct cr_err *err)
{
    const char *colon, *host = s;
    size_t host_len;
    char *end;
    long port;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            goto bad;
        host = s + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            goto bad;
        host_len = (size_t)(colon - s);
    }
    if (host_len == 0 || host_len >= sizeof c->host)
        goto bad;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        goto bad;
    memcpy(c->host, host, host_len);
    c->host[host_len] = '\0';
    c->port = (uint16_t)port;
    return CR_OK;
bad:
    return cr_err_set(err, CR_EINVAL, "value", "listen",
                      "listen address '%s' is not ADDR:PORT (e.g. "
                      "127.0.0.1:8080 or [::1]:8080; port 0 picks a free "
                      "one)", s);
}

static cr_rc
get_string(json_t *v, const char *key, char *out, size_t size,
           struct cr_err *err)
{
    if (!json_is_string(v) || json_string_length(v) >= size ||
        json_string_length(v) == 0)
        return cr_err_set(err, CR_EINVAL, "value", key,
                          "config: '%s' must be a non-empty string of at "
                          "most %zu characters", key, size - 1);
    snprintf(out, size, "%s", json_string_value(v));
    return CR_OK;
}

static cr_rc
get_int(json_t *v, const char *key, long long lo, long long hi,
        long long *out, struct cr_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi)
        return cr_err_set(err, CR_EINVAL, "value", key,
                          "config: '%s' must be a whole number from %lld to "
                          "%lld", key, lo, hi);
    *out = json_integer_value(v);
    return CR_OK;
}

cr_rc
cr_config_load(struct cr_config *c, const char *path, struct cr_err *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const char *key;
    json_t *v;
    long long n = 0;
    cr_rc rc = CR_OK;

    if (root == NULL && jerr.line < 1)
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "cannot read config %s: %s", path, jerr.text);
    if (root == NULL)
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "config %s: %s (line %d)", path, jerr.text,
                          jerr.line);
    if (!json_is_object(root)) {
        json_decref(root);
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "config %s must hold a JSON object", path);
    }
    json_object_foreach(root, key, v) {
        if (strcmp(key, "listen") == 0) {
            if (!json_is_string(v))
                rc = cr_err_set(err, CR_EINVAL, "value", key,
                                "config: 'listen' must be \"ADDR:PORT\"");
            else
                rc = cr_config_listen(c, json_string_value(v), err);
        } else if (strcmp(key, "data") == 0) {
            rc = get_string(v, key, c->data_dir, sizeof c->data_dir, err);
        } else if (strcmp(key, "node_id") == 0) {
            rc = get_string(v, key, c->node_id, sizeof c->node_id, err);
        } else if (strcmp(key, "base_url") == 0) {
            rc = get_string(v, key, c->base_url, sizeof c->base_url, err);
        } else if (strcmp(key, "max_body_bytes") == 0) {
            rc = get_int(v, key, 1024, 1LL << 30, &n, err);
            c->max_body = (size_t)n;
        } else if (strcmp(key, "max_response_bytes") == 0) {
            rc = get_int(v, key, 1 << 20, 1LL << 32, &n, err);
            c->max_response = (size_t)n;
        } else if (strcmp(key, "max_json_depth") == 0) {
            rc = get_int(v, key, 8, 100, &n, err);
            c->max_json_depth = (int)n;
        } else if (strcmp(key, "default_count") == 0) {
            rc = get_int(v, key, 1, 10000, &n, err);
            c->default_count = (int)n;
        } else if (strcmp(key, "max_count") == 0) {
            rc = get_int(v, key, 1, 100000, &n, err);
            c->max_count = (int)n;
        } else if (strcmp(key, "policy") == 0) {
            /* checked in full when the API loads it (access/policy.h) */
            if (!json_is_object(v)) {
                rc = cr_err_set(err, CR_EINVAL, "value", key,
                                "config: 'policy' must be an object (see "
                                "docs/access.md, \"Configuration\")");
            } else {
                json_decref(c->policy);
                c->policy = json_incref(v);
            }
        } else if (strcmp(key, "mpi") == 0) {
            /* checked in full when the API loads it (mpi/mpi.h) */
            if (!json_is_object(v)) {
                rc = cr_err_set(err, CR_EINVAL, "value", key,
                                "config: 'mpi' must be an object (see "
                                "docs/mpi.md, \"Configuration\")");
            } else {
                json_decref(c->mpi);
                c->mpi = json_incref(v);
            }
        } else if (strcmp(key, "log_requests") == 0) {
            if (!json_is_boolean(v))
                rc = cr_err_set(err, CR_EINVAL, "value", key,
                                "config: 'log_requests' must be true or "
                                "false");
            else
                c->log_requests = json_is_true(v);
        } else {
            rc = cr_err_set(err, CR_EINVAL, "structure", key,
                            "config %s: unknown setting '%s' (see "
                            "'carerecord serve --help')", path, key);
        }
        if (rc != CR_OK)
            break;
    }
    json_decref(root);
    return rc;
}
