/* The gdl command: shared pieces of its subcommands. */
#ifndef GDL_CLI_H
#define GDL_CLI_H

#include <stdio.h>

#include "gdl.h"

/* Prints "gdl: <message>" (the library's last error) to stderr; returns 1. */
int cli_fail(void);
int cli_failf(const char *fmt, ...) GDL_PRINTF(1, 2);

typedef struct {
  const char *file; /* the positional argument */
  const char *checkpoint, *input, *output;
  const char *rotations, *csv; /* gdl eval: rotated test sets, a CSV of the results */
  char *sets[64];
  int nsets, threads;
  bool resume, quiet;
} cli_args;

/* Parses argv[1..] into a; `accepts` lists the options this subcommand takes
 * ("set resume checkpoint ..."). Prints usage and returns 0 for --help, 2 for a
 * usage error, -1 to go on. */
int cli_parse_args(int argc, char **argv, const char *usage, const char *accepts, cli_args *a);

/* The data of a config's [data] section. */
/* Training-time augmentation of image batches ([data] augment_* keys). */
typedef struct {
  bool flip;
  int64_t crop, translate;
  double rotate, fill; /* fill: the normalised value of a black pixel */
} cli_augment;

typedef struct {
  gdl_dataset train, val, test;
  gdl_shape sample_shape;
  int64_t num_classes;
  cli_augment augment;
  bool augmenting;
  gdl_tensor *owned[6];
} cli_data;

/* The gdl_train_opts.augment callback for a cli_augment. */
void cli_augment_batch(gdl_tensor *x, gdl_rng *rng, void *augment);

gdl_status cli_data_load(gdl_section *s, uint64_t seed, cli_data *d);
void cli_data_free(cli_data *d);

/* The [train] keys shared by image and graph tasks (docs/config.md), with these
 * defaults where the tasks differ (lr 0: the optimiser's default). */
typedef struct {
  int64_t epochs, batch_size;
  double lr, step_epochs, gamma;
} cli_train_defaults;
gdl_status cli_read_train(gdl_section *s, cli_train_defaults d, gdl_train_opts *o, gdl_dtype *dtype,
                          int64_t *threads, const char **output);

/* A config with --set overrides applied. */
gdl_config *cli_config_open(const char *path, char **sets, int nsets);
/* A model built from cfg's layer sections for the data's sample shape. */
gdl_model *cli_model_build(gdl_config *cfg, gdl_shape sample, gdl_dtype dtype, uint64_t seed);

/* Subcommands: argv[0] is the subcommand's name. */
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_info(int argc, char **argv);
/* The layers of m, their output shapes and parameter counts (gdl info). */
void cli_model_summary(const char *file, gdl_model *m, gdl_shape input, const char *per);
int cli_plot(int argc, char **argv);
int cli_sht(int argc, char **argv);

/* Graph configs ([data] dataset = planetoid | npz-graph | tu), in cli/graph.c:
 * cli_train and cli_eval hand them to these. */
bool cli_graph_config(int argc, char **argv);
int cli_graph_train(int argc, char **argv);
int cli_graph_eval(int argc, char **argv);
int cli_graph_info(const cli_args *a);

/* Writes text to path atomically (temporary file + rename). */
gdl_status cli_write_file(const char *path, const char *text, size_t n);
/* mkdir -p */
gdl_status cli_mkdirs(const char *path);

#endif
