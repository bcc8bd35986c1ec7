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

TEST(only_keeps_the_listed_members_in_order)
{
    static const char *const keep[] = { "status", "period", "id", NULL };
    struct cr_buf b = cr_buf_make(0);
    const char *s = "{\"resourceType\":\"Encounter\", \"period\" : "
                    "{ \"end\": \"2024\" }, \"type\": [{\"status\":1}],"
                    " \"st\\u0061tus\": \"finished\", \"statusX\": 2 }";
    cr_jsontext_add_only(&b, s, strlen(s), keep);
    /* nested "status" is not a top-level member; keys compare decoded */
    CHECK_EQ_STR(b.ptr, ",\"period\":{\"end\":\"2024\"},"
                        "\"st\\u0061tus\":\"finished\"");
    cr_buf_reset(&b);
    cr_jsontext_add_only(&b, "{\"a\":1}", 7, keep);
    CHECK_EQ_INT(b.len, 0);
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

TEST(valid_accepts_json_and_refuses_the_rest)
{
    static const char *const good[] = {
        "{}", "[]", " {\"a\":[1,-2.5e+3,0.0,true,false,null,\"x\"]} ",
        "\"\\u00e9\\n\"", "0", "-0", "1E9", "{\"a\":{\"b\":[[]]}}",
        "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "[1,{\"k\":\"v\"}]",
        "\"\\ud83d\\ude00\"", "\"a\\uD83D\\uDE00b\"", "\"\\ud7ff\\ue000\"",
    };
    static const char *const bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}",
        "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "tru", "nul", "[true false]",
        "{\"a\":1,}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\x01\"",
        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\"", "{} {}",
        "[1]]", "{\"a\":1}}",
        /* as jansson: no NUL, no half of a surrogate pair */
        "\"\\u0000\"", "{\"a\\u0000b\":1}",
        "\"\\ud83d\"", "\"\\ude00\"", "\"\\ude00\\ud83d\"", "\"\\ud83d\\u0041\"",
        "\"\\ud83dx\"", "\"\\ud83d\\ud83d\"", "\"\\ud83d\\ude0\"",
    };
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!cr_jsontext_valid(good[i], strlen(good[i]), 64))
            cr_unit_fail(__FILE__, __LINE__, "refused good %s", good[i]);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cr_jsontext_valid(bad[i], strlen(bad[i]), 64))
            cr_unit_fail(__FILE__, __LINE__, "accepted bad %s", bad[i]);
    /* Depth is bounded; a NUL inside the length is not JSON. */
    CHECK(cr_jsontext_valid("[[[1]]]", 7, 3));
    CHECK(!cr_jsontext_valid("[[[1]]]", 7, 2));
    CHECK(!cr_jsontext_valid("[1]\0", 4, 8));
    /* Every prefix of a valid document but the whole is refused. */
    {
        const char *doc = "{\"resourceType\":\"Bundle\",\"entry\":[{\"x\":1.5}]}";
        size_t n = strlen(doc);
        for (i = 0; i < n; i++)
            CHECK(!cr_jsontext_valid(doc, i, 64));
        CHECK(cr_jsontext_valid(doc, n, 64));
    }
}
