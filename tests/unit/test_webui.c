/* test_webui.c: the UI's path resolution and media types (src/webui/),
 * over the table generated from web/. */
#include "unit.h"

#include "webui/webui.h"

#include <string.h>

TEST(root_and_ui_redirect_to_ui_slash)
{
    struct cr_webui_target t = cr_webui_resolve("/");

    CHECK_EQ_INT(t.kind, CR_WEBUI_REDIRECT);
    CHECK_EQ_STR(t.location, "/ui/");
    t = cr_webui_resolve("/ui");
    CHECK_EQ_INT(t.kind, CR_WEBUI_REDIRECT);
    CHECK_EQ_STR(t.location, "/ui/");
}

TEST(other_paths_pass_to_the_api)
{
    CHECK_EQ_INT(cr_webui_resolve("/fhir/metadata").kind, CR_WEBUI_PASS);
    CHECK_EQ_INT(cr_webui_resolve("/uix").kind, CR_WEBUI_PASS);
    CHECK_EQ_INT(cr_webui_resolve("/fhir/ui/").kind, CR_WEBUI_PASS);
}

TEST(pages_with_and_without_html)
{
    struct cr_webui_target t = cr_webui_resolve("/ui/");

    CHECK_EQ_INT(t.kind, CR_WEBUI_ASSET);
    CHECK_EQ_STR(t.asset->path, "index.html");
    t = cr_webui_resolve("/ui/signin");
    CHECK_EQ_INT(t.kind, CR_WEBUI_ASSET);
    CHECK_EQ_STR(t.asset->path, "signin.html");
    t = cr_webui_resolve("/ui/js/pages/record.js");
    CHECK_EQ_INT(t.kind, CR_WEBUI_ASSET);
    CHECK(t.asset->len > 0);
    CHECK(t.asset->etag[0] == '"' && strlen(t.asset->etag) == 18);
    /* a name with an extension is never given another */
    CHECK_EQ_INT(cr_webui_resolve("/ui/signin.js").kind, CR_WEBUI_NOT_FOUND);
}

TEST(unsafe_or_unknown_names_are_not_found)
{
    static const char *const bad[] = {
        "/ui/../README.md", "/ui/js/../index.html", "/ui/./index.html",
        "/ui//index.html", "/ui/js/", "/ui/index.html\\", "/ui/a b",
        "/ui/nope", "/ui/.git/config", "/ui/..", "/ui/.",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cr_webui_target t = cr_webui_resolve(bad[i]);
        if (t.kind != CR_WEBUI_NOT_FOUND)
            cr_unit_fail(__FILE__, __LINE__, "%s: kind %d", bad[i], t.kind);
    }
}

TEST(personas_file)
{
    CHECK_EQ_INT(cr_webui_resolve("/ui/personas.json").kind,
                 CR_WEBUI_PERSONAS);
}

TEST(content_types)
{
    CHECK_EQ_STR(cr_webui_content_type("a/b.html"), "text/html; charset=utf-8");
    CHECK_EQ_STR(cr_webui_content_type("x.js"), "text/javascript; charset=utf-8");
    CHECK_EQ_STR(cr_webui_content_type("css/app.css"), "text/css; charset=utf-8");
    CHECK_EQ_STR(cr_webui_content_type("f.svg"), "image/svg+xml");
    CHECK_EQ_STR(cr_webui_content_type("js.d/noext"), "application/octet-stream");
    CHECK_EQ_STR(cr_webui_content_type("a.JS"), "application/octet-stream");
}

TEST(table_is_sorted_and_ends_with_null)
{
    size_t i;

    CHECK(cr_webui_nassets > 5);
    CHECK(cr_webui_assets[cr_webui_nassets].path == NULL);
    for (i = 1; i < cr_webui_nassets; i++)
        CHECK(strcmp(cr_webui_assets[i - 1].path, cr_webui_assets[i].path) < 0);
}
