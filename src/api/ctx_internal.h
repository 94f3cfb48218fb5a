/*
 * ctx_internal.h - helpers shared by the files that implement the context.
 */
#ifndef PT_CTX_INTERNAL_H
#define PT_CTX_INTERNAL_H

#include "api/ctx.h"

/* Refuses changes to a frozen context (PETREL_ERR_MISUSE with a sentence in
 * ctx->err); otherwise clears ctx->err so it describes the call under way. */
petrel_status pt_ctx_begin_change(petrel_ctx *ctx) PT_MUST_USE;
/* Fills the default suite and group lists. */
void pt_ctx_default_lists(petrel_ctx *ctx);

#endif
