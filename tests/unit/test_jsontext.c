/* test_jsontext.c: scanning JSON text without parsing it. */
#include "unit.h"

#include "core/jsontext.h"

static const char *const skip[] = { "resourceType", "id", "meta", NULL };

TEST(depth_counts_brackets_outside_strings)
{
    const char *s = "{\"a\":[{\"b\":\"[[[{{{\"}]}";
    CHECK_EQ_INT(cr_jsontext_depth(s, strlen(s), 100), 3);
    CHECK_EQ_INT(cr_jsontext_depth("\"\\\"[\"", 5, 100), 0);
    CHECK_EQ_INT(cr_jsontext_depth("", 0, 100), 0);
}

TEST(depth_stops_past_limit_on_hostile_input)
{
    char deep[100001];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(cr_jsontext_depth(deep, strlen(deep), 64) > 64);
}

TEST(minify_keeps_strings_and_number_text)
{
    struct cr_buf b = cr_buf_make(0);
    const char *s = "{ \"a b\" : [ 1.50 , 1e2 ,\n \"x \\\" y\" ] }";
    cr_jsontext_add_minified(&b, s, strlen(s));
    CHECK_EQ_STR(b.ptr, "{\"a b\":[1.50,1e2,\"x \\\" y\"]}");
    cr_buf_free(&b);
}

TEST(members_skip_server_keys_and_keep_order)
{
    struct cr_buf b = cr_buf_make(0);
    const char *s = "{\"resourceType\":\"Patient\", \"id\" : \"x\", "
                    "\"active\": true, \"meta\": {\"versionId\":\"9\"},"
                    " \"name\": [ {\"family\": \"A\"} ], \"n\": -0.10 }";
    cr_jsontext_add_members(&b, s, strlen(s), skip);
    CHECK_EQ_STR(b.ptr, ",\"active\":true,\"name\":[{\"family\":\"A\"}],"
                        "\"n\":-0.10");
    cr_buf_free(&b);
}

TEST(members_match_escaped_keys)
{
    struct cr_buf b = cr_buf_make(0);
    const char *s = "{\"\\u0069d\":\"evil\",\"\\\"q\":1,\"gender\":\"male\"}";
    cr_jsontext_add_members(&b, s, strlen(s), skip);
    CHECK_EQ_STR(b.ptr, ",\"\\\"q\":1,\"gender\":\"male\"");
    cr_buf_free(&b);
}

TEST(value_end_finds_each_kind)
{
    const char *s = "\"a\\\"b\" 12.5,{\"x\":[1,2]} true";
    CHECK_EQ_INT(cr_jsontext_value_end(s, strlen(s), 0), 6);
    CHECK_EQ_INT(cr_jsontext_value_end(s, strlen(s), 7), 11);
    CHECK_EQ_INT(cr_jsontext_value_end(s, strlen(s), 12), 23);
    CHECK_EQ_INT(cr_jsontext_value_end(s, strlen(s), 24), 28);
}
