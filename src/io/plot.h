/* Internals of plot.c that the tests call. */
#ifndef GDL_IO_PLOT_H
#define GDL_IO_PLOT_H

#include <stdbool.h>

#define GDL__PLOT_LABEL_LEN 32

/* The ticks a horizontal axis `len` pixels long with limits [lo, hi] gets: writes up
 * to cap values and their labels ("0.25", "1e-05", "2.5e+06") and returns how many.
 * With integer, no step is finer than 1. */
int gdl__plot_ticks(double lo, double hi, int len, bool integer, double *v,
                    char (*labels)[GDL__PLOT_LABEL_LEN], int cap);

#endif
