/* token.c: EdDSA (Ed25519) JSON Web Tokens: node keys, minting, verifying
 * and the verification cache.
 *
 * Keys and signatures are OpenSSL 3 EVP; JSON is jansson; base64url is
 * written here because it is an encoding, not cryptography. Verification
 * checks, in order: length, shape (three parts), header (alg, typ, crit,
 * kid), signature, then the claims; so the claims JSON of a token is parsed
 * only once its signature is known to be good. Depends on core/err.h,
 * core/buf.h, core/clock.h, access/principal.h, libcrypto, jansson and
 * pthreads. See docs/internals/token.md. */
#include "access/token.h"

#include "core/buf.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define SIG_LEN 64              /* an Ed25519 signature */
#define HASH_LEN 32             /* SHA-256 */
#define KEY_FILE "node-key.pem"
#define PUB_FILE "node-key.pub.pem"
#define KEY_FILE_MAX 65536      /* a PEM key is a few hundred bytes */
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* The verification cache: CACHE_SETS sets of CACHE_WAYS entries, indexed by
 * the token's SHA-256, each set guarded by one of CACHE_STRIPES mutexes. */
#define CACHE_SETS 2048
#define CACHE_WAYS 2
#define CACHE_STRIPES 64

/* The largest decoded header or claims part of a token. */
#define PART_MAX (CR_TOKEN_MAX_LEN / 4 * 3 + 3)

struct key {
    EVP_PKEY *pkey;
    char kid[CR_TOKEN_KID_LEN + 1];
    char label[64];
    bool is_own;
};

struct cache_entry {
    unsigned char hash[HASH_LEN];
    bool is_used;
    int64_t nbf;               /* 0 when the token had none */
    struct cr_principal p;
};

struct cache_set {
    struct cache_entry way[CACHE_WAYS];
    unsigned char victim;      /* the way to replace next (least recent) */
};

struct cr_keys {
    EVP_PKEY *priv;            /* our private key; NULL when verify-only */
    EVP_MD *sha256;
    struct key own;            /* our key; own.pkey may be == priv */

    /* Trusted peers' keys. Entries below 'ntrusted' never change once
     * published, so readers need no lock; writers hold trust_lock. */
    pthread_mutex_t trust_lock;
    struct key trusted[CR_TOKEN_MAX_TRUSTED];
    atomic_size_t ntrusted;

    pthread_mutex_t stripe[CACHE_STRIPES];
    struct cache_set *sets;
    atomic_uint_least64_t hits;
    atomic_uint_least64_t misses;
};

/* ---- small helpers ---------------------------------------------------- */

/* Copy at most 40 bytes of 's' for showing in a message: printable ASCII
 * kept, anything else shown as '?', so attacker-chosen text cannot forge
 * log lines or blow up a message. */
static void
shown(const char *s, size_t n, char *out, size_t size)
{
    size_t i, o = 0, max = n > 40 ? 40 : n;

    for (i = 0; i < max && o + 4 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (max < n && o + 4 <= size) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

/* 's' seconds since the epoch as "2026-11-21T10:05:04Z". */
static void
fmt_time(int64_t s, char *out, size_t size)
{
    time_t t = (time_t)s;
    struct tm tm;

    if (s < 0 || s > TIME_MAX || gmtime_r(&t, &tm) == NULL ||
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%lld (seconds since 1970)", (long long)s);
}

/* True when the 'n' bytes at 's' are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static bool
utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p++;
        unsigned need, cp, min;

        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) < need)
            return false;
        while (need--) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}

static bool
has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* ---- base64url (RFC 4648 section 5, no padding) ----------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64url_encode(struct cr_buf *b, const unsigned char *src, size_t n)
{
    char quad[4];
    size_t i;

    for (i = 0; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8 |
                     src[i + 2];
        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = b64_alphabet[(v >> 6) & 63];
        quad[3] = b64_alphabet[v & 63];
        cr_buf_add(b, quad, 4);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)src[i] << 16;
        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        cr_buf_add(b, quad, 2);
    } else if (n - i == 2) {
        unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8;
        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = b64_alphabet[(v >> 6) & 63];
        cr_buf_add(b, quad, 3);
    }
}

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decode 'n' base64url characters into 'dst' ('cap' bytes). Strict: no
 * padding, no whitespace, no other alphabet, and unused trailing bits must
 * be zero, so each byte string has exactly one encoding. Returns false on
 * any of those or when the result would not fit. */
static bool
b64url_decode(const char *src, size_t n, unsigned char *dst, size_t cap,
              size_t *out_len)
{
    size_t i, o = 0, rem = n % 4;
    size_t want = n / 4 * 3 + (rem == 2 ? 1 : rem == 3 ? 2 : 0);
    int v[4];

    if (rem == 1 || want > cap)
        return false;
    for (i = 0; i < n; i += 4) {
        size_t j, k = n - i < 4 ? n - i : 4;

        for (j = 0; j < k; j++) {
            v[j] = b64url_value((unsigned char)src[i + j]);
            if (v[j] < 0)
                return false;
        }
        if (k == 4) {
            unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
                         (unsigned)v[2] << 6 | (unsigned)v[3];
            dst[o++] = (unsigned char)(w >> 16);
            dst[o++] = (unsigned char)(w >> 8);
            dst[o++] = (unsigned char)w;
        } else if (k == 3) {
            if (v[2] & 3)
                return false;
            dst[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            dst[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        } else {
            if (v[1] & 15)
                return false;
            dst[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        }
    }
    *out_len = o;
    return true;
}

/* ---- keys ------------------------------------------------------------- */

/* Never ask for a passphrase (the default callback would prompt on the
 * terminal); node keys are not encrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/* The key id of 'pkey': first 16 hex chars of SHA-256(DER public key). */
static cr_rc
compute_kid(const EVP_MD *sha256, EVP_PKEY *pkey, char *out,
            struct cr_err *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char *der = NULL, md[HASH_LEN];
    int n, i;

    n = i2d_PUBKEY(pkey, &der);
    if (n <= 0) {
        ERR_clear_error();
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "could not encode the public key to compute its "
                          "key id");
    }
    if (EVP_Digest(der, (size_t)n, md, NULL, sha256, NULL) != 1) {
        OPENSSL_free(der);
        ERR_clear_error();
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "could not hash the public key");
    }
    OPENSSL_free(der);
    for (i = 0; i < CR_TOKEN_KID_LEN / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[CR_TOKEN_KID_LEN] = '\0';
    return CR_OK;
}

/* A new key set around 'pkey', which it takes (freed on error too). */
static cr_rc
keys_new_take(EVP_PKEY *pkey, bool has_private, struct cr_keys **out,
              struct cr_err *err)
{
    struct cr_keys *k;
    cr_rc rc;
    int i;

    *out = NULL;
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    }
    k->own.pkey = pkey;
    k->own.is_own = true;
    k->priv = has_private ? pkey : NULL;
    pthread_mutex_init(&k->trust_lock, NULL);
    for (i = 0; i < CACHE_STRIPES; i++)
        pthread_mutex_init(&k->stripe[i], NULL);
    atomic_init(&k->ntrusted, 0);
    atomic_init(&k->hits, 0);
    atomic_init(&k->misses, 0);
    k->sets = calloc(CACHE_SETS, sizeof *k->sets);
    k->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (k->sets == NULL || k->sha256 == NULL) {
        ERR_clear_error();
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL,
                        "out of memory (or OpenSSL has no SHA-256)");
        goto fail;
    }
    rc = compute_kid(k->sha256, pkey, k->own.kid, err);
    if (rc != CR_OK)
        goto fail;
    *out = k;
    return CR_OK;
fail:
    cr_token_keys_close(k);
    return rc;
}

void
cr_token_keys_close(struct cr_keys *k)
{
    size_t i, n;

    if (k == NULL)
        return;
    n = atomic_load(&k->ntrusted);
    for (i = 0; i < n; i++)
        EVP_PKEY_free(k->trusted[i].pkey);
    EVP_PKEY_free(k->own.pkey);
    EVP_MD_free(k->sha256);
    if (k->sets != NULL) {
        OPENSSL_cleanse(k->sets, CACHE_SETS * sizeof *k->sets);
        free(k->sets);
    }
    for (i = 0; i < CACHE_STRIPES; i++)
        pthread_mutex_destroy(&k->stripe[i]);
    pthread_mutex_destroy(&k->trust_lock);
    free(k);
}

const char *
cr_token_keys_kid(const struct cr_keys *k)
{
    return k->own.kid;
}

/* Parse an Ed25519 public key from PEM. */
static cr_rc
parse_public_pem(const char *pem, EVP_PKEY **out, struct cr_err *err)
{
    BIO *bio;
    EVP_PKEY *pkey;

    *out = NULL;
    if (pem == NULL)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "no public key was given");
    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (pkey == NULL)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "the public key is not a PEM \"PUBLIC KEY\" block");
    if (!EVP_PKEY_is_a(pkey, "ED25519")) {
        EVP_PKEY_free(pkey);
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "the public key is not an Ed25519 key; tokens are "
                          "signed with EdDSA (Ed25519) only");
    }
    *out = pkey;
    return CR_OK;
}

cr_rc
cr_token_keys_from_public_pem(const char *pem, struct cr_keys **out,
                              struct cr_err *err)
{
    EVP_PKEY *pkey = NULL;
    cr_rc rc;

    *out = NULL;
    rc = parse_public_pem(pem, &pkey, err);
    if (rc != CR_OK)
        return rc;
    return keys_new_take(pkey, false, out, err);
}

/* Read a whole small file. On success '*out' is heap memory of '*out_len'
 * bytes plus a NUL the caller frees (cleansed, since it may be a key).
 * CR_ENOTFOUND (no detail) when it does not exist. With 'is_private', also
 * refuse a file other users could read. */
static cr_rc
read_small_file(const char *path, bool is_private, char **out,
                size_t *out_len, struct cr_err *err)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    cr_rc rc = CR_OK;
    int fd;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return CR_ENOTFOUND;
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "cannot open %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "%s is not a regular file", path);
        goto out;
    }
    if (is_private && (st.st_mode & 077) != 0) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "node key %s can be read by other users (mode %03o); "
                        "run 'chmod 600 %s'",
                        path, (unsigned)(st.st_mode & 0777), path);
        goto out;
    }
    if (st.st_size > KEY_FILE_MAX) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "%s is too large (%lld bytes) to be a key file", path,
                        (long long)st.st_size);
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, data + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = cr_err_set(err, CR_EIO, "exception", NULL,
                            "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    data = NULL;
out:
    if (data != NULL) {
        OPENSSL_cleanse(data, (size_t)st.st_size + 1);
        free(data);
    }
    close(fd);
    return rc;
}

static void
free_secret(char *data, size_t len)
{
    if (data != NULL) {
        OPENSSL_cleanse(data, len);
        free(data);
    }
}

/* Load the private key at 'path'. CR_ENOTFOUND (no detail) when missing. */
static cr_rc
load_private(const char *path, EVP_PKEY **out, struct cr_err *err)
{
    char *data = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    cr_rc rc;

    *out = NULL;
    rc = read_small_file(path, true, &data, &len, err);
    if (rc != CR_OK)
        return rc;
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    ERR_clear_error();
    if (pkey == NULL) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "node key %s is not a readable PEM private key "
                        "(corrupt or encrypted?); move it away to have a new "
                        "key created, and give peers the new public key",
                        path);
        goto out;
    }
    if (!EVP_PKEY_is_a(pkey, "ED25519")) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "node key %s is a %s key, not an Ed25519 key", path,
                        EVP_PKEY_get0_type_name(pkey)
                            ? EVP_PKEY_get0_type_name(pkey)
                            : "different");
        goto out;
    }
    *out = pkey;
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    free_secret(data, len);
    return rc;
}

static cr_rc
write_all(int fd, const char *data, size_t len, const char *path,
          struct cr_err *err)
{
    size_t done = 0;

    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cr_err_set(err, CR_EIO, "exception", NULL,
                              "cannot write %s: %s", path,
                              w < 0 ? strerror(errno) : "no progress");
        done += (size_t)w;
    }
    return CR_OK;
}

/* Write 'data' to 'path' atomically: a temporary file beside it with
 * 'mode', fsync, then into place, then fsync the directory. With
 * 'is_exclusive' an existing 'path' is kept and CR_ECONFLICT (no detail)
 * returned, so that two processes creating a key agree on one. */
static cr_rc
write_atomic(const char *dir, const char *path, const char *data, size_t len,
             mode_t mode, bool is_exclusive, struct cr_err *err)
{
    char tmp[PATH_MAX];
    int fd = -1, dfd;
    bool has_tmp = false;
    cr_rc rc = CR_OK;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >=
        sizeof tmp)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "path %s is too long", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "cannot create a file in %s: %s", dir,
                          strerror(errno));
    has_tmp = true;
    if (fchmod(fd, mode) != 0) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL, "cannot chmod %s: %s",
                        tmp, strerror(errno));
        goto out;
    }
    rc = write_all(fd, data, len, tmp, err);
    if (rc != CR_OK)
        goto out;
    if (fsync(fd) != 0) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL, "cannot fsync %s: %s",
                        tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = cr_err_set(err, CR_EIO, "exception", NULL, "cannot close %s: %s",
                        tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (is_exclusive) {
        /* link() never replaces an existing file; fall back to rename() on
         * file systems without hard links. */
        if (link(tmp, path) != 0) {
            if (errno == EEXIST) {
                rc = CR_ECONFLICT;
                goto out;
            }
            if (rename(tmp, path) != 0) {
                rc = cr_err_set(err, CR_EIO, "exception", NULL,
                                "cannot create %s: %s", path,
                                strerror(errno));
                goto out;
            }
            has_tmp = false;
        }
    } else if (rename(tmp, path) != 0) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "cannot create %s: %s", path, strerror(errno));
        goto out;
    } else {
        has_tmp = false;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "cannot fsync directory %s: %s", dir,
                        strerror(errno));
    if (dfd >= 0)
        close(dfd);
out:
    if (fd >= 0)
        close(fd);
    if (has_tmp)
        unlink(tmp);
    return rc;
}

/* The PEM text of 'pkey's public or private half, as heap memory. */
static cr_rc
pem_of(EVP_PKEY *pkey, bool is_private, char **out, size_t *out_len,
       struct cr_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL, *copy;
    long n;
    int ok;

    *out = NULL;
    if (bio == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    ok = is_private
             ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
             : PEM_write_bio_PUBKEY(bio, pkey);
    n = BIO_get_mem_data(bio, &mem);
    if (ok != 1 || n <= 0 || mem == NULL) {
        BIO_free(bio);
        ERR_clear_error();
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "OpenSSL could not write the key as PEM");
    }
    copy = malloc((size_t)n + 1);
    if (copy != NULL) {
        memcpy(copy, mem, (size_t)n);
        copy[n] = '\0';
    }
    OPENSSL_cleanse(mem, (size_t)n);
    BIO_free(bio);
    if (copy == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    *out = copy;
    *out_len = (size_t)n;
    return CR_OK;
}

/* Create a new key at 'path', or load the one another process created
 * there first. */
static cr_rc
create_private(const char *dir, const char *path, EVP_PKEY **out,
               struct cr_err *err)
{
    EVP_PKEY *pkey;
    char *pem = NULL;
    size_t len = 0;
    cr_rc rc;

    *out = NULL;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pkey == NULL) {
        ERR_clear_error();
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "OpenSSL could not generate an Ed25519 key");
    }
    rc = pem_of(pkey, true, &pem, &len, err);
    if (rc == CR_OK)
        rc = write_atomic(dir, path, pem, len, 0600, true, err);
    free_secret(pem, len);
    if (rc == CR_ECONFLICT) {
        EVP_PKEY_free(pkey);
        return load_private(path, out, err);
    }
    if (rc != CR_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    *out = pkey;
    return CR_OK;
}

/* Make 'path' hold the public key of 'pkey', rewriting it when it is
 * missing or holds another key. */
static cr_rc
ensure_public_file(const char *dir, const char *path, EVP_PKEY *pkey,
                   struct cr_err *err)
{
    char *want = NULL, *have = NULL;
    size_t want_len = 0, have_len = 0;
    cr_rc rc;

    rc = pem_of(pkey, false, &want, &want_len, err);
    if (rc != CR_OK)
        return rc;
    rc = read_small_file(path, false, &have, &have_len, err);
    if (rc == CR_OK && have_len == want_len &&
        memcmp(have, want, want_len) == 0)
        goto out;
    if (rc != CR_OK && rc != CR_ENOTFOUND)
        goto out;
    rc = write_atomic(dir, path, want, want_len, 0644, false, err);
out:
    free(want);
    free(have);
    return rc;
}

cr_rc
cr_token_keys_open(const char *data_dir, struct cr_keys **out,
                   struct cr_err *err)
{
    char path[PATH_MAX], pubpath[PATH_MAX];
    struct stat st;
    EVP_PKEY *pkey = NULL;
    struct cr_keys *k = NULL;
    cr_rc rc;

    *out = NULL;
    if (data_dir == NULL || data_dir[0] == '\0')
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "no data directory was given for the node key");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", data_dir, KEY_FILE) >=
            sizeof path - 16 ||
        (size_t)snprintf(pubpath, sizeof pubpath, "%s/%s", data_dir,
                         PUB_FILE) >= sizeof pubpath - 16)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "data directory path %s is too long", data_dir);
    if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "data directory %s does not exist; create it first",
                          data_dir);
    rc = load_private(path, &pkey, err);
    if (rc == CR_ENOTFOUND)
        rc = create_private(data_dir, path, &pkey, err);
    if (rc != CR_OK)
        return rc;
    rc = keys_new_take(pkey, true, &k, err);
    if (rc != CR_OK)
        return rc;
    rc = ensure_public_file(data_dir, pubpath, k->own.pkey, err);
    if (rc != CR_OK) {
        cr_token_keys_close(k);
        return rc;
    }
    *out = k;
    return CR_OK;
}

cr_rc
cr_token_keys_public_pem(const struct cr_keys *k, char **out_pem,
                         struct cr_err *err)
{
    size_t len;

    return pem_of(k->own.pkey, false, out_pem, &len, err);
}

cr_rc
cr_token_keys_add_trusted(struct cr_keys *k, const char *pem,
                          const char *label, struct cr_err *err)
{
    EVP_PKEY *pkey = NULL;
    char kid[CR_TOKEN_KID_LEN + 1];
    size_t i, n;
    cr_rc rc;

    if (label == NULL)
        label = "";
    if (strlen(label) >= sizeof k->trusted[0].label || has_control(label))
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "a trusted key's label must be at most 63 bytes "
                          "without control characters");
    rc = parse_public_pem(pem, &pkey, err);
    if (rc != CR_OK)
        return rc;
    rc = compute_kid(k->sha256, pkey, kid, err);
    if (rc != CR_OK)
        goto out;
    pthread_mutex_lock(&k->trust_lock);
    n = atomic_load_explicit(&k->ntrusted, memory_order_relaxed);
    for (i = 0; i <= n; i++) {
        const struct key *have = i < n ? &k->trusted[i] : &k->own;
        if (strcmp(have->kid, kid) != 0)
            continue;
        if (EVP_PKEY_eq(have->pkey, pkey) != 1)
            rc = cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                            "key id %s is already used by another key", kid);
        goto unlock;
    }
    if (n >= CR_TOKEN_MAX_TRUSTED) {
        rc = cr_err_set(err, CR_ETOOBIG, "too-costly", NULL,
                        "at most %d trusted keys are supported",
                        CR_TOKEN_MAX_TRUSTED);
        goto unlock;
    }
    k->trusted[n].pkey = pkey;
    memcpy(k->trusted[n].kid, kid, sizeof kid);
    snprintf(k->trusted[n].label, sizeof k->trusted[n].label, "%s", label);
    k->trusted[n].is_own = false;
    pkey = NULL;
    /* Publish the entry only once it is complete. */
    atomic_store_explicit(&k->ntrusted, n + 1, memory_order_release);
unlock:
    pthread_mutex_unlock(&k->trust_lock);
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return rc;
}

/* The key whose kid is the 'n' bytes at 'kid', or NULL. */
static const struct key *
find_key(const struct cr_keys *k, const char *kid, size_t n)
{
    size_t i, count;

    if (n == CR_TOKEN_KID_LEN && memcmp(k->own.kid, kid, n) == 0)
        return &k->own;
    count = atomic_load_explicit(&k->ntrusted, memory_order_acquire);
    for (i = 0; i < count; i++)
        if (n == CR_TOKEN_KID_LEN && memcmp(k->trusted[i].kid, kid, n) == 0)
            return &k->trusted[i];
    return NULL;
}

/* ---- claims ----------------------------------------------------------- */

/* Check the string claims of 'p' (shared by minting and verifying, which
 * report with different rc and code). */
static cr_rc
check_principal(const struct cr_principal *p, cr_rc bad, const char *code,
                struct cr_err *err)
{
    static const struct {
        const char *name;
        size_t off;
        bool is_required;
    } fields[] = {
        { "sub", offsetof(struct cr_principal, sub), true },
        { "name", offsetof(struct cr_principal, name), true },
        { "org", offsetof(struct cr_principal, org), true },
        { "role", offsetof(struct cr_principal, role), true },
        { "purpose", offsetof(struct cr_principal, purpose), true },
        { "patient", offsetof(struct cr_principal, patient), false },
        { "reason", offsetof(struct cr_principal, reason), false },
        { "iss", offsetof(struct cr_principal, iss), false },
        { "via", offsetof(struct cr_principal, via), false },
        { "care", offsetof(struct cr_principal, care), false },
    };
    char show[48];
    size_t i;

    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *s = (const char *)p + fields[i].off;
        if (fields[i].is_required && s[0] == '\0')
            return cr_err_set(err, bad, code, NULL,
                              "token claim '%s' is missing or empty",
                              fields[i].name);
        if (has_control(s))
            return cr_err_set(err, bad, code, NULL,
                              "token claim '%s' contains control characters",
                              fields[i].name);
        if (!utf8_valid(s, strlen(s)))
            return cr_err_set(err, bad, code, NULL,
                              "token claim '%s' is not valid UTF-8",
                              fields[i].name);
    }
    if (!cr_principal_org_valid(p->org)) {
        shown(p->org, strlen(p->org), show, sizeof show);
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'org' must be an ODS code (upper-case "
                          "letters and digits, e.g. RR8); it is '%s'",
                          show);
    }
    if (!cr_principal_role_valid(p->role)) {
        shown(p->role, strlen(p->role), show, sizeof show);
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'role' must be an SDS job role code "
                          "(a letter and four digits, e.g. R8000); it is '%s'",
                          show);
    }
    if (!cr_principal_purpose_valid(p->purpose)) {
        shown(p->purpose, strlen(p->purpose), show, sizeof show);
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'purpose' must be one of "
                          CR_PRINCIPAL_PURPOSES "; it is '%s'",
                          show);
    }
    if (p->patient[0] != '\0' && !cr_principal_nhs_number_valid(p->patient))
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'patient' must be an NHS number of "
                          "ten digits");
    if (p->care[0] != '\0' && !cr_principal_nhs_number_valid(p->care))
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'care' must be an NHS number of "
                          "ten digits");
    if (p->care[0] != '\0' && p->via[0] == '\0')
        return cr_err_set(err, bad, code, NULL,
                          "token claim 'care' is only accepted in a node's "
                          "token (with 'via')");
    return CR_OK;
}

cr_rc
cr_token_principal_check(const struct cr_principal *p, struct cr_err *err)
{
    return check_principal(p, CR_EINVAL, "value", err);
}

/* Copy string claim 'name' into 'dst' ('size' bytes). Absent optional
 * claims give "". A present but empty optional claim is kept as "present"
 * through '*is_present' so "patient": "" can be refused. */
static cr_rc
claim_str(json_t *claims, const char *name, bool is_required, char *dst,
          size_t size, bool *is_present, struct cr_err *err)
{
    json_t *v = json_object_get(claims, name);
    size_t n;

    dst[0] = '\0';
    if (is_present != NULL)
        *is_present = v != NULL;
    if (v == NULL) {
        if (is_required)
            return cr_err_set(err, CR_EAUTH, "security", NULL,
                              "token claim '%s' is missing", name);
        return CR_OK;
    }
    if (!json_is_string(v))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim '%s' must be a string", name);
    n = json_string_length(v);
    if (n >= size)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim '%s' is too long (%zu bytes; at most "
                          "%zu are accepted)",
                          name, n, size - 1);
    if (memchr(json_string_value(v), '\0', n) != NULL)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim '%s' contains control characters",
                          name);
    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0';
    return CR_OK;
}

/* Integer claim 'name' (seconds since the epoch) into '*out'. */
static cr_rc
claim_time(json_t *claims, const char *name, bool is_required, int64_t *out,
           struct cr_err *err)
{
    json_t *v = json_object_get(claims, name);
    json_int_t t;

    *out = 0;
    if (v == NULL) {
        if (is_required)
            return cr_err_set(err, CR_EAUTH, "security", NULL,
                              "token claim '%s' is missing; tokens must say "
                              "when they were issued and when they expire",
                              name);
        return CR_OK;
    }
    if (!json_is_integer(v))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim '%s' must be an integer number of "
                          "seconds since 1970",
                          name);
    t = json_integer_value(v);
    if (t < 0 || t > TIME_MAX)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim '%s' is out of range", name);
    *out = (int64_t)t;
    return CR_OK;
}

static cr_rc
claims_to_principal(json_t *claims, struct cr_principal *p, int64_t *nbf,
                    struct cr_err *err)
{
    bool has_patient = false;
    cr_rc rc;

    if ((rc = claim_str(claims, "sub", true, p->sub, sizeof p->sub, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "name", true, p->name, sizeof p->name, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "org", true, p->org, sizeof p->org, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "role", true, p->role, sizeof p->role, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "purpose", true, p->purpose,
                        sizeof p->purpose, NULL, err)) != CR_OK ||
        (rc = claim_str(claims, "patient", false, p->patient,
                        sizeof p->patient, &has_patient, err)) != CR_OK ||
        (rc = claim_str(claims, "reason", false, p->reason, sizeof p->reason,
                        NULL, err)) != CR_OK ||
        (rc = claim_str(claims, "iss", false, p->iss, sizeof p->iss, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "via", false, p->via, sizeof p->via, NULL,
                        err)) != CR_OK ||
        (rc = claim_str(claims, "care", false, p->care, sizeof p->care,
                        NULL, err)) != CR_OK ||
        (rc = claim_time(claims, "iat", true, &p->iat, err)) != CR_OK ||
        (rc = claim_time(claims, "exp", true, &p->exp, err)) != CR_OK ||
        (rc = claim_time(claims, "nbf", false, nbf, err)) != CR_OK)
        return rc;
    if (has_patient && p->patient[0] == '\0')
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim 'patient' must be an NHS number of "
                          "ten digits");
    if (p->exp < p->iat)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token claim 'exp' is before 'iat'");
    return check_principal(p, CR_EAUTH, "security", err);
}

/* The checks that depend on the time; run on every verification, cached
 * or not. */
static cr_rc
check_times(const struct cr_principal *p, int64_t nbf, int64_t now_s,
            struct cr_err *err)
{
    char t1[48], t2[48];

    if (p->exp <= now_s) {
        fmt_time(p->exp, t1, sizeof t1);
        return cr_err_set(err, CR_EAUTH, "login", NULL,
                          "token has expired at %s; get a new token", t1);
    }
    if (now_s < INT64_MAX - CR_TOKEN_IAT_SKEW &&
        p->iat > now_s + CR_TOKEN_IAT_SKEW) {
        fmt_time(p->iat, t1, sizeof t1);
        fmt_time(now_s, t2, sizeof t2);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token was issued in the future (iat %s, now %s); "
                          "check the clocks of this node and the issuer",
                          t1, t2);
    }
    if (nbf != 0 && now_s < INT64_MAX - CR_TOKEN_IAT_SKEW &&
        nbf > now_s + CR_TOKEN_IAT_SKEW) {
        fmt_time(nbf, t1, sizeof t1);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is not valid before %s", t1);
    }
    return CR_OK;
}

/* ---- minting ---------------------------------------------------------- */

/* Append the base64url of 'obj' serialised as compact JSON. */
static cr_rc
add_json_part(struct cr_buf *b, json_t *obj, struct cr_err *err)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

    if (s == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    b64url_encode(b, (const unsigned char *)s, strlen(s));
    free(s);
    return CR_OK;
}

static int
set_str(json_t *obj, const char *name, const char *value)
{
    return json_object_set_new(obj, name, json_string(value));
}

cr_rc
cr_token_mint(const struct cr_keys *k, const struct cr_principal *p,
              int64_t ttl_seconds, char **out_jwt, struct cr_err *err)
{
    struct cr_buf b = cr_buf_make(CR_TOKEN_MAX_LEN);
    json_t *hdr = NULL, *claims = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char sig[SIG_LEN];
    size_t sig_len = sizeof sig;
    int64_t now;
    cr_rc rc;

    *out_jwt = NULL;
    rc = cr_token_principal_check(p, err);
    if (rc != CR_OK)
        goto out;
    if (ttl_seconds < 1 || ttl_seconds > CR_TOKEN_MAX_TTL) {
        rc = cr_err_set(err, CR_EINVAL, "value", NULL,
                        "token lifetime must be 1 to %d seconds",
                        CR_TOKEN_MAX_TTL);
        goto out;
    }
    if (k->priv == NULL) {
        rc = cr_err_set(err, CR_EINVAL, "value", NULL,
                        "these keys hold no private key; they can only "
                        "verify tokens");
        goto out;
    }
    now = cr_clock_now_ms() / 1000;
    hdr = json_object();
    claims = json_object();
    if (hdr == NULL || claims == NULL || set_str(hdr, "alg", "EdDSA") ||
        set_str(hdr, "typ", "JWT") || set_str(hdr, "kid", k->own.kid) ||
        set_str(claims, "sub", p->sub) || set_str(claims, "name", p->name) ||
        set_str(claims, "org", p->org) || set_str(claims, "role", p->role) ||
        set_str(claims, "purpose", p->purpose) ||
        (p->patient[0] && set_str(claims, "patient", p->patient)) ||
        (p->reason[0] && set_str(claims, "reason", p->reason)) ||
        (p->iss[0] && set_str(claims, "iss", p->iss)) ||
        (p->via[0] && set_str(claims, "via", p->via)) ||
        (p->care[0] && set_str(claims, "care", p->care)) ||
        json_object_set_new(claims, "iat", json_integer(now)) ||
        json_object_set_new(claims, "exp",
                            json_integer(now + ttl_seconds))) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    if ((rc = add_json_part(&b, hdr, err)) != CR_OK)
        goto out;
    cr_buf_addc(&b, '.');
    if ((rc = add_json_part(&b, claims, err)) != CR_OK)
        goto out;
    if (b.rc != CR_OK)
        goto buf_failed;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL ||
        EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, k->priv, NULL) !=
            1 ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)b.ptr,
                       b.len) != 1 ||
        sig_len != SIG_LEN) {
        ERR_clear_error();
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "OpenSSL could not sign the token");
        goto out;
    }
    cr_buf_addc(&b, '.');
    b64url_encode(&b, sig, sig_len);
buf_failed:
    if (b.rc == CR_ETOOBIG) {
        rc = cr_err_set(err, CR_EINVAL, "value", NULL,
                        "the token would be longer than %d bytes",
                        CR_TOKEN_MAX_LEN);
        goto out;
    }
    if (b.rc != CR_OK) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    *out_jwt = cr_buf_take(&b, NULL);
    rc = *out_jwt ? CR_OK
                  : cr_err_set(err, CR_ENOMEM, "exception", NULL,
                               "out of memory");
out:
    EVP_MD_CTX_free(ctx);
    json_decref(hdr);
    json_decref(claims);
    cr_buf_free(&b);
    return rc;
}

/* ---- verifying -------------------------------------------------------- */

/* Decode a base64url part and parse it as one JSON object. 'what' names
 * the part in messages ("header", "claims"). */
static cr_rc
parse_part(struct cr_str part, unsigned char *buf, size_t cap,
           const char *what, json_t **out, struct cr_err *err)
{
    json_error_t jerr;
    size_t n = 0;
    json_t *v;

    *out = NULL;
    if (!b64url_decode(part.ptr, part.len, buf, cap, &n))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is malformed: the %s is not base64url", what);
    v = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is malformed: the %s is not valid JSON "
                          "(%.80s)",
                          what, jerr.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is malformed: the %s is not a JSON object",
                          what);
    }
    *out = v;
    return CR_OK;
}

/* Check the header and find the key it names. */
static cr_rc
check_header(const struct cr_keys *k, json_t *hdr, const struct key **out,
             struct cr_err *err)
{
    json_t *alg = json_object_get(hdr, "alg");
    json_t *typ = json_object_get(hdr, "typ");
    json_t *kid = json_object_get(hdr, "kid");
    char show[48];

    *out = NULL;
    if (alg == NULL)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token header has no 'alg'; use EdDSA");
    if (!json_is_string(alg))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token header 'alg' must be a string; use EdDSA");
    if (strcmp(json_string_value(alg), "EdDSA") != 0 ||
        json_string_length(alg) != 5) {
        shown(json_string_value(alg), json_string_length(alg), show,
              sizeof show);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token algorithm '%s' is not accepted; use EdDSA",
                          show);
    }
    if (typ != NULL && (!json_is_string(typ) ||
                        strcasecmp(json_string_value(typ), "JWT") != 0 ||
                        json_string_length(typ) != 3))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token header 'typ' must be \"JWT\"");
    if (json_object_get(hdr, "crit") != NULL)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token header 'crit' names extensions this node "
                          "does not support");
    if (kid == NULL) {
        *out = &k->own;
        return CR_OK;
    }
    if (!json_is_string(kid))
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token header 'kid' must be a string");
    *out = find_key(k, json_string_value(kid), json_string_length(kid));
    if (*out == NULL) {
        shown(json_string_value(kid), json_string_length(kid), show,
              sizeof show);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token was signed with key '%s', which this node "
                          "does not trust",
                          show);
    }
    return CR_OK;
}

static cr_rc
check_signature(const struct key *key, const char *signed_part,
                size_t signed_len, struct cr_str sig_b64, struct cr_err *err)
{
    unsigned char sig[SIG_LEN];
    size_t sig_len = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (sig_b64.len == 0)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is not signed");
    if (!b64url_decode(sig_b64.ptr, sig_b64.len, sig, sizeof sig,
                       &sig_len) ||
        sig_len != SIG_LEN)
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token signature is not valid (it must be 64 bytes "
                          "in base64url)");
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    ok = EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey,
                                 NULL) == 1 &&
         EVP_DigestVerify(ctx, sig, sig_len,
                          (const unsigned char *)signed_part,
                          signed_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token signature is not valid");
    }
    return CR_OK;
}

/* The full check of a token that is not in the cache. */
static cr_rc
verify_uncached(struct cr_keys *k, const char *jwt, size_t len,
                int64_t now_s, struct cr_principal *p, int64_t *nbf,
                struct cr_err *err)
{
    struct cr_str all = { jwt, len }, hdr_s, claims_s, sig_s, rest;
    unsigned char buf[PART_MAX];
    json_t *hdr = NULL, *claims = NULL;
    const struct key *key = NULL;
    cr_rc rc;

    rest = cr_str_cut(all, '.', &hdr_s);
    if (rest.ptr == NULL)
        goto malformed;
    sig_s = cr_str_cut(rest, '.', &claims_s);
    if (sig_s.ptr == NULL || memchr(sig_s.ptr, '.', sig_s.len) != NULL)
        goto malformed;
    if (hdr_s.len == 0 || claims_s.len == 0)
        goto malformed;

    rc = parse_part(hdr_s, buf, sizeof buf, "header", &hdr, err);
    if (rc != CR_OK)
        goto out;
    rc = check_header(k, hdr, &key, err);
    if (rc != CR_OK)
        goto out;
    rc = check_signature(key, jwt, (size_t)(claims_s.ptr + claims_s.len - jwt),
                         sig_s, err);
    if (rc != CR_OK)
        goto out;
    rc = parse_part(claims_s, buf, sizeof buf, "claims", &claims, err);
    if (rc != CR_OK)
        goto out;
    rc = claims_to_principal(claims, p, nbf, err);
    if (rc != CR_OK)
        goto out;
    if (!key->is_own && key->label[0] != '\0') {
        /* A peer vouches only for itself: it may not claim to be another
         * node, and its tokens name it even when they do not say so. */
        if (p->iss[0] == '\0') {
            snprintf(p->iss, sizeof p->iss, "%s", key->label);
        } else if (strcmp(p->iss, key->label) != 0) {
            char show[48];
            shown(p->iss, strlen(p->iss), show, sizeof show);
            rc = cr_err_set(err, CR_EAUTH, "security", NULL,
                            "token claim 'iss' is '%s' but the token is "
                            "signed with the key of node '%s'",
                            show, key->label);
            goto out;
        }
    }
    if (p->via[0] != '\0' &&
        (key->is_own || key->label[0] == '\0' ||
         strcmp(p->via, key->label) != 0)) {
        /* A node token: only the named peer may sign it. */
        char show[48];
        shown(p->via, strlen(p->via), show, sizeof show);
        rc = cr_err_set(err, CR_EAUTH, "security", NULL,
                        "token claim 'via' names node '%s', but the token "
                        "is not signed with that peer's key",
                        show);
        goto out;
    }
    rc = check_times(p, *nbf, now_s, err);
    goto out;

malformed:
    rc = cr_err_set(err, CR_EAUTH, "security", NULL,
                    "token is malformed: expected three base64url parts "
                    "separated by '.'");
out:
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

static pthread_mutex_t *
cache_lock(struct cr_keys *k, const unsigned char *hash, struct cache_set **set)
{
    size_t i = ((size_t)hash[0] << 8 | hash[1]) % CACHE_SETS;

    *set = &k->sets[i];
    pthread_mutex_lock(&k->stripe[i % CACHE_STRIPES]);
    return &k->stripe[i % CACHE_STRIPES];
}

static bool
cache_get(struct cr_keys *k, const unsigned char *hash, struct cr_principal *p,
          int64_t *nbf)
{
    struct cache_set *set;
    pthread_mutex_t *m = cache_lock(k, hash, &set);
    bool found = false;
    int w;

    for (w = 0; w < CACHE_WAYS; w++) {
        struct cache_entry *e = &set->way[w];
        if (e->is_used && memcmp(e->hash, hash, HASH_LEN) == 0) {
            *p = e->p;
            *nbf = e->nbf;
            set->victim = (unsigned char)((w + 1) % CACHE_WAYS);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(m);
    return found;
}

static void
cache_put(struct cr_keys *k, const unsigned char *hash,
          const struct cr_principal *p, int64_t nbf)
{
    struct cache_set *set;
    pthread_mutex_t *m = cache_lock(k, hash, &set);
    int w, pick = -1;

    for (w = 0; w < CACHE_WAYS && pick < 0; w++)
        if (set->way[w].is_used &&
            memcmp(set->way[w].hash, hash, HASH_LEN) == 0)
            pick = w;    /* another thread verified it meanwhile */
    for (w = 0; w < CACHE_WAYS && pick < 0; w++)
        if (!set->way[w].is_used)
            pick = w;
    if (pick < 0)
        pick = set->victim;
    memcpy(set->way[pick].hash, hash, HASH_LEN);
    set->way[pick].p = *p;
    set->way[pick].nbf = nbf;
    set->way[pick].is_used = true;
    set->victim = (unsigned char)((pick + 1) % CACHE_WAYS);
    pthread_mutex_unlock(m);
}

cr_rc
cr_token_verify(struct cr_keys *k, const char *jwt, size_t len, int64_t now_s,
                struct cr_principal *out, struct cr_err *err)
{
    unsigned char hash[HASH_LEN];
    struct cr_principal p;
    int64_t nbf = 0;
    bool has_hash;
    cr_rc rc;

    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    if (jwt == NULL || len == 0) {
        atomic_fetch_add_explicit(&k->misses, 1, memory_order_relaxed);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is malformed: expected three base64url "
                          "parts separated by '.'");
    }
    if (len > CR_TOKEN_MAX_LEN) {
        atomic_fetch_add_explicit(&k->misses, 1, memory_order_relaxed);
        return cr_err_set(err, CR_EAUTH, "security", NULL,
                          "token is too long (%zu bytes; at most %d are "
                          "accepted)",
                          len, CR_TOKEN_MAX_LEN);
    }
    /* Should hashing ever fail (only when out of memory), skip the cache
     * rather than the check. */
    has_hash = EVP_Digest(jwt, len, hash, NULL, k->sha256, NULL) == 1;
    if (!has_hash)
        ERR_clear_error();
    if (has_hash && cache_get(k, hash, &p, &nbf)) {
        atomic_fetch_add_explicit(&k->hits, 1, memory_order_relaxed);
        rc = check_times(&p, nbf, now_s, err);
        if (rc == CR_OK)
            *out = p;
        return rc;
    }
    atomic_fetch_add_explicit(&k->misses, 1, memory_order_relaxed);
    rc = verify_uncached(k, jwt, len, now_s, &p, &nbf, err);
    if (rc != CR_OK)
        return rc;
    if (has_hash)
        cache_put(k, hash, &p, nbf);
    *out = p;
    return CR_OK;
}

void
cr_token_cache_stats(const struct cr_keys *k, uint64_t *hits,
                     uint64_t *misses)
{
    if (hits != NULL)
        *hits = atomic_load_explicit(&k->hits, memory_order_relaxed);
    if (misses != NULL)
        *misses = atomic_load_explicit(&k->misses, memory_order_relaxed);
}
