/* Checkpoints: model tensors, optimiser state, the epoch count and the seed in
 * one safetensors file (written atomically by the safetensors saver). */
#include <stdio.h>

#include "nn/layer.h"

gdl_status gdl_checkpoint_save(const char *path, const gdl_model *m, gdl_optim *o, int64_t epoch,
                               uint64_t seed, const gdl_arrays *extra) {
  gdl_arrays *a = gdl_arrays_new();
  gdl_tensor *meta = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(2));
  ((int64_t *)meta->data)[0] = epoch;
  ((int64_t *)meta->data)[1] = (int64_t)seed;
  gdl_status st = gdl_model_state(m, a);
  if (!st && o) st = gdl_optim_state(o, a);
  if (!st) st = gdl_arrays_put(a, "train.epoch_seed", meta, true);
  for (int i = 0; !st && extra && i < gdl_arrays_count(extra); i++)
    st = gdl_arrays_put(a, gdl_arrays_name(extra, i), gdl_arrays_at(extra, i), false);
  if (!st) st = gdl_arrays_set_meta(a, "format", "gdl-checkpoint-1");
  if (!st) st = gdl_safetensors_save(path, a);
  gdl_arrays_free(a);
  return st;
}

gdl_status gdl_checkpoint_load(const char *path, gdl_model *m, gdl_optim *o, int64_t *epoch, uint64_t *seed) {
  gdl_arrays *a = gdl_safetensors_load(path);
  if (!a) return GDL_ERR_FORMAT; /* the loader named the file and the problem */
  gdl_tensor *meta = gdl_arrays_get(a, "train.epoch_seed");
  gdl_status st = GDL_OK;
  if (o && (!meta || meta->dtype != GDL_I64 || gdl_tensor_numel(meta) != 2))
    st = gdl_error(GDL_ERR_FORMAT, "%s: not a gdl training checkpoint (no 'train.epoch_seed')", path);
  if (!st) st = gdl_model_load_state(m, a, path);
  if (!st && o) st = gdl_optim_load_state(o, a, path);
  if (!st && meta && meta->dtype == GDL_I64 && gdl_tensor_numel(meta) == 2) {
    if (epoch) *epoch = ((int64_t *)meta->data)[0];
    if (seed) *seed = (uint64_t)((int64_t *)meta->data)[1];
  }
  gdl_arrays_free(a);
  return st;
}
