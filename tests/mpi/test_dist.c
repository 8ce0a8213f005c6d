/* Run with mpirun -np 2 (GDL_MPI builds): two ranks with different data end a
 * step with the same averaged gradients and, after a broadcast, the same weights. */
#include "gdl/dist.h"
#include "test.h"

int main(int argc, char **argv) {
  CHECK(gdl_dist_init(&argc, &argv) == GDL_OK, "init");
  int rank = gdl_dist_rank(), size = gdl_dist_size();
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(3), 100 + (uint64_t)rank); /* different inits */
  gdl_model_add(m, gdl_layer_linear(2, true, GDL_INIT_DEFAULT));
  CHECK(gdl_dist_broadcast(m, 0) == GDL_OK, "broadcast");
  /* each rank's gradient is (rank + 1) everywhere: the average is (size + 1) / 2 */
  for (int i = 0; i < gdl_model_param_count(m); i++) gdl_tensor_fill(gdl_model_param(m, i)->grad, rank + 1);
  CHECK(gdl_dist_average_grads(m) == GDL_OK, "allreduce");
  double want = (size + 1) / 2.0;
  for (int i = 0; i < gdl_model_param_count(m); i++)
    CHECK(gdl_tensor_get(gdl_model_param(m, i)->grad, 0) == want, "rank %d: mean gradient %g", rank,
          gdl_tensor_get(gdl_model_param(m, i)->grad, 0));
  /* after the broadcast every rank holds rank 0's weights: compare a checksum */
  double sum = 0, root_sum;
  for (int i = 0; i < gdl_model_param_count(m); i++)
    for (int64_t k = 0; k < gdl_tensor_numel(gdl_model_param(m, i)); k++) sum += gdl_tensor_get(gdl_model_param(m, i), k);
  root_sum = sum;
  gdl_model *ref = gdl_model_new(GDL_F64, GDL_SHAPE(3), 100); /* rank 0's initialisation */
  gdl_model_add(ref, gdl_layer_linear(2, true, GDL_INIT_DEFAULT));
  double ref_sum = 0;
  for (int i = 0; i < gdl_model_param_count(ref); i++)
    for (int64_t k = 0; k < gdl_tensor_numel(gdl_model_param(ref, i)); k++) ref_sum += gdl_tensor_get(gdl_model_param(ref, i), k);
  CHECK(root_sum == ref_sum, "rank %d holds rank 0's weights", rank);
  gdl_model_free(ref);
  gdl_model_free(m);
  gdl_dist_finalize();
  return rank == 0 ? test_report() : (test_failed ? 1 : 0);
}
