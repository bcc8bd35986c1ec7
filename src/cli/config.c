/* config.c: node configuration from defaults, a JSON file and flags.
 * Depends on core/ and jansson. */
#include "cli/config.h"

#include <errno.h>
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
    c->max_connections = 1024;
    c->default_count = 50;
    c->max_count = 1000;
    c->log_requests = true;
    c->deadline_ms = 2000;
    c->audit_journal = true;
    c->audit_journal_ms = 10;
    c->audit_journal_bytes = (size_t)8 << 20;
}

void
cr_config_free_peers(struct cr_config *c)
{
    size_t i;

    for (i = 0; i < c->npeers; i++)
        free(c->peers[i].public_key);
    free(c->peers);
    c->peers = NULL;
    c->npeers = 0;
}

void
cr_config_free(struct cr_config *c)
{
    json_decref(c->policy);
    c->policy = NULL;
    json_decref(c->mpi);
    c->mpi = NULL;
    cr_config_free_peers(c);
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

#define MAX_KEY_FILE 16384

/* A peer's public key: PEM text as given, or the contents of the file it
 * names ('dir' for relative paths). */
static cr_rc
read_key(const char *value, const char *dir, size_t i, char **out,
         struct cr_err *err)
{
    char path[2048];
    FILE *fp;
    size_t n;
    char *buf;

    if (strncmp(value, "-----BEGIN", 10) == 0) {
        *out = strdup(value);
        return *out ? CR_OK : cr_err_set(err, CR_ENOMEM, "exception", NULL,
                                         "out of memory");
    }
    if (value[0] == '/' || dir[0] == '\0')
        snprintf(path, sizeof path, "%s", value);
    else
        snprintf(path, sizeof path, "%s/%s", dir, value);
    fp = fopen(path, "r");
    if (fp == NULL)
        return cr_err_set(err, CR_EINVAL, "value", "peers",
                          "config: peers[%zu].public_key: cannot read %s: "
                          "%s", i, path, strerror(errno));
    buf = calloc(1, MAX_KEY_FILE + 1);
    n = buf ? fread(buf, 1, MAX_KEY_FILE + 1, fp) : 0;
    fclose(fp);
    if (buf == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (n == 0 || n > MAX_KEY_FILE) {
        free(buf);
        return cr_err_set(err, CR_EINVAL, "value", "peers",
                          "config: peers[%zu].public_key: %s is %s", i, path,
                          n ? "too large for a public key" : "empty");
    }
    *out = buf;
    return CR_OK;
}

/* "peers": [{"id", "base_url", "public_key"}, ...]. */
static cr_rc
get_peers(struct cr_config *c, json_t *v, const char *dir, struct cr_err *err)
{
    size_t i;
    json_t *p;

    if (!json_is_array(v) || json_array_size(v) > 32)
        return cr_err_set(err, CR_EINVAL, "value", "peers",
                          "config: 'peers' must be a list of at most 32 "
                          "{\"id\", \"base_url\", \"public_key\"}");
    cr_config_free_peers(c);
    c->peers = calloc(json_array_size(v) + 1, sizeof *c->peers);
    if (c->peers == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    json_array_foreach(v, i, p) {
        struct cr_config_peer *cp = &c->peers[i];
        const char *key;
        json_t *m;
        cr_rc rc = CR_OK;
        char where[48];
        if (!json_is_object(p))
            return cr_err_set(err, CR_EINVAL, "value", "peers",
                              "config: peers[%zu] must be an object", i);
        c->npeers = i + 1;
        json_object_foreach(p, key, m) {
            snprintf(where, sizeof where, "peers[%zu].%s", i, key);
            if (strcmp(key, "id") == 0)
                rc = get_string(m, where, cp->id, sizeof cp->id, err);
            else if (strcmp(key, "base_url") == 0)
                rc = get_string(m, where, cp->base_url, sizeof cp->base_url,
                                err);
            else if (strcmp(key, "public_key") == 0) {
                if (!json_is_string(m) || json_string_length(m) == 0)
                    rc = cr_err_set(err, CR_EINVAL, "value", "peers",
                                    "config: %s must be PEM text or the "
                                    "path of a PEM file", where);
                else
                    rc = read_key(json_string_value(m), dir, i,
                                  &cp->public_key, err);
            } else
                rc = cr_err_set(err, CR_EINVAL, "structure", "peers",
                                "config: unknown setting '%s' (a peer has "
                                "id, base_url, public_key)", where);
            if (rc != CR_OK)
                return rc;
        }
        if (cp->id[0] == '\0' || cp->base_url[0] == '\0' ||
            cp->public_key == NULL)
            return cr_err_set(err, CR_EINVAL, "required", "peers",
                              "config: peers[%zu] needs id, base_url and "
                              "public_key", i);
    }
    return CR_OK;
}

/* "audit": {"journal": true|false, "journal_ms": N, "journal_kb": N}. */
static cr_rc
get_audit(struct cr_config *c, json_t *v, struct cr_err *err)
{
    const char *key;
    json_t *e;
    long long n = 0;
    cr_rc rc = CR_OK;

    if (!json_is_object(v))
        return cr_err_set(err, CR_EINVAL, "value", "audit",
                          "config: 'audit' must be an object (see "
                          "docs/internals/audit.md, \"The journal\")");
    json_object_foreach(v, key, e) {
        if (strcmp(key, "journal") == 0) {
            if (!json_is_boolean(e))
                return cr_err_set(err, CR_EINVAL, "value", "audit.journal",
                                  "config: 'audit.journal' must be true or "
                                  "false");
            c->audit_journal = json_is_true(e);
        } else if (strcmp(key, "journal_ms") == 0) {
            rc = get_int(e, "audit.journal_ms", 1, 1000, &n, err);
            c->audit_journal_ms = (int)n;
        } else if (strcmp(key, "journal_kb") == 0) {
            rc = get_int(e, "audit.journal_kb", 64, 1 << 20, &n, err);
            c->audit_journal_bytes = (size_t)n << 10;
        } else {
            return cr_err_set(err, CR_EINVAL, "structure", "audit",
                              "config: unknown setting 'audit.%s' (it "
                              "takes journal, journal_ms, journal_kb)", key);
        }
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

/* "locator": {"role": true} or {"node": "<peer id>"}. */
static cr_rc
get_locator(struct cr_config *c, json_t *v, struct cr_err *err)
{
    json_t *role = json_object_get(v, "role"), *node = json_object_get(v,
                                                                       "node");

    if (!json_is_object(v) || json_object_size(v) != 1 ||
        (role == NULL && node == NULL) || (role && !json_is_boolean(role)))
        return cr_err_set(err, CR_EINVAL, "value", "locator",
                          "config: 'locator' must be {\"role\": true} (this "
                          "node keeps the record locator) or {\"node\": "
                          "\"<peer id>\"} (a peer keeps it)");
    if (role) {
        c->locator = json_is_true(role) ? CR_CONFIG_LOCATOR_SELF
                                        : CR_CONFIG_LOCATOR_NONE;
        return CR_OK;
    }
    c->locator = CR_CONFIG_LOCATOR_PEER;
    return get_string(node, "locator.node", c->locator_node,
                      sizeof c->locator_node, err);
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
        } else if (strcmp(key, "personas") == 0) {
            rc = get_string(v, key, c->personas, sizeof c->personas, err);
        } else if (strcmp(key, "max_body_bytes") == 0) {
            rc = get_int(v, key, 1024, 1LL << 30, &n, err);
            c->max_body = (size_t)n;
        } else if (strcmp(key, "max_connections") == 0) {
            rc = get_int(v, key, 16, 1000000, &n, err);
            c->max_connections = (unsigned)n;
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
        } else if (strcmp(key, "peers") == 0) {
            char dir[1024];
            const char *slash = strrchr(path, '/');
            snprintf(dir, sizeof dir, "%.*s",
                     slash ? (int)(slash - path) : 0, path);
            if (slash == path)
                snprintf(dir, sizeof dir, "/");
            rc = get_peers(c, v, dir, err);
        } else if (strcmp(key, "audit") == 0) {
            rc = get_audit(c, v, err);
        } else if (strcmp(key, "locator") == 0) {
            rc = get_locator(c, v, err);
        } else if (strcmp(key, "deadline_ms") == 0) {
            rc = get_int(v, key, 1, 30000, &n, err);
            c->deadline_ms = (int)n;
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
