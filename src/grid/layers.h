/* Grid layer constructors (used by the config sections and the C API). */
#ifndef GDL_GRID_LAYERS_H
#define GDL_GRID_LAYERS_H

#include "gdl/grid.h"
#include "gdl/nn.h"

typedef struct {
  int nsp;          /* spatial axes: 1, 2 or 3 */
  int64_t out;      /* output channels */
  int64_t k[3];     /* kernel per spatial axis */
  gdl_conv_opts o;
  bool bias, transpose;
} gdl_conv_hp;

gdl_layer *gdl_layer_conv(const gdl_conv_hp *hp, gdl_init init);

#endif
