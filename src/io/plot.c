/* PNG line plots: an RGB canvas, "nice" 1-2-5 ticks, anti-aliased polylines with
 * markers, a legend placed where it hides the least ink, and an atomic write
 * through libpng (temporary file in the target's folder, then rename).
 *
 * Points whose x or y is NaN, Inf or beyond +-1e300 are skipped and break the line
 * there, as in matplotlib; a finite point with no finite neighbour becomes a dot. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "font.h"
#include "gdl/io.h"
#include "plot.h"

/* ---- colours ------------------------------------------------------------ */

typedef struct {
  uint8_t r, g, b;
} rgb;

/* Okabe-Ito, reordered so that the first colours contrast most on white; yellow,
 * the faintest, comes last. */
static const rgb palette[] = {
    {0, 114, 178},   /* blue */
    {213, 94, 0},    /* vermillion */
    {0, 158, 115},   /* bluish green */
    {204, 121, 167}, /* reddish purple */
    {230, 159, 0},   /* orange */
    {86, 180, 233},  /* sky blue */
    {0, 0, 0},       /* black */
    {240, 228, 66},  /* yellow */
};
#define NPALETTE ((int)(sizeof palette / sizeof palette[0]))

static const rgb WHITE = {255, 255, 255};
static const rgb INK = {34, 34, 34};        /* text */
static const rgb FRAME = {80, 80, 80};      /* axes box and ticks */
static const rgb GRID = {228, 228, 228};    /* grid lines */
static const rgb LEGEND_EDGE = {204, 204, 204};

/* ---- the canvas --------------------------------------------------------- */

typedef struct {
  int w, h;
  uint8_t *px;   /* w*h RGB */
  float *cov;    /* w*h coverage of the series being drawn */
  uint8_t *ink;  /* w*h: 1 where some series left ink (legend placement) */
  int cx0, cy0, cx1, cy1; /* clip rectangle [cx0, cx1) x [cy0, cy1) for series */
} canvas;

static void blend(canvas *c, int x, int y, rgb col, double a) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h || a <= 0) return;
  uint8_t *p = c->px + 3 * ((size_t)y * c->w + x);
  if (a >= 1) {
    p[0] = col.r, p[1] = col.g, p[2] = col.b;
    return;
  }
  p[0] = (uint8_t)lround(p[0] + (col.r - p[0]) * a);
  p[1] = (uint8_t)lround(p[1] + (col.g - p[1]) * a);
  p[2] = (uint8_t)lround(p[2] + (col.b - p[2]) * a);
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col, double a) {
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > c->w) x1 = c->w;
  if (y1 > c->h) y1 = c->h;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) blend(c, x, y, col, a);
}

/* ---- text --------------------------------------------------------------- */

/* Decodes one UTF-8 character at *s, advances *s past it and returns its glyph
 * index in font_sheet: ASCII, the few signs the font has, else the box. */
static int next_glyph(const char **s) {
  const unsigned char *p = (const unsigned char *)*s;
  unsigned c = p[0];
  int len = 1;
  if (c >= 0xc0 && c < 0xf8) {
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
    c &= 0x3fu >> extra;
    while (len <= extra && (p[len] & 0xc0) == 0x80) c = c << 6 | (p[len++] & 0x3f);
    if (len <= extra) c = 0xfffd; /* cut short; the NUL stops the loop */
  } else if (c >= 0x80) {
    c = 0xfffd; /* stray continuation or invalid byte */
  }
  *s += len;
  static const unsigned extra_signs[] = {0xb0, 0xb1, 0xb5, 0xd7, 0xb2, 0x3b8};
  if (c >= 32 && c < 127) return (int)c - 32;
  for (int i = 0; i < 6; i++)
    if (c == extra_signs[i]) return 96 + i;
  return FONT_BOX;
}

static bool glyph_ink(int i, int gx, int gy) {
  const char *row = font_sheet[(i / FONT_PER_BAND) * FONT_H + gy];
  return row[(i % FONT_PER_BAND) * FONT_ADV + gx] == '#';
}

static int glyph_count(const char *s) {
  int n = 0;
  while (*s) next_glyph(&s), n++;
  return n;
}

/* Width in pixels at scale sc; bold glyphs advance one column more. */
static int text_width(const char *s, int sc, bool bold) {
  int n = glyph_count(s);
  return n ? (n * (FONT_ADV + bold) - 1) * sc : 0;
}

/* Draws s with its cell's top-left corner at (x, y); with up, the text is rotated a
 * quarter turn counter-clockwise and reads bottom to top from (x, y), its top
 * facing left. Bold widens each stroke one column to the right unless that would
 * close a one-column gap (as in 'm'), and so stays legible at 5 columns. */
static void draw_text(canvas *c, int x, int y, const char *s, rgb col, int sc, bool bold,
                      bool up) {
  for (int k = 0; *s; k++) {
    int g = next_glyph(&s);
    for (int gy = 0; gy < FONT_H; gy++)
      for (int gx = 0; gx <= FONT_W; gx++) {
        bool on = gx < FONT_W && glyph_ink(g, gx, gy);
        if (!on && bold && gx > 0 && glyph_ink(g, gx - 1, gy))
          on = gx + 1 >= FONT_W || !glyph_ink(g, gx + 1, gy);
        if (!on) continue;
        int tx = (k * (FONT_ADV + bold) + gx) * sc, ty = gy * sc; /* text space */
        for (int i = 0; i < sc; i++)
          for (int j = 0; j < sc; j++) {
            if (up)
              blend(c, x + ty + j, y - 1 - (tx + i), col, 1);
            else
              blend(c, x + tx + i, y + ty + j, col, 1);
          }
      }
  }
}

/* ---- anti-aliased shapes into the coverage buffer ------------------------------ */

static void cov_put(canvas *c, int x, int y, double a) {
  if (a <= 0) return;
  if (a > 1) a = 1;
  float *p = c->cov + (size_t)y * c->w + x;
  if (a > *p) *p = (float)a; /* max, not sum: joints of a polyline stay even */
}

static double seg_dist(double px, double py, double x0, double y0, double x1, double y1) {
  double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
  double t = l2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / l2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

/* A segment of half-width hw with round caps. Walks the major axis and only a band
 * of pixels across it, so the cost is proportional to the segment's length. */
static void cov_segment(canvas *c, double x0, double y0, double x1, double y1, double hw) {
  double dx = x1 - x0, dy = y1 - y0, r = hw + 1, band = 1.5 * r + 1;
  bool xmajor = fabs(dx) >= fabs(dy);
  double a0 = xmajor ? fmin(x0, x1) : fmin(y0, y1), a1 = xmajor ? fmax(x0, x1) : fmax(y0, y1);
  int lo = xmajor ? c->cx0 : c->cy0, hi = xmajor ? c->cx1 : c->cy1;
  int olo = xmajor ? c->cy0 : c->cx0, ohi = xmajor ? c->cy1 : c->cx1;
  int i0 = (int)fmax(floor(a0 - r), lo), i1 = (int)fmin(ceil(a1 + r), hi - 1);
  for (int i = i0; i <= i1; i++) {
    double p = i + 0.5, d = xmajor ? dx : dy, t = d != 0 ? (p - (xmajor ? x0 : y0)) / d : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double o = xmajor ? y0 + t * dy : x0 + t * dx; /* the line across the major axis */
    int j0 = (int)fmax(floor(o - band), olo), j1 = (int)fmin(ceil(o + band), ohi - 1);
    for (int j = j0; j <= j1; j++) {
      int x = xmajor ? i : j, y = xmajor ? j : i;
      cov_put(c, x, y, hw + 0.5 - seg_dist(x + 0.5, y + 0.5, x0, y0, x1, y1));
    }
  }
}

/* Series past the palette's length repeat its colours with dashed, then dotted
 * lines. The phase carries the dash pattern across the joints of a polyline. */
typedef struct {
  double on, off, phase; /* on <= 0: solid */
} dash;

static dash dash_for(int idx, int sc) {
  switch (idx / NPALETTE % 3) {
    case 1: return (dash){7.0 * sc, 4.0 * sc, 0};
    case 2: return (dash){0.5 * sc, 4.0 * sc, 0};
    default: return (dash){0, 0, 0};
  }
}

static void cov_dashed(canvas *c, double x0, double y0, double x1, double y1, double hw,
                       dash *d) {
  if (d->on <= 0) {
    cov_segment(c, x0, y0, x1, y1, hw);
    return;
  }
  double len = hypot(x1 - x0, y1 - y0), period = d->on + d->off;
  for (double t = 0; t < len;) {
    double ph = fmod(d->phase + t, period);
    double step = fmax(ph < d->on ? d->on - ph : period - ph, 1e-6);
    double e = fmin(len, t + step);
    if (ph < d->on)
      cov_segment(c, x0 + (x1 - x0) * t / len, y0 + (y1 - y0) * t / len,
                  x0 + (x1 - x0) * e / len, y0 + (y1 - y0) * e / len, hw);
    t = e;
  }
  d->phase = fmod(d->phase + len, period);
}

enum { MARK_CIRCLE, MARK_SQUARE, MARK_TRIANGLE, MARK_DIAMOND, MARK_DOWN, MARK_COUNT };

static bool mark_inside(int shape, double u, double v, double r) {
  switch (shape) {
    case MARK_SQUARE: return fabs(u) <= 0.85 * r && fabs(v) <= 0.85 * r;
    case MARK_DIAMOND: return fabs(u) + fabs(v) <= 1.25 * r;
    case MARK_TRIANGLE:
    case MARK_DOWN: {
      if (shape == MARK_TRIANGLE) v = -v; /* image y grows downwards */
      double R = 1.3 * r; /* circumradius; centroid at the origin */
      return v <= R && v >= -R / 2 && fabs(u) <= (R - v) / sqrt(3.0);
    }
    default: return u * u + v * v <= r * r;
  }
}

/* A marker centred at (x, y), coverage from 4x4 samples per pixel. */
static void cov_marker(canvas *c, int shape, double x, double y, double r) {
  int i0 = (int)fmax(floor(x - 1.5 * r - 1), c->cx0), i1 = (int)fmin(ceil(x + 1.5 * r + 1), c->cx1);
  int j0 = (int)fmax(floor(y - 1.5 * r - 1), c->cy0), j1 = (int)fmin(ceil(y + 1.5 * r + 1), c->cy1);
  for (int j = j0; j < j1; j++)
    for (int i = i0; i < i1; i++) {
      int n = 0;
      for (int s = 0; s < 16; s++)
        n += mark_inside(shape, i + (s % 4 + 0.5) / 4 - x, j + (s / 4 + 0.5) / 4 - y, r);
      cov_put(c, i, j, n / 16.0);
    }
}

/* Paints the coverage buffer in col over the clip rectangle, notes the ink and
 * clears the buffer for the next series. */
static void cov_flush(canvas *c, rgb col) {
  for (int y = c->cy0; y < c->cy1; y++)
    for (int x = c->cx0; x < c->cx1; x++) {
      size_t k = (size_t)y * c->w + x;
      if (c->cov[k] <= 0) continue;
      blend(c, x, y, col, c->cov[k]);
      if (c->cov[k] > 0.25f) c->ink[k] = 1;
      c->cov[k] = 0;
    }
}

/* ---- axes: ranges, 1-2-5 ticks, labels ---------------------------------------------- */

#define MAX_TICKS 64
#define LABEL_LEN GDL__PLOT_LABEL_LEN

typedef struct {
  double lo, hi;  /* axis limits */
  double step;
  bool integer;   /* all data are whole numbers: no fractional ticks */
  int n;
  double v[MAX_TICKS];
  char lab[MAX_TICKS][LABEL_LEN];
  int maxw;       /* widest label, pixels */
} axis;

static bool usable(double v) { return isfinite(v) && fabs(v) <= 1e300; }

static double series_x(const gdl_series *s, int i) { return s->x ? s->x[i] : (double)i; }

static bool point_ok(const gdl_series *s, int i) {
  return usable(series_x(s, i)) && usable(s->y[i]);
}

/* The power of ten times 1, 2 or 5 nearest to raw (in log scale). */
static double nice_step(double raw) {
  double p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.4142 ? 1 : f < 3.1623 ? 2 : f < 7.0711 ? 5 : 10) * p;
}

/* The next coarser step: 1 -> 2 -> 5 -> 10. */
static double next_step(double s) {
  double p = pow(10, floor(log10(s) + 1e-9)), f = s / p;
  return (f < 1.5 ? 2 : f < 3.5 ? 5 : 10) * p;
}

/* Sets the limits from the data range [lo, hi] (lo > hi: no data) plus a margin. */
static void axis_limits(axis *a, double lo, double hi, double margin) {
  if (lo > hi) lo = 0, hi = 1;
  double mag = fmax(fabs(lo), fabs(hi));
  if (hi - lo <= 1e-12 * mag || hi - lo == 0) { /* one value: make room around it */
    double d = mag > 0 ? 0.1 * mag : 1;
    if (a->integer) d = fmax(d, 1);
    lo -= d, hi += d;
  }
  double m = (hi - lo) * margin;
  a->lo = lo - m, a->hi = hi + m;
}

static void strip_mantissa_zeros(char *s) {
  char *e = strchr(s, 'e');
  if (!e || !strchr(s, '.')) return;
  char *q = e;
  while (q[-1] == '0') q--;
  if (q[-1] == '.') q--;
  memmove(q, e, strlen(e) + 1);
}

/* Ticks at multiples of step inside [lo, hi] and their labels: fixed notation with
 * the step's decimals, or scientific (1e-05, 2.5e+06) for large or tiny values. */
static void axis_ticks(axis *a, double step, int sc) {
  a->step = step;
  a->n = 0;
  double i0 = ceil(a->lo / step - 1e-9), i1 = floor(a->hi / step + 1e-9);
  for (double i = i0; i <= i1 && a->n < MAX_TICKS; i++) {
    double v = i * step;
    if (fabs(v) < step * 1e-9) v = 0; /* no 1e-17 or -0 labels */
    a->v[a->n++] = v + 0.0;
  }
  int k = (int)floor(log10(step) + 1e-9);
  double mag = fmax(fabs(a->lo), fabs(a->hi));
  bool sci = mag >= 1e5 || k <= -5;
  a->maxw = 0;
  for (int t = 0; t < a->n; t++) {
    double v = a->v[t];
    if (!sci) {
      snprintf(a->lab[t], LABEL_LEN, "%.*f", k < 0 ? -k : 0, v);
    } else if (v == 0) {
      snprintf(a->lab[t], LABEL_LEN, "0");
    } else {
      int e = (int)floor(log10(fabs(v)) + 1e-9), p = e - k;
      snprintf(a->lab[t], LABEL_LEN, "%.*e", p < 0 ? 0 : p > 15 ? 15 : p, v);
      strip_mantissa_zeros(a->lab[t]);
    }
    int w = text_width(a->lab[t], sc, false);
    if (w > a->maxw) a->maxw = w;
  }
}

/* Picks the step for an axis `len` pixels long: about one tick per `spacing`
 * pixels, coarser until labels no longer collide. */
static void axis_layout(axis *a, int len, int spacing, bool horizontal, int sc) {
  double range = a->hi - a->lo, target = fmax(2, (double)len / spacing);
  double step = nice_step(range / target);
  if (a->integer && step < 1) step = 1;
  for (int tries = 0; tries < 40; tries++) {
    axis_ticks(a, step, sc);
    double px = step / range * len; /* pixels between ticks */
    double need = horizontal ? a->maxw + 12 * sc : (FONT_H + 6) * sc;
    if (px >= need || a->n <= 2) return;
    step = next_step(step);
  }
}

int gdl__plot_ticks(double lo, double hi, int len, bool integer, double *v,
                    char (*labels)[GDL__PLOT_LABEL_LEN], int cap) {
  if (!(hi > lo) || !usable(lo) || !usable(hi) || len < 1) return 0;
  axis a = {.lo = lo, .hi = hi, .integer = integer};
  axis_layout(&a, len, 100, true, 1);
  int n = a.n < cap ? a.n : cap;
  for (int i = 0; i < n; i++) {
    v[i] = a.v[i];
    memcpy(labels[i], a.lab[i], LABEL_LEN);
  }
  return n;
}

/* ---- the plot ---------------------------------------------------------------- */

typedef struct {
  int x0, y0, x1, y1; /* frame lines; data are drawn strictly inside */
  const axis *ax, *ay;
} frame;

static double map_x(const frame *f, double v) {
  return f->x0 + 0.5 + (v - f->ax->lo) / (f->ax->hi - f->ax->lo) * (f->x1 - f->x0);
}

static double map_y(const frame *f, double v) {
  return f->y1 + 0.5 - (v - f->ay->lo) / (f->ay->hi - f->ay->lo) * (f->y1 - f->y0);
}

static int count_ok(const gdl_series *s) {
  int n = 0;
  for (int i = 0; i < s->n; i++) n += point_ok(s, i);
  return n;
}

static void draw_series(canvas *c, const frame *f, const gdl_series *s, int idx, int sc,
                        bool markers) {
  double hw = sc; /* lines are 2 px wide at scale 1 */
  dash d = dash_for(idx, sc);
  int prev = -1;
  for (int i = 0; i < s->n; i++) {
    if (!point_ok(s, i)) {
      prev = -1;
      continue;
    }
    double x = map_x(f, series_x(s, i)), y = map_y(f, s->y[i]);
    if (prev >= 0)
      cov_dashed(c, map_x(f, series_x(s, prev)), map_y(f, s->y[prev]), x, y, hw, &d);
    else if (i + 1 >= s->n || !point_ok(s, i + 1))
      cov_marker(c, MARK_CIRCLE, x, y, 1.6 * hw); /* an isolated point */
    prev = i;
  }
  if (markers)
    for (int i = 0; i < s->n; i++)
      if (point_ok(s, i))
        cov_marker(c, idx % MARK_COUNT, map_x(f, series_x(s, i)), map_y(f, s->y[i]), 3.5 * sc);
  cov_flush(c, palette[idx % NPALETTE]);
}

#define MAX_LABEL 48

/* Legend text: labels longer than MAX_LABEL bytes are cut, on a character
 * boundary, and end in "...". */
static void legend_text(char *out, const char *label) {
  size_t n = strlen(label);
  if (n <= MAX_LABEL) {
    memcpy(out, label, n + 1);
    return;
  }
  n = MAX_LABEL - 3;
  while (n > 0 && ((unsigned char)label[n] & 0xc0) == 0x80) n--;
  memcpy(out, label, n);
  memcpy(out + n, "...", 4);
}

static void draw_legend(canvas *c, const frame *f, const gdl_series *series, int nseries,
                        const bool *markers, int sc) {
  int nlab = 0, maxw = 0;
  char buf[MAX_LABEL + 1];
  for (int i = 0; i < nseries; i++) {
    if (!series[i].label || !series[i].label[0]) continue;
    legend_text(buf, series[i].label);
    int w = text_width(buf, sc, false);
    if (w > maxw) maxw = w;
    nlab++;
  }
  if (!nlab) return;
  int pad = 8 * sc, sample = 28 * sc, rowh = (FONT_H + 5) * sc;
  int bw = pad + sample + 8 * sc + maxw + pad, bh = pad + nlab * rowh - 5 * sc + pad;
  int inset = 10 * sc;
  int l = f->x0 + inset, r = f->x1 - inset - bw, t = f->y0 + inset, b = f->y1 - inset - bh;
  int mx = (l + r) / 2, my = (t + b) / 2;
  /* candidates in order of preference; the one covering the least ink wins */
  const int cand[][2] = {{r, t}, {l, t}, {r, b}, {l, b}, {r, my}, {l, my}, {mx, t}, {mx, b}};
  long best = -1;
  int bx = r, by = t;
  for (int k = 0; k < 8; k++) {
    long n = 0;
    for (int y = cand[k][1]; y < cand[k][1] + bh; y++)
      for (int x = cand[k][0]; x < cand[k][0] + bw; x++)
        if (x >= 0 && y >= 0 && x < c->w && y < c->h) n += c->ink[(size_t)y * c->w + x];
    if (best < 0 || n < best) best = n, bx = cand[k][0], by = cand[k][1];
  }
  /* box: translucent white so that hidden data still show faintly */
  fill_rect(c, bx, by, bx + bw, by + bh, WHITE, 0.88);
  fill_rect(c, bx, by, bx + bw, by + sc, LEGEND_EDGE, 1);
  fill_rect(c, bx, by + bh - sc, bx + bw, by + bh, LEGEND_EDGE, 1);
  fill_rect(c, bx, by, bx + sc, by + bh, LEGEND_EDGE, 1);
  fill_rect(c, bx + bw - sc, by, bx + bw, by + bh, LEGEND_EDGE, 1);
  int saved[4] = {c->cx0, c->cy0, c->cx1, c->cy1};
  c->cx0 = bx > 0 ? bx : 0, c->cy0 = by > 0 ? by : 0;
  c->cx1 = bx + bw < c->w ? bx + bw : c->w, c->cy1 = by + bh < c->h ? by + bh : c->h;
  int row = 0;
  for (int i = 0; i < nseries; i++) {
    if (!series[i].label || !series[i].label[0]) continue;
    int ty = by + pad + row * rowh; /* top of the text cell */
    double cy = ty + 6.0 * sc;      /* on a pixel edge: the 2 px line stays crisp */
    double sx0 = bx + pad, sx1 = bx + pad + sample;
    dash d = dash_for(i, sc);
    cov_dashed(c, sx0, cy, sx1, cy, sc, &d);
    if (markers[i]) cov_marker(c, i % MARK_COUNT, (sx0 + sx1) / 2, cy, 3.5 * sc);
    cov_flush(c, palette[i % NPALETTE]);
    legend_text(buf, series[i].label);
    draw_text(c, bx + pad + sample + 8 * sc, ty, buf, INK, sc, false, false);
    row++;
  }
  c->cx0 = saved[0], c->cy0 = saved[1], c->cx1 = saved[2], c->cy1 = saved[3];
}

/* Renders the whole figure into c->px; markers[s] receives whether series s gets
 * markers. Returns false when the image is too small to hold the axes. */
static bool render(canvas *c, const gdl_series *series, int nseries, bool *markers,
                   const char *title, const char *xlabel, const char *ylabel) {
  int W = c->w, H = c->h;
  int sc = (int)fmax(1, floor(fmin(W / 800.0, H / 500.0) + 0.25)); /* text and line scale */
  memset(c->px, 255, (size_t)W * H * 3);

  /* data ranges over the usable points of all series */
  axis ax = {.integer = true}, ay = {.integer = true};
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  bool any_markers = false;
  for (int s = 0; s < nseries; s++) {
    const gdl_series *sr = &series[s];
    for (int i = 0; i < sr->n; i++) {
      if (!point_ok(sr, i)) continue;
      double x = series_x(sr, i), y = sr->y[i];
      xlo = fmin(xlo, x), xhi = fmax(xhi, x), ylo = fmin(ylo, y), yhi = fmax(yhi, y);
      if (x != floor(x)) ax.integer = false;
      if (y != floor(y)) ay.integer = false;
    }
    int k = count_ok(sr);
    markers[s] = k > 0 && k < 30;
    any_markers |= markers[s];
  }
  axis_limits(&ax, xlo, xhi, any_markers ? 0.04 : 0.02);
  axis_limits(&ay, ylo, yhi, 0.06);

  /* margins: title on top; x tick labels and x label below; y label and y tick
   * labels on the left */
  int pad = 12 * sc, fh = FONT_H * sc, tick = 5 * sc;
  bool has_title = title && title[0], has_xl = xlabel && xlabel[0], has_yl = ylabel && ylabel[0];
  int top = has_title ? pad + fh + 10 * sc : pad + fh / 2;
  int bottom = pad + (has_xl ? fh + 6 * sc : 0) + fh + 4 * sc + tick;
  int y0 = top, y1 = H - 1 - bottom;
  if (y1 - y0 < 8 * sc) return false;
  axis_layout(&ay, y1 - y0, 60 * sc, false, sc);
  int left = pad + (has_yl ? fh + 8 * sc : 0) + ay.maxw + 4 * sc + tick;
  int right = 24 * sc;
  axis_layout(&ax, W - 1 - right - left, 100 * sc, true, sc);
  /* the last x tick label may stick out past the frame: widen the right margin */
  if (ax.n > 0) {
    frame f0 = {left, y0, W - 1 - right, y1, &ax, &ay};
    int over = (int)ceil(map_x(&f0, ax.v[ax.n - 1]) + text_width(ax.lab[ax.n - 1], sc, false) / 2.0)
               - (W - pad / 2);
    if (over > 0) {
      right += over;
      axis_layout(&ax, W - 1 - right - left, 100 * sc, true, sc);
    }
  }
  frame f = {left, y0, W - 1 - right, y1, &ax, &ay};
  if (f.x1 - f.x0 < 8 * sc) return false;

  /* grid */
  for (int t = 0; t < ax.n; t++) {
    int x = (int)floor(map_x(&f, ax.v[t]));
    if (x > f.x0 && x < f.x1) fill_rect(c, x, f.y0 + 1, x + 1, f.y1, GRID, 1);
  }
  for (int t = 0; t < ay.n; t++) {
    int y = (int)floor(map_y(&f, ay.v[t]));
    if (y > f.y0 && y < f.y1) fill_rect(c, f.x0 + 1, y, f.x1, y + 1, GRID, 1);
  }

  /* series, clipped to the inside of the frame */
  c->cx0 = f.x0 + 1, c->cy0 = f.y0 + 1, c->cx1 = f.x1, c->cy1 = f.y1;
  for (int s = 0; s < nseries; s++) draw_series(c, &f, &series[s], s, sc, markers[s]);

  /* frame, ticks and tick labels */
  fill_rect(c, f.x0, f.y0, f.x1 + 1, f.y0 + sc, FRAME, 1);
  fill_rect(c, f.x0, f.y1 + 1 - sc, f.x1 + 1, f.y1 + 1, FRAME, 1);
  fill_rect(c, f.x0, f.y0, f.x0 + sc, f.y1 + 1, FRAME, 1);
  fill_rect(c, f.x1 + 1 - sc, f.y0, f.x1 + 1, f.y1 + 1, FRAME, 1);
  for (int t = 0; t < ax.n; t++) {
    int x = (int)floor(map_x(&f, ax.v[t]));
    fill_rect(c, x, f.y1 + 1, x + sc, f.y1 + 1 + tick, FRAME, 1);
    draw_text(c, x + (sc + 1) / 2 - text_width(ax.lab[t], sc, false) / 2, f.y1 + 1 + tick + 3 * sc,
              ax.lab[t], INK, sc, false, false);
  }
  for (int t = 0; t < ay.n; t++) {
    int y = (int)floor(map_y(&f, ay.v[t]));
    fill_rect(c, f.x0 - tick, y, f.x0, y + sc, FRAME, 1);
    /* rows 1..9 hold the digits: centre them on the tick */
    draw_text(c, f.x0 - tick - 4 * sc - text_width(ay.lab[t], sc, false), y - 5 * sc, ay.lab[t],
              INK, sc, false, false);
  }

  draw_legend(c, &f, series, nseries, markers, sc);

  /* title and axis labels, centred on the frame; a text too long for that starts
   * at the image's edge so that its beginning stays readable */
  int cxm = (f.x0 + f.x1) / 2, cym = (f.y0 + f.y1) / 2, edge = 4 * sc;
  if (has_title) {
    int w = text_width(title, sc, true);
    draw_text(c, cxm - w / 2 < edge ? edge : cxm - w / 2, pad - sc, title, INK, sc, true, false);
  }
  if (has_xl) {
    int w = text_width(xlabel, sc, false);
    draw_text(c, cxm - w / 2 < edge ? edge : cxm - w / 2, H - pad - fh + 2 * sc, xlabel, INK, sc,
              false, false);
  }
  if (has_yl) {
    int w = text_width(ylabel, sc, false);
    draw_text(c, pad - sc, cym + w / 2 > H - edge ? H - edge : cym + w / 2, ylabel, INK, sc, false,
              true);
  }
  return true;
}

/* ---- PNG output ---------------------------------------------------------------- */

typedef struct {
  jmp_buf jb;
  char msg[200];
} png_failure;

/* libpng would print and abort by default; record its message and unwind instead. */
static void on_png_error(png_structp png, png_const_charp msg) {
  png_failure *e = png_get_error_ptr(png);
  snprintf(e->msg, sizeof e->msg, "%s", msg);
  longjmp(e->jb, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
  (void)png, (void)msg;
}

static bool write_png(FILE *fp, const uint8_t *px, int w, int h, png_failure *e) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e, on_png_error, on_png_warning);
  if (!png) {
    snprintf(e->msg, sizeof e->msg, "cannot create a PNG writer");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    snprintf(e->msg, sizeof e->msg, "cannot create a PNG writer");
    return false;
  }
  if (setjmp(e->jb)) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) png_write_row(png, px + (size_t)y * w * 3);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return true;
}

/* Creates "<path>.tmp.<pid>.<n>" next to the target (same file system, so rename
 * is atomic) with the usual permissions, unlike mkstemp's 0600. */
static FILE *open_temp(const char *path, char *tmp, size_t cap) {
  static atomic_uint counter;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return NULL;
    }
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
      int err = errno;
      close(fd);
      unlink(tmp);
      errno = err;
    }
    return fp;
  }
  errno = EEXIST;
  return NULL;
}

#define MAX_SIDE 16384

gdl_status gdl_plot_png(const char *path, const gdl_series *series, int nseries,
                        const gdl_plot_opts *opts) {
  if (!path || !path[0]) return gdl_error(GDL_ERR_ARG, "plot: no output path");
  if (nseries < 0 || (nseries > 0 && !series))
    return gdl_error(GDL_ERR_ARG, "%s: %d series given at %p", path, nseries, (const void *)series);
  for (int s = 0; s < nseries; s++) {
    if (series[s].n < 0)
      return gdl_error(GDL_ERR_ARG, "%s: series %d has %d points", path, s, series[s].n);
    if (series[s].n > 0 && !series[s].y)
      return gdl_error(GDL_ERR_ARG, "%s: series %d has %d points but no y values", path, s,
                       series[s].n);
  }
  gdl_plot_opts o = opts ? *opts : (gdl_plot_opts){0};
  int w = o.width ? o.width : 800, h = o.height ? o.height : 500;
  if (!o.width && o.height) w = o.height * 8 / 5; /* one side given: keep 8:5 */
  if (o.width && !o.height) h = o.width * 5 / 8;
  if (w < 64 || h < 64 || w > MAX_SIDE || h > MAX_SIDE)
    return gdl_error(GDL_ERR_ARG, "%s: image size %dx%d is outside 64..%d pixels", path, w, h,
                     MAX_SIDE);

  size_t npx = (size_t)w * h;
  canvas c = {.w = w, .h = h};
  c.px = malloc(npx * 3);
  c.cov = calloc(npx, sizeof *c.cov);
  c.ink = calloc(npx, 1);
  bool *markers = malloc((nseries > 0 ? nseries : 1) * sizeof *markers);
  size_t cap = strlen(path) + 64;
  char *tmp = malloc(cap);
  gdl_status st = GDL_OK;
  if (!c.px || !c.cov || !c.ink || !markers || !tmp) {
    st = gdl_error(GDL_ERR_NOMEM, "%s: out of memory for a %dx%d plot", path, w, h);
    goto done;
  }
  if (!render(&c, series, nseries, markers, o.title, o.xlabel, o.ylabel)) {
    st = gdl_error(GDL_ERR_ARG, "%s: image size %dx%d is too small for the axes", path, w, h);
    goto done;
  }

  FILE *fp = open_temp(path, tmp, cap);
  if (!fp) {
    st = gdl_error(GDL_ERR_IO, "%s: cannot create a temporary file next to it: %s", path,
                   strerror(errno));
    goto done;
  }
  png_failure e = {.msg = ""};
  errno = 0;
  bool ok = write_png(fp, c.px, w, h, &e);
  if (!ok && errno) /* libpng says only "Write Error": add the reason */
    snprintf(e.msg + strlen(e.msg), sizeof e.msg - strlen(e.msg), " (%s)", strerror(errno));
  if (fclose(fp) != 0 && ok) {
    ok = false;
    snprintf(e.msg, sizeof e.msg, "%s", strerror(errno));
  }
  if (!ok) {
    unlink(tmp);
    st = gdl_error(GDL_ERR_IO, "%s: cannot write PNG: %s", path, e.msg);
    goto done;
  }
  if (rename(tmp, path) != 0) {
    int err = errno;
    unlink(tmp);
    st = gdl_error(GDL_ERR_IO, "%s: cannot rename the temporary file over it: %s", path,
                   strerror(err));
  }
done:
  free(c.px);
  free(c.cov);
  free(c.ink);
  free(markers);
  free(tmp);
  return st;
}
