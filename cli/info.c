/* gdl info FILE: what is inside an array file, or the model a config describes. */
#include <string.h>

#include "cli.h"

static const char info_usage[] =
    "usage: gdl info FILE [--set section.key=value ...]\n"
    "\n"
    "FILE is .npy, .npz, .safetensors, an IDX file (MNIST family, may be gzipped) or a\n"
    "config (.ini). For arrays, prints each name, dtype, shape and value range; for a\n"
    "config, the model: each layer, its output shape and parameter count, and the total.\n";

static void print_array(const char *name, const gdl_tensor *x) {
  char shape[128];
  gdl_shape_str(gdl_tensor_shape(x), shape, sizeof shape);
  int64_t n = gdl_tensor_numel(x);
  printf("  %-36s %-8s %-20s", name, gdl_dtype_name(x->dtype), shape);
  if (n > 0) {
    double lo = gdl_tensor_get(x, 0), hi = lo, sum = 0;
    for (int64_t i = 0; i < n; i++) {
      double v = gdl_tensor_get(x, i);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      sum += v;
    }
    printf(" min %-11.5g max %-11.5g mean %.5g", lo, hi, sum / (double)n);
  }
  printf("\n");
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

void cli_model_summary(const char *file, gdl_model *m, gdl_shape input, const char *per) {
  char shape[128];
  printf("%s: model for inputs %s per %s\n", file, gdl_shape_str(input, shape, sizeof shape), per);
  printf("  %-5s %-14s %-22s %12s\n", "layer", "kind", "output shape", "parameters");
  for (int i = 0; i < gdl_model_layer_count(m); i++) {
    gdl_layer *l = gdl_model_layer(m, i);
    printf("  %-5d %-14s %-22s %12lld\n", i, gdl_layer_kind(l), gdl_shape_str(gdl_layer_out_shape(l), shape, sizeof shape),
           (long long)gdl_layer_param_count(l));
  }
  printf("  total parameters: %lld\n", (long long)gdl_model_numel(m));
}

static int info_config(const cli_args *a) {
  gdl_config *cfg = cli_config_open(a->file, (char **)a->sets, a->nsets);
  if (!cfg) return cli_fail();
  /* The summary needs the per-sample input shape: the data tells it. */
  cli_data data;
  gdl_section_mark_used(gdl_config_find(cfg, "train"));
  if (cli_data_load(gdl_config_find(cfg, "data"), 1, &data)) {
    gdl_config_free(cfg);
    return cli_fail();
  }
  gdl_shape sample = data.sample_shape;
  cli_data_free(&data);
  gdl_model *m = cli_model_build(cfg, sample, GDL_F32, 1);
  if (!m || gdl_config_check_unused(cfg)) {
    gdl_model_free(m);
    gdl_config_free(cfg);
    return cli_fail();
  }
  cli_model_summary(a->file, m, sample, "sample");
  gdl_model_free(m);
  gdl_config_free(cfg);
  return 0;
}

int cli_info(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse_args(argc, argv, info_usage, "set", &a);
  if (rc >= 0) return rc;
  const char *f = a.file;
  if (ends_with(f, ".ini")) return cli_graph_config(argc, argv) ? cli_graph_info(&a) : info_config(&a);
  if (ends_with(f, ".npy")) {
    gdl_tensor *x = gdl_npy_load(f);
    if (!x) return cli_fail();
    printf("%s: one array\n", f);
    print_array("(array)", x);
    gdl_tensor_free(x);
    return 0;
  }
  gdl_arrays *arr = NULL;
  const char *kind = "";
  if (ends_with(f, ".npz")) arr = gdl_npz_load(f), kind = "npz";
  else if (ends_with(f, ".safetensors")) arr = gdl_safetensors_load(f), kind = "safetensors";
  else {
    gdl_tensor *x = gdl_idx_load(f);
    if (!x) return cli_failf("%s (expected .npy, .npz, .safetensors, .ini or an IDX file)", gdl_last_error());
    printf("%s: IDX\n", f);
    print_array("(array)", x);
    gdl_tensor_free(x);
    return 0;
  }
  if (!arr) return cli_fail();
  int64_t total = 0;
  printf("%s: %s, %d arrays\n", f, kind, gdl_arrays_count(arr));
  for (int i = 0; i < gdl_arrays_count(arr); i++) {
    print_array(gdl_arrays_name(arr, i), gdl_arrays_at(arr, i));
    total += gdl_tensor_numel(gdl_arrays_at(arr, i));
  }
  printf("  total elements: %lld\n", (long long)total);
  gdl_arrays_free(arr);
  return 0;
}
