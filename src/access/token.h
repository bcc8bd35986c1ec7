/* token.h: bearer tokens (JWT, RFC 7519) signed with EdDSA (Ed25519).
 *
 * A node has one Ed25519 key pair, kept in its data directory; it signs the
 * tokens it mints and verifies the tokens it is sent. Peers' public keys can
 * be added as trusted keys (federation): a token's "kid" header names the key
 * that signed it. Successful verifications are cached, keyed by a SHA-256 of
 * the exact token bytes, because a signature check costs far more than a
 * request is allowed to. See docs/internals/token.md for the format, the
 * claims and every way a token is refused.
 *
 * All cryptography is OpenSSL 3 (libcrypto, EVP); JSON is jansson. Depends on
 * core/err.h and access/principal.h. Library code: never prints. */
#ifndef CR_ACCESS_TOKEN_H
#define CR_ACCESS_TOKEN_H

#include "access/principal.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Limits. Tokens longer than CR_TOKEN_MAX_LEN bytes are refused unread. */
#define CR_TOKEN_MAX_LEN 8192
#define CR_TOKEN_MAX_TTL 31536000   /* one year, in seconds */
#define CR_TOKEN_MAX_TRUSTED 64     /* peers' keys besides our own */
#define CR_TOKEN_KID_LEN 16         /* hex characters in a key id */
#define CR_TOKEN_IAT_SKEW 60        /* seconds an "iat" may lie in the future */

/* A node's key set: its own Ed25519 key pair (the private half may be absent
 * when only verifying) plus trusted public keys of peers, and the
 * verification cache. Opaque. */
struct cr_keys;

/* Load the node key from 'data_dir'/node-key.pem (PKCS#8 PEM, mode 0600),
 * or, when that file does not exist, generate a new Ed25519 key pair and
 * write it there atomically (temporary file, fsync, link into place, so two
 * processes racing to create it end up with the same key). Also writes
 * 'data_dir'/node-key.pub.pem (the public key, SubjectPublicKeyInfo PEM)
 * when it is missing. 'data_dir' must exist; the caller creates it.
 * On success '*out' holds a key set the caller frees with
 * cr_token_keys_close. Errors: CR_EIO ("exception") when the directory is
 * missing, the key file cannot be read or written, is readable by other
 * users, is corrupt or is not an Ed25519 key, with a message naming the
 * file; CR_ENOMEM. '*out' is NULL on error. */
cr_rc
cr_token_keys_open(const char *data_dir, struct cr_keys **out,
                   struct cr_err *err);

/* A verify-only key set whose own key is the public key in 'pem'
 * (SubjectPublicKeyInfo PEM, Ed25519). cr_token_mint fails on it.
 * Errors: CR_EINVAL when 'pem' is not an Ed25519 public key; CR_ENOMEM. */
cr_rc
cr_token_keys_from_public_pem(const char *pem, struct cr_keys **out,
                              struct cr_err *err);

/* Free a key set and its cache. NULL is a no-op. No other thread may be
 * using 'k'. */
void
cr_token_keys_close(struct cr_keys *k);

/* The key id of the node's own key: the first 16 hex characters of the
 * SHA-256 of its DER (SubjectPublicKeyInfo) public key. The string lives as
 * long as 'k'. Thread-safe. */
const char *
cr_token_keys_kid(const struct cr_keys *k);

/* The node's own public key as SubjectPublicKeyInfo PEM, for peers'
 * configuration. On success '*out_pem' is a NUL-terminated heap string the
 * caller frees with free(). Errors: CR_ENOMEM, CR_EIO. Thread-safe. */
cr_rc
cr_token_keys_public_pem(const struct cr_keys *k, char **out_pem,
                         struct cr_err *err);

/* Trust tokens signed by the Ed25519 public key in 'pem' (a peer node's
 * SubjectPublicKeyInfo PEM). 'label' names the peer (its node id; at most
 * 63 bytes, may be empty): a token verified with this key gets
 * principal.iss = label when it carries no "iss", and is refused when its
 * "iss" names a different node. Adding a key that is already trusted (or is
 * the node's own) is a no-op returning CR_OK. Keys are never removed.
 * Errors: CR_EINVAL (not an Ed25519 public key, label too long), CR_ETOOBIG
 * (more than CR_TOKEN_MAX_TRUSTED keys), CR_ENOMEM. Thread-safe, also
 * against concurrent cr_token_verify. */
cr_rc
cr_token_keys_add_trusted(struct cr_keys *k, const char *pem,
                          const char *label, struct cr_err *err);

/* Check that 'p' could be carried in a token: sub, name, org, role and
 * purpose present and valid, patient empty or ten digits, no control
 * characters. Returns CR_OK, or CR_EINVAL ("value", where = the claim) with
 * a sentence saying what is wrong. The same rules are applied to the claims
 * of every token verified. */
cr_rc
cr_token_principal_check(const struct cr_principal *p, struct cr_err *err);

/* Mint a token for 'p' signed with the node's own private key, valid from
 * now for 'ttl_seconds' (1 .. CR_TOKEN_MAX_TTL). Header
 * {"alg":"EdDSA","typ":"JWT","kid":<kid>}; claims sub, name, org, role,
 * purpose, then patient, reason and iss when non-empty, then iat and exp.
 * p->iat and p->exp are ignored. On success '*out_jwt' is a NUL-terminated
 * heap string the caller frees with free(). Errors: CR_EINVAL (invalid
 * principal or ttl, or 'k' holds no private key), CR_ENOMEM, CR_EIO (OpenSSL
 * failed). Thread-safe. */
cr_rc
cr_token_mint(const struct cr_keys *k, const struct cr_principal *p,
              int64_t ttl_seconds, char **out_jwt, struct cr_err *err);

/* Verify the token in 'jwt' ('len' bytes, need not be NUL-terminated) at
 * time 'now_s' (seconds since the epoch) and fill '*out' with its claims.
 * Refused with CR_EAUTH, err->code "security" (or "login" when it has
 * expired) and a sentence saying exactly why: longer than CR_TOKEN_MAX_LEN,
 * not three base64url parts, header or claims not a JSON object, duplicate
 * keys, alg other than "EdDSA" (e.g. "none", "HS256"), a "crit" header,
 * unknown kid, bad signature, exp missing or <= now_s, iat missing or more
 * than CR_TOKEN_IAT_SKEW seconds after now_s, nbf in the future, any of sub,
 * name, org, role, purpose missing, not a string, too long or invalid,
 * patient present but not ten digits, iss not matching the peer whose key
 * signed it, via (a node token: the peer calling on the user's behalf)
 * on a token not signed by the trusted peer of that name, care (the NHS
 * number of a relationship a peer vouches for) without via or not ten
 * digits. CR_ENOMEM when memory ran out. '*out' is zeroed on error.
 * Never crashes, whatever the input ('jwt' may be NULL when 'len' is 0;
 * 'k' and 'out' must not be NULL). Successful results are cached; a cached
 * token is still checked against 'now_s'. Thread-safe. */
cr_rc
cr_token_verify(struct cr_keys *k, const char *jwt, size_t len, int64_t now_s,
                struct cr_principal *out, struct cr_err *err);

/* How many cr_token_verify calls were answered from the cache ('*hits') and
 * how many were not ('*misses': checked in full, or refused unread), since
 * 'k' was opened. Either pointer may be NULL. For tests
 * and metrics; thread-safe. */
void
cr_token_cache_stats(const struct cr_keys *k, uint64_t *hits,
                     uint64_t *misses);

#endif
