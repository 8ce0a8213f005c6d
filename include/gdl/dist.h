/* Data-parallel training over MPI (built with cmake -DGDL_MPI=ON): each rank
 * trains on its share of every batch, and the ranks average their gradients
 * before each optimiser step, so all ranks keep identical weights. */
#ifndef GDL_DIST_H
#define GDL_DIST_H

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MPI_Init unless MPI is already initialised; GDL_ERR_UNSUPPORTED without MPI. */
GDL_API gdl_status gdl_dist_init(int *argc, char ***argv);
GDL_API void gdl_dist_finalize(void);
GDL_API int gdl_dist_rank(void); /* 0 without MPI */
GDL_API int gdl_dist_size(void); /* 1 without MPI */
/* Every parameter's gradient replaced by its mean over the ranks. */
GDL_API gdl_status gdl_dist_average_grads(gdl_model *m);
/* Every parameter and buffer copied from rank root (call once after building). */
GDL_API gdl_status gdl_dist_broadcast(gdl_model *m, int root);

#ifdef __cplusplus
}
#endif
#endif
