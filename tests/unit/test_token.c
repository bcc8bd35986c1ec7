/* test_token.c: node keys, minting and verifying EdDSA bearer tokens, the
 * verification cache and trusted peer keys.
 *
 * Hostile tokens are built here with OpenSSL directly (and a base64url
 * encoder of our own that is independent of the one under test), signed
 * with the node's real key, so each refusal is for the reason tested and
 * not for a bad signature. */
#include "unit.h"

#include "access/principal.h"
#include "access/token.h"
#include "core/err.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

/* ---- helpers ---------------------------------------------------------- */

static char *
path_in(const char *dir, const char *name)
{
    static char buf[4][512];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* A fresh subdirectory of the test's tmpdir. */
static const char *
subdir(const char *name)
{
    char *p = path_in(cr_unit_tmpdir(), name);
    static char keep[4][512];
    static int i;
    char *k = keep[i++ % 4];
    snprintf(k, 512, "%s", p);
    CHECK(mkdir(k, 0700) == 0);
    return k;
}

static struct cr_keys *
open_keys(const char *dir)
{
    struct cr_keys *k = NULL;
    struct cr_err err = { 0 };
    cr_rc rc = cr_token_keys_open(dir, &k, &err);
    if (rc != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "keys_open: %s: %s", cr_rc_name(rc),
                     err.msg);
    return k;
}

static struct cr_principal
alice(void)
{
    struct cr_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.sub, sizeof p.sub, "%s", "user-0001");
    snprintf(p.name, sizeof p.name, "%s", "Dr Alice Smith");
    snprintf(p.org, sizeof p.org, "%s", "RR8");
    snprintf(p.role, sizeof p.role, "%s", "R8000");
    snprintf(p.purpose, sizeof p.purpose, "%s", "direct-care");
    return p;
}

/* The token is copied out of the variable its address was passed in
 * (the compiler cannot tell the callee did not point it at itself). */
static char *
mint(struct cr_keys *k, const struct cr_principal *p, int64_t ttl)
{
    char *jwt = NULL, *out;
    struct cr_err err = { 0 };
    cr_rc rc = cr_token_mint(k, p, ttl, &jwt, &err);
    if (rc != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "mint: %s: %s", cr_rc_name(rc),
                     err.msg);
    out = strdup(jwt);
    free(jwt);
    CHECK(out != NULL);
    return out;
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/* base64url without padding, via EVP_EncodeBlock (independent of token.c). */
static char *
b64url(const unsigned char *src, size_t n)
{
    char *out = malloc(4 * (n / 3 + 1) + 1);
    int len, i;
    CHECK(out != NULL);
    len = EVP_EncodeBlock((unsigned char *)out, src, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/* Decode base64url (for reading a part of a token back). */
static char *
b64url_dec(const char *s, size_t n)
{
    char *tmp = malloc(n + 4), *out = malloc(n + 4);
    size_t i, m = n;
    int len;
    CHECK(tmp && out);
    for (i = 0; i < n; i++)
        tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (m % 4)
        tmp[m++] = '=';
    len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)tmp, (int)m);
    CHECK(len >= 0);
    len -= (int)(m - n); /* padding bytes decoded as zeros */
    out[len] = '\0';
    free(tmp);
    return out;
}

/* The decoded part 'idx' (0 header, 1 claims) of a token. */
static char *
part_of(const char *jwt, int idx)
{
    const char *a = jwt, *b;
    while (idx-- > 0)
        a = strchr(a, '.') + 1;
    b = strchr(a, '.');
    return b64url_dec(a, (size_t)(b - a));
}

static EVP_PKEY *
load_priv(const char *dir)
{
    FILE *f = fopen(path_in(dir, "node-key.pem"), "r");
    EVP_PKEY *pk;
    CHECK(f != NULL);
    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    CHECK(pk != NULL);
    return pk;
}

/* header.claims.signature with an Ed25519 signature by the key in 'dir'. */
static char *
sign_raw(const char *dir, const char *hdr, const char *claims)
{
    EVP_PKEY *pk = load_priv(dir);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *h = b64url((const unsigned char *)hdr, strlen(hdr));
    char *c = b64url((const unsigned char *)claims, strlen(claims));
    size_t n = strlen(h) + strlen(c) + 200, siglen = 64;
    char *out = malloc(n), *s;
    unsigned char sig[64];

    snprintf(out, n, "%s.%s", h, c);
    CHECK(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1);
    CHECK(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)out,
                         strlen(out)) == 1);
    s = b64url(sig, siglen);
    snprintf(out + strlen(out), n - strlen(out), ".%s", s);
    free(s);
    free(h);
    free(c);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return out;
}

/* A header naming the key in 'k'. */
static const char *
hdr_for(struct cr_keys *k)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             cr_token_keys_kid(k));
    return buf;
}

/* Claims for alice with iat = now, exp = now + 3600, plus 'extra' (which
 * starts with ',' or is empty), minus the claim named 'omit'. */
static const char *
claims_with(const char *omit, const char *extra)
{
    static char buf[4096];
    static const char *names[] = { "sub", "name", "org", "role", "purpose" };
    static const char *vals[] = { "\"user-0001\"", "\"Dr Alice Smith\"",
                                  "\"RR8\"", "\"R8000\"", "\"direct-care\"" };
    size_t o = 0;
    int i;
    long long t = (long long)now_s();

    o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"iat\":%lld", t);
    if (!omit || strcmp(omit, "exp") != 0)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ",\"exp\":%lld",
                              t + 3600);
    for (i = 0; i < 5; i++)
        if (!omit || strcmp(omit, names[i]) != 0)
            o += (size_t)snprintf(buf + o, sizeof buf - o, ",\"%s\":%s",
                                  names[i], vals[i]);
    snprintf(buf + o, sizeof buf - o, "%s}", extra ? extra : "");
    return buf;
}

/* Verify and expect a refusal whose message contains 'want'. */
#define CHECK_REFUSED(k, jwt, len, now, want)                                \
    do {                                                                     \
        struct cr_principal p_;                                              \
        struct cr_err e_ = { 0 };                                            \
        cr_rc rc_ = cr_token_verify((k), (jwt), (len), (now), &p_, &e_);     \
        if (rc_ != CR_EAUTH)                                                 \
            cr_unit_fail(__FILE__, __LINE__, "expected CR_EAUTH, got %s",    \
                         cr_rc_name(rc_));                                   \
        if (strstr(e_.msg, (want)) == NULL)                                  \
            cr_unit_fail(__FILE__, __LINE__,                                 \
                         "message \"%s\" lacks \"%s\"", e_.msg, (want));     \
        CHECK(strcmp(e_.code, "security") == 0 ||                            \
              strcmp(e_.code, "login") == 0);                                \
        CHECK(p_.sub[0] == '\0');                                            \
    } while (0)

#define CHECK_REFUSED_S(k, s, want) \
    CHECK_REFUSED((k), (s), strlen(s), now_s(), (want))

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    CHECK(f != NULL && buf != NULL);
    CHECK(fread(buf, 1, 65535, f) > 0);
    fclose(f);
    return buf;
}

/* ---- keys ------------------------------------------------------------- */

TEST(keys_created_then_reloaded_with_same_kid)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    char kid[32];
    struct stat st;
    char *pem = NULL, *file;
    size_t i;

    snprintf(kid, sizeof kid, "%s", cr_token_keys_kid(k));
    CHECK_EQ_INT(strlen(kid), 16);
    for (i = 0; i < 16; i++)
        CHECK(strchr("0123456789abcdef", kid[i]) != NULL);
    CHECK(stat(path_in(dir, "node-key.pem"), &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK(stat(path_in(dir, "node-key.pub.pem"), &st) == 0);
    CHECK(cr_token_keys_public_pem(k, &pem, NULL) == CR_OK);
    CHECK(strstr(pem, "-----BEGIN PUBLIC KEY-----") == pem);
    file = read_file(path_in(dir, "node-key.pub.pem"));
    CHECK_EQ_STR(file, pem);
    file[0] = '\0';
    free(file);
    file = read_file(path_in(dir, "node-key.pem"));
    CHECK(strstr(file, "-----BEGIN PRIVATE KEY-----") == file);
    free(file);
    cr_token_keys_close(k);

    /* The public file is recreated when missing. */
    CHECK(unlink(path_in(dir, "node-key.pub.pem")) == 0);
    k = open_keys(dir);
    CHECK_EQ_STR(cr_token_keys_kid(k), kid);
    file = read_file(path_in(dir, "node-key.pub.pem"));
    CHECK_EQ_STR(file, pem);
    free(file);
    free(pem);
    cr_token_keys_close(k);
    cr_token_keys_close(NULL);
}

TEST(keys_differ_between_nodes)
{
    struct cr_keys *a = open_keys(subdir("a")), *b = open_keys(subdir("b"));
    CHECK(strcmp(cr_token_keys_kid(a), cr_token_keys_kid(b)) != 0);
    cr_token_keys_close(a);
    cr_token_keys_close(b);
}

static void *
open_thread(void *arg)
{
    struct cr_keys *k = NULL;
    if (cr_token_keys_open(arg, &k, NULL) != CR_OK)
        return NULL;
    return k;
}

TEST(keys_created_once_when_opened_concurrently)
{
    const char *dir = cr_unit_tmpdir();
    pthread_t t[4];
    struct cr_keys *k[4];
    int i;

    for (i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, open_thread, (void *)dir) == 0);
    for (i = 0; i < 4; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        k[i] = r;
        CHECK(k[i] != NULL);
    }
    for (i = 1; i < 4; i++)
        CHECK_EQ_STR(cr_token_keys_kid(k[i]), cr_token_keys_kid(k[0]));
    for (i = 0; i < 4; i++)
        cr_token_keys_close(k[i]);
}

TEST(keys_open_fails_clearly)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = (struct cr_keys *)&k;
    struct cr_err err = { 0 };
    int fd;

    /* Missing directory. */
    CHECK_EQ_INT(cr_token_keys_open(path_in(dir, "nope"), &k, &err), CR_EIO);
    CHECK(k == NULL);
    CHECK(strstr(err.msg, "does not exist") != NULL);

    /* Corrupt key file. */
    fd = open(path_in(dir, "node-key.pem"), O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "-----BEGIN PRIVATE KEY-----\nxx\n", 31) == 31);
    close(fd);
    CHECK_EQ_INT(cr_token_keys_open(dir, &k, &err), CR_EIO);
    CHECK(k == NULL);
    CHECK(strstr(err.msg, path_in(dir, "node-key.pem")) != NULL);

    /* Readable by others. */
    CHECK(chmod(path_in(dir, "node-key.pem"), 0644) == 0);
    CHECK_EQ_INT(cr_token_keys_open(dir, &k, &err), CR_EIO);
    CHECK(strstr(err.msg, "chmod 600") != NULL);
}

TEST(keys_wrong_type_refused)
{
    const char *dir = cr_unit_tmpdir();
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct cr_keys *k = NULL;
    struct cr_err err = { 0 };
    FILE *f;

    CHECK(pk != NULL);
    f = fopen(path_in(dir, "node-key.pem"), "w");
    CHECK(f != NULL);
    CHECK(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    CHECK(chmod(path_in(dir, "node-key.pem"), 0600) == 0);
    CHECK_EQ_INT(cr_token_keys_open(dir, &k, &err), CR_EIO);
    CHECK(strstr(err.msg, "not an Ed25519 key") != NULL);
    EVP_PKEY_free(pk);
}

/* ---- minting and the round trip --------------------------------------- */

TEST(mint_verify_round_trip)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    struct cr_err err = { 0 };
    int64_t t0 = now_s();
    char *jwt, *hdr;

    snprintf(p.patient, sizeof p.patient, "%s", "9000000009");
    snprintf(p.reason, sizeof p.reason, "%s", "Reviewing discharge, \"ward 7\"");
    snprintf(p.iss, sizeof p.iss, "%s", "node-a");
    snprintf(p.purpose, sizeof p.purpose, "%s", "emergency");
    jwt = mint(k, &p, 600);
    CHECK(strlen(jwt) < CR_TOKEN_MAX_LEN);

    hdr = part_of(jwt, 0);
    {
        char want[128];
        snprintf(want, sizeof want,
                 "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                 cr_token_keys_kid(k));
        CHECK_EQ_STR(hdr, want);
    }
    free(hdr);

    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), t0, &got, &err), CR_OK);
    CHECK_EQ_STR(got.sub, p.sub);
    CHECK_EQ_STR(got.name, p.name);
    CHECK_EQ_STR(got.org, p.org);
    CHECK_EQ_STR(got.role, p.role);
    CHECK_EQ_STR(got.purpose, "emergency");
    CHECK_EQ_STR(got.patient, "9000000009");
    CHECK_EQ_STR(got.reason, p.reason);
    CHECK_EQ_STR(got.iss, "node-a");
    CHECK(got.iat >= t0 && got.iat <= t0 + 5);
    CHECK_EQ_INT(got.exp, got.iat + 600);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(mint_omits_empty_optional_claims)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    char *jwt = mint(k, &p, 60), *claims = part_of(jwt, 1);

    CHECK(strstr(claims, "\"patient\"") == NULL);
    CHECK(strstr(claims, "\"reason\"") == NULL);
    CHECK(strstr(claims, "\"iss\"") == NULL);
    CHECK(strstr(claims, "\"sub\":\"user-0001\"") != NULL);
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), now_s(), &got, NULL),
                 CR_OK);
    CHECK_EQ_STR(got.patient, "");
    CHECK_EQ_STR(got.reason, "");
    CHECK_EQ_STR(got.iss, "");
    free(claims);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(mint_refuses_invalid_principal)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p;
    struct cr_err err = { 0 };
    char *jwt = (char *)&jwt;

    p = alice();
    p.role[0] = '\0';
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);
    CHECK(jwt == NULL);
    CHECK(strstr(err.msg, "'role'") != NULL);

    p = alice();
    snprintf(p.purpose, sizeof p.purpose, "%s", "curiosity");
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "must be one of") != NULL);

    p = alice();
    snprintf(p.patient, sizeof p.patient, "%s", "123456789");
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);

    p = alice();
    snprintf(p.role, sizeof p.role, "%s", "doctor");
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);

    p = alice();
    snprintf(p.name, sizeof p.name, "%s", "bad\xff utf8");
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);

    p = alice();
    snprintf(p.name, sizeof p.name, "%s", "line\nbreak");
    CHECK_EQ_INT(cr_token_mint(k, &p, 60, &jwt, &err), CR_EINVAL);

    p = alice();
    CHECK_EQ_INT(cr_token_mint(k, &p, 0, &jwt, &err), CR_EINVAL);
    CHECK_EQ_INT(cr_token_mint(k, &p, CR_TOKEN_MAX_TTL + 1, &jwt, &err),
                 CR_EINVAL);
    CHECK_EQ_INT(cr_token_principal_check(&p, &err), CR_OK);
    cr_token_keys_close(k);
}

TEST(principal_helpers)
{
    CHECK(cr_principal_purpose_valid("direct-care"));
    CHECK(cr_principal_purpose_valid("emergency"));
    CHECK(cr_principal_purpose_valid("patient-access"));
    CHECK(cr_principal_purpose_valid("research"));
    CHECK(cr_principal_purpose_valid("audit"));
    CHECK(cr_principal_purpose_valid("system"));
    CHECK(!cr_principal_purpose_valid("Direct-care"));
    CHECK(!cr_principal_purpose_valid(""));
    CHECK(!cr_principal_purpose_valid(NULL));
    CHECK(cr_principal_role_valid("R8000"));
    CHECK(!cr_principal_role_valid("R800"));
    CHECK(!cr_principal_role_valid("R80000"));
    CHECK(!cr_principal_role_valid("r8000"));
    CHECK(cr_principal_nhs_number_valid("9000000009"));
    CHECK(!cr_principal_nhs_number_valid("900000000"));
    CHECK(!cr_principal_nhs_number_valid("90000000091"));
    CHECK(!cr_principal_nhs_number_valid("900000000a"));
    CHECK(cr_principal_org_valid("A81001"));
    CHECK(!cr_principal_org_valid("rr8"));
    CHECK(!cr_principal_org_valid(""));
}

/* ---- refusals --------------------------------------------------------- */

TEST(tampered_payload_refused)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice();
    char *jwt = mint(k, &p, 600), *forged, *claims;
    char *dot1 = strchr(jwt, '.'), *dot2 = strchr(dot1 + 1, '.');
    char *enc;
    size_t n;

    /* Same signature, claims changed to another role. */
    claims = part_of(jwt, 1);
    memcpy(strstr(claims, "R8000"), "R0001", 5);
    enc = b64url((unsigned char *)claims, strlen(claims));
    n = strlen(jwt) + 64;
    forged = malloc(n);
    snprintf(forged, n, "%.*s.%s%s", (int)(dot1 - jwt), jwt, enc, dot2);
    CHECK_REFUSED_S(k, forged, "token signature is not valid");

    /* One character of the claims changed. */
    snprintf(forged, n, "%s", jwt);
    forged[dot1 - jwt + 5] = forged[dot1 - jwt + 5] == 'A' ? 'B' : 'A';
    CHECK_REFUSED_S(k, forged, "token signature is not valid");

    /* The header changed (kid dropped: own key is assumed, still bad). */
    {
        char *h = b64url((const unsigned char *)"{\"alg\":\"EdDSA\"}", 15);
        snprintf(forged, n, "%s%s", h, dot1);
        CHECK_REFUSED_S(k, forged, "token signature is not valid");
        free(h);
    }
    free(enc);
    free(claims);
    free(forged);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(tampered_signature_refused)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice();
    char *jwt = mint(k, &p, 600);
    char *sig = strrchr(jwt, '.') + 1;
    size_t n = strlen(jwt);
    char saved;

    saved = sig[10];
    sig[10] = saved == 'A' ? 'B' : 'A';
    CHECK_REFUSED(k, jwt, n, now_s(), "token signature is not valid");
    sig[10] = saved;

    /* The last character of 86 carries 4 unused bits: changing only those
     * must not give a second valid spelling of the same token. */
    saved = jwt[n - 1];
    CHECK(strchr("AQgw", saved) != NULL);
    jwt[n - 1] = saved == 'A' ? 'B' : saved == 'Q' ? 'R' : saved == 'g' ? 'h'
                                                                         : 'x';
    CHECK_REFUSED(k, jwt, n, now_s(), "token signature is not valid");
    jwt[n - 1] = saved;

    /* Truncated, extended, removed. */
    CHECK_REFUSED(k, jwt, n - 1, now_s(), "token signature is not valid");
    CHECK_REFUSED(k, jwt, (size_t)(sig - jwt), now_s(), "not signed");
    {
        struct cr_principal got;
        CHECK_EQ_INT(cr_token_verify(k, jwt, n, now_s(), &got, NULL), CR_OK);
    }
    free(jwt);
    cr_token_keys_close(k);
}

TEST(alg_none_refused)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    const char *hdr = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    const char *claims = claims_with(NULL, NULL);
    char *h = b64url((const unsigned char *)hdr, strlen(hdr));
    char *c = b64url((const unsigned char *)claims, strlen(claims));
    char tok[4096];

    snprintf(tok, sizeof tok, "%s.%s.", h, c);
    CHECK_REFUSED_S(k, tok, "token algorithm 'none' is not accepted; use EdDSA");
    snprintf(tok, sizeof tok, "%s.%s", h, c);
    CHECK_REFUSED_S(k, tok, "expected three base64url parts");
    free(h);
    free(c);

    /* Even with a real signature over it. */
    h = sign_raw(dir, "{\"alg\":\"none\"}", claims);
    CHECK_REFUSED_S(k, h, "'none' is not accepted");
    free(h);
    h = sign_raw(dir, "{\"alg\":\"NONE\"}", claims);
    CHECK_REFUSED_S(k, h, "'NONE' is not accepted");
    free(h);
    h = sign_raw(dir, "{\"typ\":\"JWT\"}", claims);
    CHECK_REFUSED_S(k, h, "no 'alg'");
    free(h);
    h = sign_raw(dir, "{\"alg\":null}", claims);
    CHECK_REFUSED_S(k, h, "'alg' must be a string");
    free(h);
    cr_token_keys_close(k);
}

TEST(alg_hs256_refused)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *claims = claims_with(NULL, NULL);
    char *h = b64url((const unsigned char *)hdr, strlen(hdr));
    char *c = b64url((const unsigned char *)claims, strlen(claims));
    char *pem = NULL, *s;
    unsigned char mac[32];
    unsigned int maclen = 0;
    char tok[4096];

    /* The classic key-confusion attack: HMAC keyed with the public key. */
    CHECK(cr_token_keys_public_pem(k, &pem, NULL) == CR_OK);
    snprintf(tok, sizeof tok, "%s.%s", h, c);
    CHECK(HMAC(EVP_sha256(), pem, (int)strlen(pem), (unsigned char *)tok,
               strlen(tok), mac, &maclen) != NULL);
    s = b64url(mac, maclen);
    snprintf(tok + strlen(tok), sizeof tok - strlen(tok), ".%s", s);
    CHECK_REFUSED_S(k, tok, "token algorithm 'HS256' is not accepted");
    free(s);
    free(h);
    free(c);
    free(pem);

    h = sign_raw(dir, "{\"alg\":\"ES256\",\"kid\":\"x\"}", claims);
    CHECK_REFUSED_S(k, h, "'ES256' is not accepted");
    free(h);
    cr_token_keys_close(k);
}

TEST(header_rules)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    const char *claims = claims_with(NULL, NULL);
    struct cr_principal got;
    char hdr[256], *t;

    /* No kid: the node's own key is used. */
    t = sign_raw(dir, "{\"alg\":\"EdDSA\"}", claims);
    CHECK_EQ_INT(cr_token_verify(k, t, strlen(t), now_s(), &got, NULL), CR_OK);
    free(t);

    t = sign_raw(dir, "{\"alg\":\"EdDSA\",\"typ\":\"JOSE+JSON\"}", claims);
    CHECK_REFUSED_S(k, t, "'typ'");
    free(t);

    snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"crit\":[\"b64\"]}",
             cr_token_keys_kid(k));
    t = sign_raw(dir, hdr, claims);
    CHECK_REFUSED_S(k, t, "'crit'");
    free(t);

    t = sign_raw(dir, "{\"alg\":\"EdDSA\",\"kid\":\"0123456789abcdef\"}", claims);
    CHECK_REFUSED_S(k, t, "key '0123456789abcdef', which this node does not trust");
    free(t);

    t = sign_raw(dir, "{\"alg\":\"EdDSA\",\"kid\":7}", claims);
    CHECK_REFUSED_S(k, t, "'kid' must be a string");
    free(t);

    t = sign_raw(dir, "{\"alg\":\"EdDSA\",\"alg\":\"none\"}", claims);
    CHECK_REFUSED_S(k, t, "not valid JSON");
    free(t);

    t = sign_raw(dir, "[\"EdDSA\"]", claims);
    CHECK_REFUSED_S(k, t, "header is not a JSON object");
    free(t);
    cr_token_keys_close(k);
}

TEST(other_key_pair_refused)
{
    const char *da = subdir("a"), *db = subdir("b");
    struct cr_keys *a = open_keys(da), *b = open_keys(db);
    struct cr_principal p = alice();
    char *jwt = mint(b, &p, 600), *t;

    CHECK_REFUSED_S(a, jwt, "which this node does not trust");

    /* Signed by b but claiming a's key id. */
    t = sign_raw(db, hdr_for(a), claims_with(NULL, NULL));
    CHECK_REFUSED_S(a, t, "token signature is not valid");
    free(t);
    free(jwt);
    cr_token_keys_close(a);
    cr_token_keys_close(b);
}

TEST(expired_refused)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    struct cr_err err = { 0 };
    char *jwt = mint(k, &p, 60);
    int64_t t0 = now_s();

    CHECK_REFUSED(k, jwt, strlen(jwt), t0 + 3600, "token has expired at ");
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), t0 + 3600, &got, &err),
                 CR_EAUTH);
    CHECK_EQ_STR(err.code, "login");
    /* exp == now is expired already. */
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), t0 + 61, &got, &err),
                 CR_EAUTH);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(iat_in_future_refused)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    struct cr_principal got;
    char claims[512], *t;
    long long now = (long long)now_s();

    snprintf(claims, sizeof claims,
             "{\"sub\":\"u\",\"name\":\"n\",\"org\":\"RR8\",\"role\":\"R8000\","
             "\"purpose\":\"audit\",\"iat\":%lld,\"exp\":%lld}",
             now + 120, now + 600);
    t = sign_raw(dir, hdr_for(k), claims);
    CHECK_REFUSED_S(k, t, "issued in the future");
    free(t);

    snprintf(claims, sizeof claims,
             "{\"sub\":\"u\",\"name\":\"n\",\"org\":\"RR8\",\"role\":\"R8000\","
             "\"purpose\":\"audit\",\"iat\":%lld,\"exp\":%lld}",
             now + 30, now + 600);
    t = sign_raw(dir, hdr_for(k), claims);
    CHECK_EQ_INT(cr_token_verify(k, t, strlen(t), now_s(), &got, NULL), CR_OK);
    free(t);

    snprintf(claims, sizeof claims,
             "{\"sub\":\"u\",\"name\":\"n\",\"org\":\"RR8\",\"role\":\"R8000\","
             "\"purpose\":\"audit\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
             now, now + 300, now + 600);
    t = sign_raw(dir, hdr_for(k), claims);
    CHECK_REFUSED_S(k, t, "not valid before");
    free(t);
    cr_token_keys_close(k);
}

TEST(missing_claims_refused)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    static const char *names[] = { "sub", "name", "org", "role", "purpose",
                                   "exp" };
    char want[64], *t;
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        t = sign_raw(dir, hdr_for(k), claims_with(names[i], NULL));
        snprintf(want, sizeof want, "token claim '%s' is missing", names[i]);
        CHECK_REFUSED_S(k, t, want);
        free(t);
    }
    t = sign_raw(dir, hdr_for(k),
                 "{\"sub\":\"u\",\"name\":\"n\",\"org\":\"RR8\",\"role\":"
                 "\"R8000\",\"purpose\":\"audit\",\"exp\":99999999999}");
    CHECK_REFUSED_S(k, t, "token claim 'iat' is missing");
    free(t);
    cr_token_keys_close(k);
}

TEST(bad_claims_refused)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_keys *k = open_keys(dir);
    struct cr_principal got;
    static const struct {
        const char *claims_json;
        const char *want;
    } cases[] = {
        { "{\"purpose\":\"curiosity\"", "token claim 'purpose' must be one of" },
        { "{\"purpose\":\"\"", "token claim 'purpose'" },
        { "{\"role\":\"doctor\"", "token claim 'role' must be an SDS job role" },
        { "{\"role\":8000", "token claim 'role' must be a string" },
        { "{\"org\":\"rr8\"", "token claim 'org' must be an ODS code" },
        { "{\"sub\":null", "token claim 'sub' must be a string" },
        { "{\"sub\":[\"a\"]", "token claim 'sub' must be a string" },
        { "{\"name\":\"a\\nb\"", "'name' contains control characters" },
        { "{\"patient\":\"123\"", "token claim 'patient' must be an NHS number" },
        { "{\"patient\":\"\"", "token claim 'patient' must be an NHS number" },
        { "{\"patient\":\"90000000O9\"", "'patient' must be an NHS number" },
        { "{\"patient\":9000000009", "token claim 'patient' must be a string" },
        { "{\"reason\":1", "token claim 'reason' must be a string" },
        { "{\"iss\":{}", "token claim 'iss' must be a string" },
    };
    char claims[4096], *t;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Put the bad claim first; the rest follow (duplicates would be
         * refused for another reason, so the good one is omitted). */
        const char *name = cases[i].claims_json + 2;
        char field[16];
        const char *base;
        size_t n = (size_t)(strchr(name, '"') - name);
        snprintf(field, sizeof field, "%.*s", (int)n, name);
        base = claims_with(field, NULL);
        snprintf(claims, sizeof claims, "%s,%s", cases[i].claims_json,
                 base + 1);
        t = sign_raw(dir, hdr_for(k), claims);
        CHECK_REFUSED_S(k, t, cases[i].want);
        free(t);
    }

    /* Oversized claims. */
    {
        char big[300];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        snprintf(claims, sizeof claims, "{\"sub\":\"%.128s\",%s", big,
                 claims_with("sub", NULL) + 1);
        t = sign_raw(dir, hdr_for(k), claims);
        CHECK_REFUSED_S(k, t, "token claim 'sub' is too long");
        free(t);
        snprintf(claims, sizeof claims, "{\"reason\":\"%s\",%s", big,
                 claims_with(NULL, NULL) + 1);
        t = sign_raw(dir, hdr_for(k), claims);
        CHECK_REFUSED_S(k, t, "token claim 'reason' is too long");
        free(t);
        /* 127 bytes fit exactly. */
        snprintf(claims, sizeof claims, "{\"sub\":\"%.127s\",%s", big,
                 claims_with("sub", NULL) + 1);
        t = sign_raw(dir, hdr_for(k), claims);
        CHECK_EQ_INT(cr_token_verify(k, t, strlen(t), now_s(), &got, NULL),
                     CR_OK);
        CHECK_EQ_INT(strlen(got.sub), 127);
        free(t);
    }

    /* Times of the wrong type or range. */
    t = sign_raw(dir, hdr_for(k), claims_with("exp", ",\"exp\":1.5e12"));
    CHECK_REFUSED_S(k, t, "'exp' must be an integer");
    free(t);
    t = sign_raw(dir, hdr_for(k), claims_with("exp", ",\"exp\":\"tomorrow\""));
    CHECK_REFUSED_S(k, t, "'exp' must be an integer");
    free(t);
    t = sign_raw(dir, hdr_for(k),
                 claims_with("exp", ",\"exp\":9223372036854775807"));
    CHECK_REFUSED_S(k, t, "'exp' is out of range");
    free(t);
    t = sign_raw(dir, hdr_for(k), claims_with("exp", ",\"exp\":-5"));
    CHECK_REFUSED_S(k, t, "'exp' is out of range");
    free(t);

    /* Duplicate claims: which one would count? Neither. */
    t = sign_raw(dir, hdr_for(k),
                 claims_with(NULL, ",\"purpose\":\"emergency\""));
    CHECK_REFUSED_S(k, t, "claims is not valid JSON");
    free(t);

    /* Unknown claims are ignored. */
    t = sign_raw(dir, hdr_for(k), claims_with(NULL, ",\"scope\":\"x\""));
    CHECK_EQ_INT(cr_token_verify(k, t, strlen(t), now_s(), &got, NULL), CR_OK);
    free(t);
    cr_token_keys_close(k);
}

TEST(garbage_refused)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    static const char *bad[] = {
        "", ".", "..", "...", "a.b.c", "a.b", "a.b.c.d", "abc", "Bearer x",
        "eyJhbGciOiJFZERTQSJ9..", "eyJhbGciOiJFZERTQSJ9.e30.",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA", "e30=.e30.e30", "e30.e30.e3",
        "e 30.e30.e30", "bnVsbA.bnVsbA.bnVsbA", "W10.W10.W10",
        "IjEi.IjEi.IjEi", "eyJh.eyJh.eyJh",
    };
    char *big, *jwt;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cr_err err = { 0 };
        CHECK_EQ_INT(cr_token_verify(k, bad[i], strlen(bad[i]), now_s(), &got,
                                     &err),
                     CR_EAUTH);
        CHECK(strncmp(err.msg, "token ", 6) == 0);
    }
    CHECK_EQ_INT(cr_token_verify(k, NULL, 0, now_s(), &got, NULL), CR_EAUTH);
    CHECK_REFUSED_S(k, "a.b.c", "token is malformed");
    CHECK_REFUSED_S(k, "..", "expected three base64url parts");

    /* Huge. */
    big = malloc(1 << 20);
    memset(big, 'A', 1 << 20);
    big[100] = '.';
    big[200] = '.';
    CHECK_REFUSED(k, big, 1 << 20, now_s(), "token is too long");
    CHECK_REFUSED(k, big, CR_TOKEN_MAX_LEN + 1, now_s(), "token is too long");
    CHECK_REFUSED(k, big, CR_TOKEN_MAX_LEN, now_s(), "token is malformed");

    /* A valid token followed by a NUL or junk. */
    jwt = mint(k, &p, 60);
    memcpy(big, jwt, strlen(jwt) + 1);
    CHECK_REFUSED(k, big, strlen(jwt) + 1, now_s(), "token signature");
    CHECK_REFUSED(k, big, strlen(jwt) - 1, now_s(), "token signature");
    /* Every prefix of a valid token is refused and none crashes. */
    for (i = 0; i < strlen(jwt); i++)
        CHECK_EQ_INT(cr_token_verify(k, jwt, i, now_s(), &got, NULL), CR_EAUTH);
    /* Every single-byte change too. */
    for (i = 0; i < strlen(jwt); i++) {
        char c = big[i];
        big[i] = (char)(c ^ 0x01);
        CHECK_EQ_INT(cr_token_verify(k, big, strlen(jwt), now_s(), &got, NULL),
                     CR_EAUTH);
        big[i] = c;
    }
    /* Random bytes. */
    srand(42);
    for (i = 0; i < 2000; i++) {
        size_t n = (size_t)rand() % 400, j;
        for (j = 0; j < n; j++)
            big[j] = (char)(rand() % 4 == 0 ? '.' : rand());
        CHECK_EQ_INT(cr_token_verify(k, big, n, now_s(), &got, NULL), CR_EAUTH);
    }
    free(jwt);
    free(big);
    cr_token_keys_close(k);
}

/* ---- cache ------------------------------------------------------------ */

TEST(cache_hit_counted)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got1, got2;
    char *jwt = mint(k, &p, 600);
    uint64_t hits = 99, misses = 99;

    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits, 0);
    CHECK_EQ_INT(misses, 0);
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), now_s(), &got1, NULL),
                 CR_OK);
    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits, 0);
    CHECK_EQ_INT(misses, 1);
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), now_s(), &got2, NULL),
                 CR_OK);
    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits, 1);
    CHECK_EQ_INT(misses, 1);
    CHECK(memcmp(&got1, &got2, sizeof got1) == 0);
    cr_token_cache_stats(k, NULL, NULL);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(failures_not_cached)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice();
    char *jwt = mint(k, &p, 600);
    char *sig = strrchr(jwt, '.') + 1;
    uint64_t hits, misses;

    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    CHECK_REFUSED_S(k, jwt, "signature is not valid");
    CHECK_REFUSED_S(k, jwt, "signature is not valid");
    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits, 0);
    CHECK_EQ_INT(misses, 2);
    free(jwt);
    cr_token_keys_close(k);
}

TEST(expired_refused_even_when_cached)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    char *jwt = mint(k, &p, 60);
    int64_t t0 = now_s();
    uint64_t hits, misses;

    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), t0, &got, NULL), CR_OK);
    CHECK_REFUSED(k, jwt, strlen(jwt), t0 + 120, "token has expired");
    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits, 1); /* the refusal came from the cache */
    CHECK_EQ_INT(misses, 1);
    /* And still fine earlier (the entry was not corrupted). */
    CHECK_EQ_INT(cr_token_verify(k, jwt, strlen(jwt), t0, &got, NULL), CR_OK);
    CHECK_EQ_STR(got.sub, "user-0001");
    free(jwt);
    cr_token_keys_close(k);
}

TEST(cache_survives_eviction)
{
    struct cr_keys *k = open_keys(cr_unit_tmpdir());
    struct cr_principal p = alice(), got;
    enum { N = 6000 };
    static char *jwts[N];
    uint64_t hits, misses;
    int i;

    for (i = 0; i < N; i++) {
        snprintf(p.sub, sizeof p.sub, "user-%d", i);
        jwts[i] = mint(k, &p, 600);
        CHECK_EQ_INT(cr_token_verify(k, jwts[i], strlen(jwts[i]), now_s(),
                                     &got, NULL),
                     CR_OK);
    }
    for (i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "user-%d", i);
        CHECK_EQ_INT(cr_token_verify(k, jwts[i], strlen(jwts[i]), now_s(),
                                     &got, NULL),
                     CR_OK);
        CHECK_EQ_STR(got.sub, want);
        free(jwts[i]);
    }
    cr_token_cache_stats(k, &hits, &misses);
    CHECK_EQ_INT(hits + misses, 2 * N);
    CHECK(hits > 1000);          /* many still cached ... */
    CHECK(misses > N);           /* ... but not all: 4096 slots */
    cr_token_keys_close(k);
}

struct race {
    struct cr_keys *k;
    char *jwt[8];
    int bad;
};

static void *
verify_thread(void *arg)
{
    struct race *r = arg;
    struct cr_principal got;
    int i;

    for (i = 0; i < 3000; i++) {
        const char *t = r->jwt[i % 8];
        if (cr_token_verify(r->k, t, strlen(t), now_s(), &got, NULL) != CR_OK ||
            strncmp(got.sub, "user-", 5) != 0)
            r->bad = 1;
    }
    return NULL;
}

TEST(verify_is_thread_safe)
{
    const char *da = subdir("a"), *db = subdir("b");
    struct race r = { 0 };
    struct cr_keys *b = open_keys(db);
    struct cr_principal p = alice();
    pthread_t t[4];
    char *pem = NULL;
    int i;

    r.k = open_keys(da);
    for (i = 0; i < 8; i++) {
        snprintf(p.sub, sizeof p.sub, "user-%d", i);
        r.jwt[i] = mint(r.k, &p, 600);
    }
    CHECK(cr_token_keys_public_pem(b, &pem, NULL) == CR_OK);
    for (i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, verify_thread, &r) == 0);
    CHECK_EQ_INT(cr_token_keys_add_trusted(r.k, pem, "node-b", NULL), CR_OK);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(r.bad, 0);
    for (i = 0; i < 8; i++)
        free(r.jwt[i]);
    free(pem);
    cr_token_keys_close(r.k);
    cr_token_keys_close(b);
}

/* ---- trusted keys (federation) ---------------------------------------- */

TEST(trusted_extra_key_accepted)
{
    const char *da = subdir("a"), *db = subdir("b");
    struct cr_keys *a = open_keys(da), *b = open_keys(db);
    struct cr_principal p = alice(), got;
    struct cr_err err = { 0 };
    char *pem = NULL, *jwt, *t, claims[1024];

    jwt = mint(b, &p, 600);
    CHECK_REFUSED_S(a, jwt, "does not trust");
    CHECK(cr_token_keys_public_pem(b, &pem, NULL) == CR_OK);
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, pem, "node-b", &err), CR_OK);
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, pem, "node-b", &err), CR_OK);
    CHECK_EQ_INT(cr_token_verify(a, jwt, strlen(jwt), now_s(), &got, &err),
                 CR_OK);
    CHECK_EQ_STR(got.sub, "user-0001");
    CHECK_EQ_STR(got.iss, "node-b"); /* filled in from the key's label */
    free(jwt);

    /* b may say it is node-b, but not that it is node-c. */
    snprintf(p.iss, sizeof p.iss, "%s", "node-b");
    jwt = mint(b, &p, 600);
    CHECK_EQ_INT(cr_token_verify(a, jwt, strlen(jwt), now_s(), &got, &err),
                 CR_OK);
    free(jwt);
    snprintf(p.iss, sizeof p.iss, "%s", "node-c");
    jwt = mint(b, &p, 600);
    CHECK_REFUSED_S(a, jwt, "signed with the key of node 'node-b'");
    free(jwt);

    /* Our own key is implicitly trusted; adding it is a no-op. */
    free(pem);
    CHECK(cr_token_keys_public_pem(a, &pem, NULL) == CR_OK);
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, pem, "me", &err), CR_OK);
    free(pem);

    /* Bad input. */
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, "not a key", "x", &err),
                 CR_EINVAL);
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, NULL, "x", &err), CR_EINVAL);
    {
        EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        BIO *bio = BIO_new(BIO_s_mem());
        char *mem = NULL, *copy;
        long n;
        CHECK(ec && bio && PEM_write_bio_PUBKEY(bio, ec) == 1);
        n = BIO_get_mem_data(bio, &mem);
        copy = calloc(1, (size_t)n + 1);
        memcpy(copy, mem, (size_t)n);
        CHECK_EQ_INT(cr_token_keys_add_trusted(a, copy, "x", &err), CR_EINVAL);
        CHECK(strstr(err.msg, "not an Ed25519 key") != NULL);
        free(copy);
        BIO_free(bio);
        EVP_PKEY_free(ec);
    }

    /* A peer's key with a crafted claim set, via sign_raw. */
    snprintf(claims, sizeof claims, "%s", claims_with(NULL, NULL));
    t = sign_raw(db, hdr_for(b), claims);
    CHECK_EQ_INT(cr_token_verify(a, t, strlen(t), now_s(), &got, &err), CR_OK);
    free(t);
    cr_token_keys_close(a);
    cr_token_keys_close(b);
}

/* A node token: a peer calls on a user's behalf ('via' its own id), and
 * may vouch for a care relationship ('care'). Only that peer's key may
 * sign it. */
TEST(node_token_via_and_care)
{
    const char *da = subdir("a"), *db = subdir("b");
    struct cr_keys *a = open_keys(da), *b = open_keys(db);
    struct cr_principal p = alice(), got;
    struct cr_err err = { 0 };
    char *pem = NULL, *jwt, *none = (char *)&none;

    CHECK(cr_token_keys_public_pem(b, &pem, NULL) == CR_OK);
    CHECK_EQ_INT(cr_token_keys_add_trusted(a, pem, "sel", &err), CR_OK);
    free(pem);

    snprintf(p.iss, sizeof p.iss, "%s", "sel");
    snprintf(p.via, sizeof p.via, "%s", "sel");
    snprintf(p.care, sizeof p.care, "%s", "9000000009");
    jwt = mint(b, &p, 60);
    CHECK_EQ_INT(cr_token_verify(a, jwt, strlen(jwt), now_s(), &got, &err),
                 CR_OK);
    CHECK_EQ_STR(got.via, "sel");
    CHECK_EQ_STR(got.care, "9000000009");
    CHECK_EQ_STR(got.sub, "user-0001");
    free(jwt);

    /* The peer may not claim to call as another node. */
    snprintf(p.iss, sizeof p.iss, "%s", "");
    snprintf(p.via, sizeof p.via, "%s", "ncl");
    jwt = mint(b, &p, 60);
    CHECK_REFUSED_S(a, jwt, "not signed with that peer's key");
    free(jwt);

    /* A token signed with the node's own key is never a node token. */
    snprintf(p.via, sizeof p.via, "%s", "sel");
    jwt = mint(a, &p, 60);
    CHECK_REFUSED_S(a, jwt, "not signed with that peer's key");
    free(jwt);

    /* 'care' needs 'via', and is an NHS number. */
    snprintf(p.via, sizeof p.via, "%s", "");
    CHECK_EQ_INT(cr_token_mint(b, &p, 60, &none, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "only accepted in a node's token") != NULL);
    snprintf(p.via, sizeof p.via, "%s", "sel");
    snprintf(p.care, sizeof p.care, "%s", "12345");
    CHECK_EQ_INT(cr_token_mint(b, &p, 60, &none, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "'care' must be an NHS number") != NULL);

    /* A user token signed by the peer's key is not a node token. */
    p = alice();
    jwt = mint(b, &p, 600);
    CHECK_EQ_INT(cr_token_verify(a, jwt, strlen(jwt), now_s(), &got, &err),
                 CR_OK);
    CHECK_EQ_STR(got.via, "");
    CHECK_EQ_STR(got.iss, "sel");
    free(jwt);
    cr_token_keys_close(a);
    cr_token_keys_close(b);
}

TEST(trusted_key_limit)
{
    struct cr_keys *a = open_keys(cr_unit_tmpdir());
    struct cr_err err = { 0 };
    int i;

    for (i = 0; i <= CR_TOKEN_MAX_TRUSTED; i++) {
        EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        BIO *bio = BIO_new(BIO_s_mem());
        char *mem = NULL, *copy;
        long n;
        CHECK(pk && bio && PEM_write_bio_PUBKEY(bio, pk) == 1);
        n = BIO_get_mem_data(bio, &mem);
        copy = calloc(1, (size_t)n + 1);
        memcpy(copy, mem, (size_t)n);
        CHECK_EQ_INT(cr_token_keys_add_trusted(a, copy, "peer", &err),
                     i < CR_TOKEN_MAX_TRUSTED ? CR_OK : CR_ETOOBIG);
        free(copy);
        BIO_free(bio);
        EVP_PKEY_free(pk);
    }
    cr_token_keys_close(a);
}

TEST(verify_only_keys)
{
    struct cr_keys *a = open_keys(cr_unit_tmpdir()), *v = NULL;
    struct cr_principal p = alice(), got;
    struct cr_err err = { 0 };
    char *pem = NULL, *jwt = mint(a, &p, 600), *none = (char *)&none;

    CHECK(cr_token_keys_public_pem(a, &pem, NULL) == CR_OK);
    CHECK_EQ_INT(cr_token_keys_from_public_pem(pem, &v, &err), CR_OK);
    CHECK_EQ_STR(cr_token_keys_kid(v), cr_token_keys_kid(a));
    CHECK_EQ_INT(cr_token_verify(v, jwt, strlen(jwt), now_s(), &got, &err),
                 CR_OK);
    CHECK_EQ_INT(cr_token_mint(v, &p, 60, &none, &err), CR_EINVAL);
    CHECK(none == NULL);
    cr_token_keys_close(v);
    CHECK_EQ_INT(cr_token_keys_from_public_pem("junk", &v, &err), CR_EINVAL);
    CHECK(v == NULL);
    free(pem);
    free(jwt);
    cr_token_keys_close(a);
}
