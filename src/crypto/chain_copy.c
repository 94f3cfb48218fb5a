/*
 * chain_copy.c - a peer chain outliving its handshake: its certificates as
 * received, and copies of it that a resumed connection reports as its own
 * (RFC 8446 2.2: a resumption carries over the original authentication).
 */
#include "crypto/ossl.h"

const uint8_t *pt_peer_chain_der(const pt_peer_chain *chain, size_t i, size_t *len)
{
    if (i >= chain->count) {
        *len = 0;
        return NULL;
    }
    *len = chain->der_len[i];
    return chain->der[i];
}

void pt_peer_chain_set_verified_len(pt_peer_chain *chain, size_t verified_len)
{
    chain->verified_len = verified_len;
}

petrel_status pt_peer_chain_dup(const pt_peer_chain *src, pt_peer_chain **out, pt_error *err)
{
    *out = NULL;
    if (src == NULL) {
        return PETREL_OK;
    }
    PT_TRY(
        pt_peer_chain_parse((const uint8_t *const *)src->der, src->der_len, src->count, out, err));
    (*out)->verified_len = src->verified_len;
    return PETREL_OK;
}
