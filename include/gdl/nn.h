/* gdl nn: layers, models, initialisers, optimisers, learning-rate schedules and
 * the training loop.
 *
 * A model is a sequence of layers (darknet style). Each layer builds its
 * parameters once it knows its input shape, so layers are made without input
 * sizes: gdl_model_add(m, gdl_layer_linear(512, true)). Parameters are named as
 * PyTorch names those of an nn.Sequential held in `layers`: layers.<i>.weight,
 * layers.<i>.bias, layers.<i>.running_mean, ... with PyTorch's layouts (Linear
 * weight [out, in]), so weights move between the two through safetensors. */
#ifndef GDL_NN_H
#define GDL_NN_H

#include "config.h"
#include "core.h"
#include "io.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- parameters and initialisers ------------------------------------------ */

/* A heap tensor that requires grad, with a heap gradient buffer of zeros. */
GDL_API gdl_tensor *gdl_param_new(gdl_dtype t, gdl_shape s);

typedef enum {
  GDL_INIT_DEFAULT,         /* PyTorch's default for the layer */
  GDL_INIT_ZEROS,
  GDL_INIT_ONES,
  GDL_INIT_KAIMING_NORMAL,  /* std = sqrt(2 / fan_in) */
  GDL_INIT_KAIMING_UNIFORM, /* bound = sqrt(6 / fan_in) */
  GDL_INIT_XAVIER_NORMAL,   /* std = sqrt(2 / (fan_in + fan_out)) */
  GDL_INIT_XAVIER_UNIFORM,  /* bound = sqrt(6 / (fan_in + fan_out)) */
  GDL_INIT_TORCH_UNIFORM,   /* bound = 1 / sqrt(fan_in): nn.Linear's default */
} gdl_init;

GDL_API void gdl_init_fill(gdl_tensor *w, gdl_init kind, int64_t fan_in, int64_t fan_out, gdl_rng *rng);

/* ---- layers --------------------------------------------------------------- */

typedef struct gdl_layer gdl_layer;

typedef enum {
  GDL_ACT_RELU, GDL_ACT_LEAKY_RELU, GDL_ACT_ELU, GDL_ACT_GELU, GDL_ACT_SILU,
  GDL_ACT_SIGMOID, GDL_ACT_TANH, GDL_ACT_SOFTPLUS, GDL_ACT_COUNT
} gdl_activation;

GDL_API const char *gdl_activation_name(gdl_activation a); /* "relu", ... */

/* y = x W^T + b on the last axis; weight [out, in], bias [out]. */
GDL_API gdl_layer *gdl_layer_linear(int64_t out_features, bool bias, gdl_init init);
/* alpha: leaky_relu's slope or elu's alpha (ignored by the others). */
GDL_API gdl_layer *gdl_layer_activation(gdl_activation a, double alpha);
GDL_API gdl_layer *gdl_layer_dropout(double p);
/* Over the last axis; weight and bias [features] when affine. */
GDL_API gdl_layer *gdl_layer_layer_norm(double eps, bool affine);
/* Input [N, C] or [N, C, ...]; weight, bias, running_mean, running_var [C]. */
GDL_API gdl_layer *gdl_layer_batch_norm(double eps, double momentum);
/* Integer input of any shape -> shape + [dim]; weight [num, dim]. */
GDL_API gdl_layer *gdl_layer_embedding(int64_t num, int64_t dim);
/* [N, a, b, ...] -> [N, a*b*...] */
GDL_API gdl_layer *gdl_layer_flatten(void);
/* Residual connection: adds the output of layer `from` (an index of the model,
 * -1 for the model's input) to its input, which must have the same shape. */
GDL_API gdl_layer *gdl_layer_shortcut(int64_t from);
/* Joins the outputs of n (<= 16) earlier layers (indices as for shortcut) along their
 * last axis, in the order given; all other axes must agree. Jumping-knowledge
 * readouts (every GNN layer's features pooled) are built from it. */
GDL_API gdl_layer *gdl_layer_concat(const int64_t *from, int n);
GDL_API void gdl_layer_free(gdl_layer *l);

/* ---- models ------------------------------------------------------------------- */

typedef struct gdl_model gdl_model;

/* sample_shape: one sample's shape, without the batch axis (e.g. [1, 28, 28]).
 * input_dtype: what the first layer receives (float, or int64 for embeddings). */
GDL_API gdl_model *gdl_model_new(gdl_dtype dtype, gdl_shape sample_shape, uint64_t seed);
GDL_API void gdl_model_free(gdl_model *m);
/* Appends and builds l (the model takes it; freed on error). Fails with
 * GDL_ERR_SHAPE naming the layer when the running shape does not fit. */
GDL_API gdl_status gdl_model_add(gdl_model *m, gdl_layer *l);
/* Appends linear layers of the given widths with an activation (and dropout)
 * between them: an MLP; the last layer has no activation. */
GDL_API gdl_status gdl_model_add_mlp(gdl_model *m, const int64_t *widths, int n, gdl_activation a,
                                     double dropout);
/* Forward over a batch x [B, sample_shape...]. */
GDL_API gdl_tensor *gdl_model_forward(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, bool train);
/* The same with an extra input handed to every layer: the graph for message
 * passing layers (x is then [nodes, features]), a mesh for mesh layers, ... */
GDL_API gdl_tensor *gdl_model_forward_aux(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, const void *aux,
                                          bool train);

GDL_API int gdl_model_layer_count(const gdl_model *m);
GDL_API gdl_layer *gdl_model_layer(const gdl_model *m, int i);
GDL_API const char *gdl_layer_kind(const gdl_layer *l); /* "linear", "relu", ... */
GDL_API gdl_shape gdl_layer_out_shape(const gdl_layer *l); /* per sample */
GDL_API int64_t gdl_layer_param_count(const gdl_layer *l);
GDL_API gdl_dtype gdl_model_dtype(const gdl_model *m);
GDL_API gdl_shape gdl_model_sample_shape(const gdl_model *m);
GDL_API gdl_shape gdl_model_out_shape(const gdl_model *m);

/* Trainable parameters, in a fixed order, with their PyTorch-style names. */
GDL_API int gdl_model_param_count(const gdl_model *m); /* number of tensors */
GDL_API gdl_tensor *gdl_model_param(const gdl_model *m, int i);
GDL_API const char *gdl_model_param_name(const gdl_model *m, int i);
GDL_API int64_t gdl_model_numel(const gdl_model *m); /* number of scalars */
GDL_API void gdl_model_zero_grad(gdl_model *m);

/* Parameters and buffers (running statistics) as borrowed tensors under their
 * names; and loading them back (copies, converting dtype; every tensor of the
 * model must be present with its exact shape, else an error naming it). */
GDL_API gdl_status gdl_model_state(const gdl_model *m, gdl_arrays *out);
GDL_API gdl_status gdl_model_load_state(gdl_model *m, const gdl_arrays *in, const char *source);

/* ---- optimisers -------------------------------------------------------------- */

typedef enum { GDL_OPTIM_SGD, GDL_OPTIM_ADAM, GDL_OPTIM_ADAMW } gdl_optim_kind;

typedef struct {
  gdl_optim_kind kind;
  double lr;
  double momentum;     /* SGD */
  bool nesterov;       /* SGD */
  double weight_decay; /* L2 added to the gradient (SGD, Adam) or decoupled (AdamW) */
  double beta1, beta2, eps;
} gdl_optim_opts;

/* PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8; AdamW decay 0.01. */
GDL_API gdl_optim_opts gdl_optim_defaults(gdl_optim_kind kind);

typedef struct gdl_optim gdl_optim;
GDL_API gdl_optim *gdl_optim_new(gdl_model *m, gdl_optim_opts o);
GDL_API void gdl_optim_free(gdl_optim *o);
/* One update of every parameter from its gradient, at learning rate lr. */
GDL_API void gdl_optim_step(gdl_optim *o, double lr);
GDL_API int64_t gdl_optim_steps(const gdl_optim *o);
/* Optimiser state (moments, step count) as borrowed tensors "optim.<param>.m", ...;
 * and loading it back. */
GDL_API gdl_status gdl_optim_state(gdl_optim *o, gdl_arrays *out);
GDL_API gdl_status gdl_optim_load_state(gdl_optim *o, const gdl_arrays *in, const char *source);

/* Scales all gradients so their global L2 norm is at most max_norm; returns the
 * norm before clipping. */
GDL_API double gdl_clip_grad_norm(gdl_model *m, double max_norm);

/* ---- learning-rate schedules ----------------------------------------------------- */

typedef enum { GDL_SCHED_CONSTANT, GDL_SCHED_STEP, GDL_SCHED_COSINE } gdl_sched_kind;

typedef struct {
  gdl_sched_kind kind;
  double base_lr;
  double gamma;        /* step: multiply by gamma every step_epochs */
  double step_epochs;
  double min_lr;       /* cosine: the floor */
  double total_epochs; /* cosine: period */
  double warmup_epochs; /* linear warmup from 0 over the first epochs (any kind) */
} gdl_sched;

/* The learning rate at a fractional epoch (step / steps_per_epoch). */
GDL_API double gdl_sched_lr(const gdl_sched *s, double epoch);

/* ---- training ----------------------------------------------------------------------- */

/* A supervised dataset in memory: x [N, ...] (float, or uint8 scaled by
 * scale/shift into the model's dtype on the fly), y [N] int64 class labels. */
typedef struct {
  gdl_tensor *x, *y;
  double scale, shift; /* x_model = x * scale + shift (for uint8 images) */
  int64_t num_classes;
} gdl_dataset;

typedef struct {
  int64_t epoch, epochs;
  int64_t step, steps; /* within the epoch */
  double loss;         /* running mean over the epoch so far */
  double samples_per_s, elapsed_s, eta_s;
} gdl_progress;

typedef struct {
  int64_t epoch;
  double lr;
  double train_loss, train_acc; /* running averages over the epoch's batches */
  double val_loss, val_acc;     /* NaN without a validation set */
  double seconds;
} gdl_epoch_log;

typedef struct {
  int64_t epochs, batch_size;
  uint64_t seed;
  gdl_optim_opts optim;
  gdl_sched sched;
  double clip_norm;       /* 0 = off */
  double label_smoothing; /* cross-entropy */
  int64_t patience;       /* early stopping on validation accuracy; 0 = off */
  bool restore_best;      /* end with the weights of the best validation epoch */
  /* Optional per-batch augmentation of x (in the model's dtype), seeded. */
  void (*augment)(gdl_tensor *x, gdl_rng *rng, void *augment_user);
  void *augment_user;
  void (*on_progress)(const gdl_progress *p, void *user);
  /* Called after each epoch; return false to stop training. */
  bool (*on_epoch)(const gdl_epoch_log *e, void *user);
  void *user;
  /* Checkpointing: written atomically after every epoch when set; training
   * resumes from it when resume is true and the file exists. */
  const char *checkpoint;
  bool resume;
} gdl_train_opts;

GDL_API gdl_train_opts gdl_train_defaults(void);

typedef struct {
  int64_t epochs_run, best_epoch;
  double best_val_acc;
  double seconds;
} gdl_train_result;

/* Trains m on train (validating on val, may be NULL after every epoch). */
GDL_API gdl_status gdl_train(gdl_model *m, const gdl_dataset *train, const gdl_dataset *val,
                             const gdl_train_opts *o, gdl_train_result *r);

typedef struct {
  double loss, accuracy;
  int64_t n;
} gdl_eval_result;

/* Mean cross-entropy and accuracy over ds, in evaluation mode, in batches. */
GDL_API gdl_status gdl_evaluate(gdl_model *m, const gdl_dataset *ds, int64_t batch_size,
                                gdl_eval_result *r);
/* Model outputs for every sample of x (float, or uint8 with scale/shift) as a
 * heap tensor [N, out...]. */
GDL_API gdl_tensor *gdl_predict(gdl_model *m, const gdl_tensor *x, double scale, double shift,
                                int64_t batch_size);

/* ---- checkpoints --------------------------------------------------------------------- */

/* Model state + optimiser state + "train.epoch" + "train.rng" (+ extra tensors,
 * may be NULL) in one safetensors file, written atomically. */
GDL_API gdl_status gdl_checkpoint_save(const char *path, const gdl_model *m, gdl_optim *o,
                                       int64_t epoch, uint64_t seed, const gdl_arrays *extra);
/* Loads what gdl_checkpoint_save wrote; o may be NULL (weights only). */
GDL_API gdl_status gdl_checkpoint_load(const char *path, gdl_model *m, gdl_optim *o,
                                       int64_t *epoch, uint64_t *seed);

/* ---- building models from configs ------------------------------------------------------ */

/* Appends one layer per layer section of cfg ([data] and [train] are skipped),
 * reading every key of those sections. */
GDL_API gdl_status gdl_model_add_config(gdl_model *m, gdl_config *cfg);
/* True when name is a layer section this build understands. */
GDL_API bool gdl_layer_section_known(const char *name);

#ifdef __cplusplus
}
#endif
#endif
