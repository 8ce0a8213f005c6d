/* gdl: train, evaluate and apply geometric deep learning models from configs. */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: gdl <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG [--set section.key=value ...] [--resume]   train a model\n"
    "  eval CONFIG --checkpoint FILE                           test-set metrics of trained weights\n"
    "  predict CONFIG --checkpoint FILE --input X --output Y   model outputs for arrays (.npy/.npz)\n"
    "  info FILE                                               arrays in .npy/.npz/.safetensors/IDX;\n"
    "                                                          for a config, the model summary\n"
    "  plot A.csv [B.csv ...] --y COLUMN --output F.png       line plots of CSV columns\n"
    "  sht forward|inverse|rotate [options] IN.npy OUT.npy    spherical harmonic transforms\n"
    "\n"
    "options: --help (also after a command), --version\n"
    "Configs are INI files; every key is documented in docs/config.md.\n";

int cli_fail(void) {
  fprintf(stderr, "gdl: %s\n", gdl_last_error());
  return 1;
}

int cli_failf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("gdl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("gdl %s\n", GDL_VERSION);
    return 0;
  }
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } commands[] = {{"train", cli_train}, {"eval", cli_eval}, {"predict", cli_predict}, {"info", cli_info}, {"plot", cli_plot},
                   {"sht", cli_sht}};
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "gdl: unknown command '%s'\n\n%s", argv[1], usage);
  return 2;
}
