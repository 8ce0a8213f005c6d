/* gdl plot: line plots of CSV columns (metrics.csv, eval --csv) as a PNG. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char plot_usage[] =
    "usage: gdl plot A.csv [B.csv ...] --y COLUMN [--x COLUMN] [--labels a;b;...] [--title T]\n"
    "                [--xlabel T] [--ylabel T] [--scale S] --output PLOT.png\n"
    "\n"
    "One line per file: column --y against column --x (default: the first column); legend\n"
    "labels are separated by ';'. Rows\n"
    "whose x or y is not a number are skipped. --scale multiplies y (e.g. 100 for %%).\n";

typedef struct {
  double *x, *y;
  int n;
} series;

/* Reads columns xname (NULL: the first) and yname of a CSV with a header row. */
static gdl_status read_csv(const char *path, const char *xname, const char *yname, double scale, series *s) {
  FILE *f = fopen(path, "r");
  if (!f) return gdl_error(GDL_ERR_IO, "%s: cannot open", path);
  char line[4096];
  int xc = xname ? -1 : 0, yc = -1, col = 0;
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return gdl_error(GDL_ERR_FORMAT, "%s: empty file (expected a header row)", path);
  }
  for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), col++) {
    if (xname && !strcmp(tok, xname)) xc = col;
    if (!strcmp(tok, yname)) yc = col;
  }
  if (xc < 0 || yc < 0) {
    fclose(f);
    return gdl_error(GDL_ERR_FORMAT, "%s: no column '%s'", path, yc < 0 ? yname : xname);
  }
  int cap = 64;
  s->x = malloc(sizeof(double) * (size_t)cap);
  s->y = malloc(sizeof(double) * (size_t)cap);
  s->n = 0;
  while (fgets(line, sizeof line, f)) {
    double xv = NAN, yv = NAN;
    char *save = NULL;
    col = 0;
    for (char *tok = strtok_r(line, ",\r\n", &save); tok; tok = strtok_r(NULL, ",\r\n", &save), col++) {
      char *end;
      double v = strtod(tok, &end);
      if (end == tok || *end) v = NAN;
      if (col == xc) xv = v;
      if (col == yc) yv = v * scale;
    }
    if (isnan(xv) || isnan(yv)) continue;
    if (s->n == cap) {
      cap *= 2;
      s->x = realloc(s->x, sizeof(double) * (size_t)cap);
      s->y = realloc(s->y, sizeof(double) * (size_t)cap);
    }
    s->x[s->n] = xv;
    s->y[s->n++] = yv;
  }
  fclose(f);
  if (!s->n) return gdl_error(GDL_ERR_FORMAT, "%s: no numeric rows in columns %s, %s", path, xname ? xname : "1", yname);
  return GDL_OK;
}

int cli_plot(int argc, char **argv) {
  const char *files[16], *x = NULL, *y = NULL, *labels = NULL, *out = NULL;
  gdl_plot_opts o = {0};
  double scale = 1;
  int nf = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return fputs(plot_usage, stdout), 0;
    if (strncmp(a, "--", 2)) {
      if (nf == 16) return cli_failf("plot: at most 16 files"), 2;
      files[nf++] = a;
      continue;
    }
    if (i + 1 >= argc) return cli_failf("plot: option %s needs a value", a), 2;
    const char *v = argv[++i];
    if (!strcmp(a, "--x")) x = v;
    else if (!strcmp(a, "--y")) y = v;
    else if (!strcmp(a, "--labels")) labels = v;
    else if (!strcmp(a, "--title")) o.title = v;
    else if (!strcmp(a, "--xlabel")) o.xlabel = v;
    else if (!strcmp(a, "--ylabel")) o.ylabel = v;
    else if (!strcmp(a, "--output")) out = v;
    else if (!strcmp(a, "--scale")) scale = atof(v);
    else return cli_failf("plot: unknown option '%s'\n\n%s", a, plot_usage), 2;
  }
  if (!nf || !y || !out) return cli_failf("plot: files, --y and --output are required\n\n%s", plot_usage), 2;
  if (!o.xlabel) o.xlabel = x ? x : "";
  if (!o.ylabel) o.ylabel = y;
  series s[16] = {{0}};
  gdl_series g[16];
  char *names = labels ? strdup(labels) : NULL, *save = NULL, *tok = names ? strtok_r(names, ";", &save) : NULL;
  gdl_status st = GDL_OK;
  for (int k = 0; k < nf && !st; k++) {
    st = read_csv(files[k], x, y, scale, &s[k]);
    g[k] = (gdl_series){tok ? tok : files[k], s[k].x, s[k].y, s[k].n};
    if (tok) tok = strtok_r(NULL, ";", &save);
  }
  if (!st) st = gdl_plot_png(out, g, nf, &o);
  for (int k = 0; k < nf; k++) free(s[k].x), free(s[k].y);
  free(names);
  return st ? cli_fail() : 0;
}
