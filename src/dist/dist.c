/* MPI data parallelism: gradient averaging and weight broadcast (GDL_MPI builds). */
#include <mpi.h>

#include "core/internal.h"
#include "gdl/dist.h"

static bool we_initialised;

gdl_status gdl_dist_init(int *argc, char ***argv) {
  int ready = 0;
  MPI_Initialized(&ready);
  if (ready) return GDL_OK;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) return gdl_error(GDL_ERR_IO, "dist: MPI_Init failed");
  we_initialised = true;
  return GDL_OK;
}

void gdl_dist_finalize(void) {
  if (we_initialised) MPI_Finalize();
  we_initialised = false;
}

int gdl_dist_rank(void) {
  int r = 0, ready = 0;
  MPI_Initialized(&ready);
  if (ready) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int gdl_dist_size(void) {
  int n = 1, ready = 0;
  MPI_Initialized(&ready);
  if (ready) MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

static MPI_Datatype mpi_type(gdl_dtype t) { return t == GDL_F32 ? MPI_FLOAT : MPI_DOUBLE; }

gdl_status gdl_dist_average_grads(gdl_model *m) {
  int n = gdl_dist_size();
  if (n == 1) return GDL_OK;
  for (int i = 0; i < gdl_model_param_count(m); i++) {
    gdl_tensor *g = gdl_model_param(m, i)->grad;
    int64_t cnt = gdl_tensor_numel(g);
    if (MPI_Allreduce(MPI_IN_PLACE, g->data, (int)cnt, mpi_type(g->dtype), MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
      return gdl_error(GDL_ERR_IO, "dist: MPI_Allreduce failed for %s", gdl_model_param_name(m, i));
    GDL_FLOAT_SWITCH(g->dtype, T, {
      T *d = g->data;
      for (int64_t k = 0; k < cnt; k++) d[k] /= (T)n;
    });
  }
  return GDL_OK;
}

gdl_status gdl_dist_broadcast(gdl_model *m, int root) {
  gdl_arrays *state = gdl_arrays_new();
  gdl_status st = gdl_model_state(m, state);
  for (int i = 0; !st && i < gdl_arrays_count(state); i++) {
    gdl_tensor *t = gdl_arrays_at(state, i);
    if (MPI_Bcast(t->data, (int)gdl_tensor_numel(t), mpi_type(t->dtype), root, MPI_COMM_WORLD) != MPI_SUCCESS)
      st = gdl_error(GDL_ERR_IO, "dist: MPI_Bcast failed for %s", gdl_arrays_name(state, i));
  }
  gdl_arrays_free(state);
  return st;
}
