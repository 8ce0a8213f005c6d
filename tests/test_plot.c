/* PNG line plots: sizes, series colours inside the axes, a white background, edge
 * cases (NaN, Inf, empty, one point, flat), tick labels, and atomic writes that
 * leave nothing behind on failure. Images are read back with libpng. */
#include <dirent.h>
#include <png.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/plot.h"
#include "test.h"

/* The first colours of plot.c's palette (Okabe-Ito blue, vermillion, bluish
 * green, reddish purple). */
static const uint8_t colours[4][3] = {{0, 114, 178}, {213, 94, 0}, {0, 158, 115},
                                      {204, 121, 167}};

static char dir[64];

static const char *in_dir(const char *name) {
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

typedef struct {
  int w, h;
  uint8_t *px; /* RGB */
} image;

/* Reads an 8-bit RGB PNG; w = 0 when the file is missing or not such a PNG. */
static image read_png(const char *path) {
  image im = {0};
  png_image p = {.version = PNG_IMAGE_VERSION};
  if (!png_image_begin_read_from_file(&p, path)) return im;
  if (p.format != PNG_FORMAT_RGB) { /* plot.c writes RGB without alpha */
    png_image_free(&p);
    return im;
  }
  im.px = malloc(PNG_IMAGE_SIZE(p));
  if (!im.px || !png_image_finish_read(&p, NULL, im.px, 0, NULL)) {
    free(im.px);
    png_image_free(&p);
    return (image){0};
  }
  im.w = (int)p.width, im.h = (int)p.height;
  return im;
}

/* Pixels of exactly colour c in the rectangle [x0, x1) x [y0, y1). */
static long count_colour(const image *im, const uint8_t c[3], int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      const uint8_t *p = im->px + 3 * ((size_t)y * im->w + x);
      n += p[0] == c[0] && p[1] == c[1] && p[2] == c[2];
    }
  return n;
}

static double white_fraction(const image *im) {
  static const uint8_t white[3] = {255, 255, 255};
  return (double)count_colour(im, white, 0, 0, im->w, im->h) / ((double)im->w * im->h);
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Entries in the temporary folder, so that a left-over temp file shows. */
static int dir_entries(void) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void remove_dir(void) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    const char *p = in_dir(e->d_name);
    if (rmdir(p) != 0) unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

/* Training-curve-like data: four series over 40 epochs, each crossing the middle. */
static void test_curves(void) {
  enum { N = 40 };
  double x[N], y[4][N];
  for (int i = 0; i < N; i++) {
    x[i] = i + 1;
    y[0][i] = 2.0 * exp(-0.08 * i) + 0.1;
    y[1][i] = 2.1 * exp(-0.07 * i) + 0.2;
    y[2][i] = 1 - 0.9 * exp(-0.1 * i);
    y[3][i] = 0.95 - 0.9 * exp(-0.09 * i);
  }
  gdl_series s[4] = {{"train loss", x, y[0], N}, {"val loss", x, y[1], N},
                     {"train acc", x, y[2], N}, {"val acc", x, y[3], N}};
  gdl_plot_opts o = {.title = "Training", .xlabel = "epoch", .ylabel = "value"};
  const char *path = in_dir("curves.png");
  gdl_status st = gdl_plot_png(path, s, 4, &o);
  CHECK(st == GDL_OK, "curves: %s", gdl_last_error());
  image im = read_png(path);
  CHECK(im.w == 800 && im.h == 500, "default size: got %dx%d", im.w, im.h);
  if (im.w != 800 || im.h != 500) return;
  /* a band in the middle of the axes, clear of title, tick labels and corners */
  for (int k = 0; k < 4; k++) {
    long n = count_colour(&im, colours[k], 300, 50, 500, 420);
    CHECK(n >= 150, "series %d colour: only %ld pixels in the plot area", k, n);
  }
  double wf = white_fraction(&im);
  CHECK(wf > 0.75, "background mostly white: %.3f", wf);
  static const uint8_t ink[3] = {34, 34, 34};
  CHECK(count_colour(&im, ink, 0, 0, 800, 40) > 50, "a title is drawn at the top");
  CHECK(count_colour(&im, ink, 0, 0, 40, 500) > 50, "a y label is drawn on the left");
  free(im.px);

  /* two series of few points: markers, and each colour still present */
  gdl_series few[2] = {{"p4 CNN", x, y[2], 8}, {"CNN", x, y[3], 8}};
  path = in_dir("few.png");
  CHECK(gdl_plot_png(path, few, 2, NULL) == GDL_OK, "few points: %s", gdl_last_error());
  im = read_png(path);
  CHECK(im.w == 800 && im.h == 500, "NULL opts gives 800x500: got %dx%d", im.w, im.h);
  for (int k = 0; k < 2 && im.px; k++)
    CHECK(count_colour(&im, colours[k], 100, 20, 780, 440) >= 300, "few points: colour %d", k);
  free(im.px);
}

static void test_sizes(void) {
  double y[5] = {1, 3, 2, 5, 4};
  gdl_series s = {"y", NULL, y, 5};
  const int sizes[][4] = {{640, 400, 640, 400}, {1600, 1000, 1600, 1000}, {200, 120, 200, 120},
                          {400, 0, 400, 250},   {0, 250, 400, 250}};
  for (int k = 0; k < 5; k++) {
    gdl_plot_opts o = {.title = "sizes", .width = sizes[k][0], .height = sizes[k][1]};
    const char *path = in_dir("size.png");
    gdl_status st = gdl_plot_png(path, &s, 1, &o);
    CHECK(st == GDL_OK, "size %dx%d: %s", sizes[k][0], sizes[k][1], gdl_last_error());
    image im = read_png(path);
    CHECK(im.w == sizes[k][2] && im.h == sizes[k][3], "size %dx%d: got %dx%d", sizes[k][2],
          sizes[k][3], im.w, im.h);
    if (im.px) CHECK(count_colour(&im, colours[0], 0, 0, im.w, im.h) > 20, "size %d: line", k);
    free(im.px);
  }
}

/* NaN-only, empty, one-point, flat, Inf and huge/tiny series draw without trouble. */
static void test_edge_cases(void) {
  double nan3[3] = {NAN, NAN, NAN}, one[1] = {0.25}, flat[6] = {7, 7, 7, 7, 7, 7};
  double mixed[7] = {1, NAN, 2, INFINITY, 3, -INFINITY, 2.5};
  double xs[3] = {NAN, 1, 2}, tiny[4] = {1e-7, 3e-7, 2e-7, 5e-7}, huge[4] = {1e6, 4e6, 2.5e6, 3e6};
  double zero[4] = {0, 0, 0, 0};
  struct {
    const char *name;
    gdl_series s[3];
    int n;
  } cases[] = {
      {"nan", {{"nan only", NULL, nan3, 3}}, 1},
      {"empty", {{"empty", NULL, NULL, 0}}, 1},
      {"nothing", {{0}}, 0},
      {"one", {{"one point", NULL, one, 1}}, 1},
      {"flat", {{"flat", NULL, flat, 6}}, 1},
      {"zero", {{"zeros", NULL, zero, 4}}, 1},
      {"mixed", {{"mixed", NULL, mixed, 7}, {"nan x", xs, flat, 3}, {"empty", NULL, NULL, 0}}, 3},
      {"tiny", {{"tiny", NULL, tiny, 4}, {NULL, NULL, huge, 0}}, 2},
      {"huge", {{"huge", NULL, huge, 4}}, 1},
      {"utf8", {{"\xce\xb8 (\xc2\xb0) caf\xc3\xa9 \xff bad \xc3", NULL, tiny, 4}}, 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char name[64];
    snprintf(name, sizeof name, "edge_%s.png", cases[k].name);
    const char *path = in_dir(name);
    gdl_status st = gdl_plot_png(path, cases[k].s, cases[k].n, &(gdl_plot_opts){.title = name});
    CHECK(st == GDL_OK, "%s: %s", cases[k].name, gdl_last_error());
    image im = read_png(path);
    CHECK(im.w == 800 && im.h == 500, "%s: read back %dx%d", cases[k].name, im.w, im.h);
    if (!im.px) continue;
    CHECK(white_fraction(&im) > 0.8, "%s: mostly white", cases[k].name);
    bool drawn = strcmp(cases[k].name, "nan") && strcmp(cases[k].name, "empty") &&
                 strcmp(cases[k].name, "nothing");
    if (drawn)
      CHECK(count_colour(&im, colours[0], 60, 30, 780, 450) > 10, "%s: series drawn",
            cases[k].name);
    free(im.px);
  }
}

/* More series than colours, long labels and a title wider than the image. */
static void test_crowded(void) {
  enum { S = 12, N = 50 };
  double y[S][N];
  gdl_series s[S];
  char labels[S][120];
  for (int k = 0; k < S; k++) {
    for (int i = 0; i < N; i++) y[k][i] = sin(0.1 * i + k) + 0.1 * k;
    snprintf(labels[k], sizeof labels[k], "series %d with a rather long label that goes on and on "
             "and on well past any sensible legend width", k);
    s[k] = (gdl_series){labels[k], NULL, y[k], N};
  }
  char title[400];
  memset(title, 'W', sizeof title - 1);
  title[sizeof title - 1] = 0;
  const char *path = in_dir("crowded.png");
  gdl_plot_opts o = {.title = title, .xlabel = title, .ylabel = title, .width = 320, .height = 200};
  CHECK(gdl_plot_png(path, s, S, &o) == GDL_OK, "crowded: %s", gdl_last_error());
  image im = read_png(path);
  CHECK(im.w == 320 && im.h == 200, "crowded: read back %dx%d", im.w, im.h);
  free(im.px);
}

static bool has_label(const char (*lab)[GDL__PLOT_LABEL_LEN], int n, const char *want) {
  for (int i = 0; i < n; i++)
    if (!strcmp(lab[i], want)) return true;
  return false;
}

static void test_ticks(void) {
  double v[64];
  char lab[64][GDL__PLOT_LABEL_LEN];
  int n = gdl__plot_ticks(-0.05, 1.05, 700, false, v, lab, 64);
  CHECK(n >= 4 && n <= 12, "[0, 1]: %d ticks", n);
  CHECK(has_label(lab, n, "0.0") && has_label(lab, n, "1.0"), "[0, 1]: 0.0 and 1.0 labelled");
  for (int i = 1; i < n; i++) {
    double step = v[i] - v[i - 1], m = step / pow(10, floor(log10(step) + 1e-9));
    CHECK(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6,
          "1-2-5 step, got %g", step);
  }
  n = gdl__plot_ticks(0, 4.2e-5, 700, false, v, lab, 64);
  CHECK(has_label(lab, n, "1e-05") && has_label(lab, n, "0"), "small: '%s' .. '%s'", lab[0],
        lab[n > 0 ? n - 1 : 0]);
  n = gdl__plot_ticks(0.9e6, 5.1e6, 700, false, v, lab, 64);
  CHECK(has_label(lab, n, "2.5e+06") && has_label(lab, n, "1e+06"), "large: '%s' .. '%s'", lab[0],
        lab[n > 0 ? n - 1 : 0]);
  n = gdl__plot_ticks(0.5, 3.5, 700, true, v, lab, 64);
  CHECK(n == 3 && !strcmp(lab[0], "1") && !strcmp(lab[2], "3"), "integer axis: %d ticks", n);
  n = gdl__plot_ticks(-2.2, 2.2, 700, false, v, lab, 64);
  CHECK((has_label(lab, n, "0.0") || has_label(lab, n, "0")) && !has_label(lab, n, "-0.0") &&
            !has_label(lab, n, "-0"),
        "symmetric: a 0 label and no -0");
  n = gdl__plot_ticks(0, 1000, 120, false, v, lab, 64);
  CHECK(n >= 2 && n <= 3, "short axis: labels do not collide (%d ticks)", n);
  CHECK(gdl__plot_ticks(1, 1, 700, false, v, lab, 64) == 0, "empty range: no ticks");
}

/* Failures return errors naming the path and leave no file, temporary or final. */
static void test_failures(void) {
  double y[3] = {1, 2, 3};
  gdl_series s = {"y", NULL, y, 3};
  int before = dir_entries();

  const char *path = in_dir("no/such/dir/plot.png");
  gdl_status st = gdl_plot_png(path, &s, 1, NULL);
  CHECK(st == GDL_ERR_IO, "missing folder: status %d", st);
  CHECK(strstr(gdl_last_error(), path) != NULL, "error names the path: %s", gdl_last_error());
  CHECK(!exists(path), "missing folder: no file");

  /* the target is a folder: the rename fails and the temporary file must go */
  const char *sub = in_dir("a_folder");
  CHECK(mkdir(sub, 0755) == 0, "mkdir");
  before = dir_entries();
  st = gdl_plot_png(sub, &s, 1, NULL);
  CHECK(st == GDL_ERR_IO, "target is a folder: status %d", st);
  CHECK(strstr(gdl_last_error(), sub) != NULL, "error names the path: %s", gdl_last_error());
  CHECK(dir_entries() == before, "no temporary file left: %d entries, %d before", dir_entries(),
        before);

  /* overwriting an existing plot replaces it and leaves nothing else */
  path = in_dir("again.png");
  CHECK(gdl_plot_png(path, &s, 1, NULL) == GDL_OK, "first write: %s", gdl_last_error());
  before = dir_entries();
  gdl_plot_opts o = {.width = 300, .height = 200};
  CHECK(gdl_plot_png(path, &s, 1, &o) == GDL_OK, "overwrite: %s", gdl_last_error());
  image im = read_png(path);
  CHECK(im.w == 300 && im.h == 200, "overwrite replaced the file: %dx%d", im.w, im.h);
  free(im.px);
  CHECK(dir_entries() == before, "overwrite leaves no temporary file");

  /* bad arguments */
  path = in_dir("bad.png");
  gdl_series no_y = {"y", NULL, NULL, 3}, neg = {"y", NULL, y, -1};
  CHECK(gdl_plot_png(NULL, &s, 1, NULL) == GDL_ERR_ARG, "NULL path");
  CHECK(gdl_plot_png(path, &s, -1, NULL) == GDL_ERR_ARG, "negative nseries");
  CHECK(gdl_plot_png(path, NULL, 2, NULL) == GDL_ERR_ARG, "NULL series");
  CHECK(gdl_plot_png(path, &no_y, 1, NULL) == GDL_ERR_ARG, "points without y");
  CHECK(gdl_plot_png(path, &neg, 1, NULL) == GDL_ERR_ARG, "negative n");
  CHECK(gdl_plot_png(path, &s, 1, &(gdl_plot_opts){.width = 10, .height = 10}) == GDL_ERR_ARG,
        "too small");
  CHECK(gdl_plot_png(path, &s, 1, &(gdl_plot_opts){.width = -800}) == GDL_ERR_ARG,
        "negative width");
  CHECK(strstr(gdl_last_error(), path) != NULL, "error names the path: %s", gdl_last_error());
  CHECK(!exists(path), "bad arguments: no file");
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/gdl_test_plot_XXXXXX");
  if (!mkdtemp(dir)) {
    printf("FAIL cannot make a temporary folder\n");
    return 1;
  }
  test_curves();
  test_sizes();
  test_edge_cases();
  test_crowded();
  test_ticks();
  test_failures();
  remove_dir();
  return test_report();
}
