/* The op table, expanded from ops.def, and the generic node entry points. */
#include "core/internal.h"

static const gdl_op_def ops[GDL_OP_COUNT] = {
#define GDL_OP(NAME, name) \
  [GDL_OP_##NAME] = {#name, gdl__##name##_fwd, gdl__##name##_bwd, gdl__##name##_sample},
#include "ops/ops.def"
#undef GDL_OP
};

int gdl_op_count(void) { return GDL_OP_COUNT; }

const char *gdl_op_name(int op) { return op >= 0 && op < GDL_OP_COUNT ? ops[op].name : NULL; }

gdl_tensor *gdl_op_sample(int op, int variant, gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t) {
  GDL_ASSERT(op >= 0 && op < GDL_OP_COUNT, "no op %d", op);
  return ops[op].sample(ctx, rng, t, variant);
}

gdl_tensor *gdl__run(gdl_node *n) {
  ops[n->op].fwd(n);
  return n->out;
}

void gdl_node_forward(gdl_node *n) { ops[n->op].fwd(n); }

void gdl_node_backward(gdl_ctx *ctx, gdl_node *n) { ops[n->op].bwd(ctx, n); }

int gdl_node_inputs(gdl_node *n, gdl_tensor ***in) {
  *in = n->in;
  return n->nin;
}
