/* The per-step arena: tensors, nodes and gradients of one step live here and are
 * freed together by gdl_ctx_reset. Chunks grow geometrically; a reset folds them
 * into one chunk of the peak size so steady-state steps allocate nothing. */
#include <stdlib.h>

#include "core/internal.h"

typedef struct chunk {
  struct chunk *next;
  size_t size, used;
  _Alignas(64) unsigned char data[];
} chunk;

struct gdl_ctx {
  chunk *head;        /* current chunk first */
  size_t used, peak;  /* bytes handed out since reset; most ever */
  gdl_node **tape;
  int ntape, captape;
  bool grad;
  gdl_rng rng;
};

#define CHUNK_MIN ((size_t)1 << 20)

static chunk *chunk_new(size_t size) {
  chunk *c = aligned_alloc(64, (sizeof(chunk) + size + 63) / 64 * 64);
  GDL_ASSERT(c, "out of memory allocating a %zu-byte arena chunk", size);
  c->next = NULL;
  c->size = size;
  c->used = 0;
  return c;
}

gdl_ctx *gdl_ctx_new(void) {
  gdl_ctx *ctx = calloc(1, sizeof *ctx);
  GDL_ASSERT(ctx, "out of memory");
  ctx->head = chunk_new(CHUNK_MIN);
  ctx->grad = true;
  ctx->rng = gdl_rng_make(0x9e3779b97f4a7c15ull);
  return ctx;
}

static void free_chunks(chunk *c) {
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
}

void gdl_ctx_free(gdl_ctx *ctx) {
  if (!ctx) return;
  free_chunks(ctx->head);
  free(ctx->tape);
  free(ctx);
}

void gdl_ctx_reset(gdl_ctx *ctx) {
  if (ctx->head->next) {
    free_chunks(ctx->head);
    ctx->head = chunk_new(ctx->peak > CHUNK_MIN ? ctx->peak : CHUNK_MIN);
  }
  ctx->head->used = 0;
  ctx->used = 0;
  ctx->ntape = 0;
}

void *gdl_ctx_alloc(gdl_ctx *ctx, size_t bytes) {
  void *p = gdl__ctx_alloc_raw(ctx, bytes);
  gdl__zero(p, bytes);
  return p;
}

/* Zeroing megabytes (gradient buffers) on one core leaves the others waiting. */
void gdl__zero(void *p, size_t bytes) {
  const size_t block = (size_t)1 << 18;
  int64_t nb = (int64_t)((bytes + block - 1) / block);
  GDL_PARALLEL_FOR_IF(nb >= 8)
  for (int64_t b = 0; b < nb; b++) {
    size_t off = (size_t)b * block;
    memset((char *)p + off, 0, bytes - off < block ? bytes - off : block);
  }
}

void *gdl__ctx_alloc_raw(gdl_ctx *ctx, size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  chunk *c = ctx->head;
  if (c->used + bytes > c->size) {
    size_t size = c->size * 2 > bytes ? c->size * 2 : bytes;
    c = chunk_new(size);
    c->next = ctx->head;
    ctx->head = c;
  }
  void *p = c->data + c->used;
  c->used += bytes;
  ctx->used += bytes;
  if (ctx->used > ctx->peak) ctx->peak = ctx->used;
  return p;
}

size_t gdl_ctx_used(const gdl_ctx *ctx) { return ctx->used; }

bool gdl_ctx_set_grad(gdl_ctx *ctx, bool enabled) {
  bool old = ctx->grad;
  ctx->grad = enabled;
  return old;
}

void gdl_ctx_seed(gdl_ctx *ctx, uint64_t seed) { ctx->rng = gdl_rng_make(seed); }

gdl_rng *gdl__ctx_rng(gdl_ctx *ctx) { return &ctx->rng; }

bool gdl__ctx_records(const gdl_ctx *ctx) { return ctx->grad; }

/* ---- the tape --------------------------------------------------------- */

gdl_node *gdl__node(gdl_ctx *ctx, int op, gdl_tensor *out, int nin, gdl_tensor **in) {
  gdl_node *n = gdl_ctx_alloc(ctx, sizeof *n + (size_t)nin * sizeof(gdl_tensor *));
  n->op = op;
  n->nin = nin;
  n->in = (gdl_tensor **)(n + 1);
  n->out = out;
  n->ctx = ctx;
  bool needs = false;
  for (int k = 0; k < nin; k++) {
    n->in[k] = in[k];
    if (in[k] && in[k]->requires_grad) needs = true;
  }
  if (ctx->grad && needs) {
    out->requires_grad = true;
    out->node = n;
    if (ctx->ntape == ctx->captape) {
      ctx->captape = ctx->captape ? 2 * ctx->captape : 256;
      ctx->tape = realloc(ctx->tape, (size_t)ctx->captape * sizeof *ctx->tape);
      GDL_ASSERT(ctx->tape, "out of memory growing the tape");
    }
    ctx->tape[ctx->ntape++] = n;
  }
  return n;
}

gdl_status gdl_backward(gdl_ctx *ctx, gdl_tensor *loss) {
  if (gdl_tensor_numel(loss) != 1)
    return gdl_error(GDL_ERR_SHAPE, "backward: the loss must have one element, got %lld",
                     (long long)gdl_tensor_numel(loss));
  if (!loss->requires_grad)
    return gdl_error(GDL_ERR_ARG, "backward: the loss does not depend on anything that requires grad");
  gdl_tensor *g = gdl__grad(ctx, loss);
  gdl_tensor_fill(g, 1.0);
  for (int k = ctx->ntape - 1; k >= 0; k--) {
    gdl_node *n = ctx->tape[k];
    if (n->out->grad) gdl_node_backward(ctx, n);
  }
  return GDL_OK;
}

gdl_tensor *gdl__grad(gdl_ctx *ctx, gdl_tensor *x) {
  if (!x || !x->requires_grad) return NULL;
  if (x->grad) return x->grad;
  gdl_node *n = x->node;
  if (n && n->op == GDL_OP_RESHAPE) {
    /* A reshape's gradient is its input's gradient under the new shape: share the
     * buffer, and the reshape's backward has nothing left to do. */
    gdl_tensor *g = gdl__grad(ctx, n->in[0]);
    x->grad = gdl__view(ctx, g);
    x->grad->ndim = x->ndim;
    for (int k = 0; k < x->ndim; k++) x->grad->shape[k] = x->shape[k];
    gdl__set_contiguous_strides(x->grad);
    n->i[0] = 1;
    return x->grad;
  }
  return x->grad = gdl_tensor_new(ctx, x->dtype, gdl_tensor_shape(x));
}

gdl_tensor *gdl__grad_fresh(gdl_ctx *ctx, gdl_tensor *x, bool *fresh) {
  *fresh = false;
  if (!x || !x->requires_grad) return NULL;
  if (x->grad || (x->node && x->node->op == GDL_OP_RESHAPE)) return gdl__grad(ctx, x); /* a reshape shares */
  *fresh = true;
  x->grad = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
#ifdef GDL_POISON_FRESH
  memset(x->grad->data, 0xff, gdl_tensor_nbytes(x->grad)); /* NaN in float and double */
#endif
  return x->grad;
}

int gdl__ctx_tape(gdl_ctx *ctx, gdl_node ***nodes) {
  *nodes = ctx->tape;
  return ctx->ntape;
}
