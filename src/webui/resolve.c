/* resolve.c: which answer a request path gets under /ui, and the media
 * type of each file. Pure functions over the embedded table. Depends on
 * webui.h only. */
#include "webui/webui.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "/ui/"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define MAX_NAME 200

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".json", "application/json; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".woff2", "font/woff2" },
};

const char *
cr_webui_content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    size_t i;

    if (dot != NULL)
        for (i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* A name we are willing to look up: safe characters, no empty, "." or
 * ".." segment. The table holds only such names, so this is a second
 * fence, not the first. */
static bool
is_safe_name(const char *name)
{
    const char *seg = name, *p;

    if (*name == '\0' || strlen(name) > MAX_NAME)
        return false;
    for (p = name;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') ||
                (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (c == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
}

static const struct cr_webui_asset *
find(const char *name)
{
    size_t i;

    for (i = 0; i < cr_webui_nassets; i++)
        if (strcmp(cr_webui_assets[i].path, name) == 0)
            return &cr_webui_assets[i];
    return NULL;
}

struct cr_webui_target
cr_webui_resolve(const char *path)
{
    struct cr_webui_target t = { CR_WEBUI_PASS, NULL, NULL };
    const char *name, *last;
    char html[MAX_NAME + 8];

    if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0) {
        t.kind = CR_WEBUI_REDIRECT;
        t.location = PREFIX;
        return t;
    }
    if (strncmp(path, PREFIX, PREFIX_LEN) != 0)
        return t;
    name = path + PREFIX_LEN;
    t.kind = CR_WEBUI_NOT_FOUND;
    if (*name == '\0')
        name = "index.html";
    if (!is_safe_name(name))
        return t;
    if (strcmp(name, "personas.json") == 0) {
        t.kind = CR_WEBUI_PERSONAS;
        return t;
    }
    t.asset = find(name);
    last = strrchr(name, '/');
    if (t.asset == NULL && strchr(last ? last : name, '.') == NULL) {
        snprintf(html, sizeof html, "%s.html", name);
        t.asset = find(html);
    }
    if (t.asset != NULL)
        t.kind = CR_WEBUI_ASSET;
    return t;
}
