/* gdl: geometric deep learning in C. One include for the whole public API.
 *
 *   gdl_ctx *ctx = gdl_ctx_new();                 // per-step arena + tape
 *   gdl_tensor *y = gdl_relu(ctx, gdl_linear(ctx, x, w, b));
 *   gdl_tensor *loss = gdl_cross_entropy(ctx, y, labels, GDL_CE_DEFAULT);
 *   gdl_backward(ctx, loss);                      // w->grad, b->grad filled
 *   gdl_ctx_reset(ctx);                           // next step
 */
#ifndef GDL_H
#define GDL_H

#include "gdl/core.h"
#include "gdl/ops.h"
#include "gdl/io.h"
#include "gdl/config.h"
#include "gdl/grid.h"
#include "gdl/group.h"
#include "gdl/nn.h"
#include "gdl/sphere.h"
#include "gdl/graph.h"
#include "gdl/wavelets.h"

#endif
