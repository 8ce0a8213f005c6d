/* The 2-D scattering transform of one precision; included by scattering.c once
 * per precision with R (real type), CX (its complex type), FFTW(x) (fftw_x or
 * fftwf_x), PL(k) (the plan field: fwd or fwdf, ...), PSI(i), ROWS(r), COLS(r)
 * (the filters of that precision), SQRT, CONJ and NAME(x) (a suffixed name) defined.
 *
 * Kymatio's algorithm (core/scattering2d.py), per image, with F the unnormalised
 * FFT2, F^-1 = conj-F / (m n), sub_k the Fourier-domain subsampling
 *   sub_k(Z)[a, b] = k^-2 sum_{i, j < k} Z[a + i m/k, b + j n/k]
 * (the spectrum of z[k u]) and unpad(s) = s[1:-1, 1:-1]:
 *   U0 = F(pad(x))                                       (reflect padding)
 *   S0 = unpad Re F^-1 sub_{2^J}(U0 phi_0)
 *   for n1 = (j1, t1):  A1 = |F^-1 sub_{2^j1}(U0 psi_{n1,0})|,  W1 = F(A1)
 *     S1[n1] = unpad Re F^-1 sub_{2^(J-j1)}(W1 phi_{j1})
 *     for n2 = (j2 > j1, t2):  A2 = |F^-1 sub_{2^(j2-j1)}(W1 psi_{n2,j1})|,  W2 = F(A2)
 *       S2[n1, n2] = unpad Re F^-1 sub_{2^(J-j2)}(W2 phi_{j2})
 * F of a real array is computed as a real-to-complex FFT and completed by
 * Hermitian symmetry. Each low-pass step "unpad Re F^-1 sub(F(A) phi_r)" is the
 * same linear map as S = Rows_r A Cols_r^T (see morlet.c), which is what runs:
 * it needs no FFT of A2 at all.
 *
 * The backward pass is the adjoint of each step in reverse (complex gradients
 * g = dL/dRe + i dL/dIm): low-pass -> g_A += Rows^T g_S Cols; F^-1 = B / (mn) (B
 * the unnormalised inverse) -> F / (mn); sub_k -> k^-2 tiling; multiplication by a
 * real filter -> itself; A = |V| -> g_V = g_A V / |V| (0 where V = 0); W = F(A), A
 * real -> g_A += Re B(g_W); reflect padding -> folding back. It recomputes the forward
 * pass image by image, so memory stays O(one image) per thread. */

#ifndef SIMD
#ifdef _OPENMP
#define SIMD GDL_OMP(omp simd)
#define SIMD_SUM(v) GDL_OMP(omp simd reduction(+ : v))
#else
#define SIMD
#define SIMD_SUM(v)
#endif
#endif

typedef struct {
  R *u, *a, *t, *gu, *ga, *ga2;     /* padded image, modulus, low-pass scratch, gradients */
  R *a1l, *a2l, *at, *tl;           /* L moduli [L][m n] (orders 1, 2), interleaved [m n][L], scratch */
  CX *U0, *y, *v, *w1, *h, *y2, *v2; /* spectrum, filtered, inverse, W1, half spectrum, order 2 */
  CX *gU0, *gW1, *gv, *tmp;          /* backward only */
} NAME(ws);

static void NAME(ws_free)(NAME(ws) *w) {
  void *b[] = {w->u, w->a, w->t, w->gu, w->ga, w->ga2, w->a1l, w->a2l, w->at, w->tl, w->U0, w->y, w->v, w->w1,
               w->h, w->y2, w->v2, w->gU0, w->gW1, w->gv, w->tmp};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) FFTW(free)(b[i]);
}

static bool NAME(ws_alloc)(NAME(ws) *w, const gdl_scattering2d_plan *p, bool backward) {
  memset(w, 0, sizeof *w);
  int64_t MN = p->Mp * p->Np;
  size_t r = sizeof(R) * (size_t)MN, c = sizeof(CX) * (size_t)MN;
  w->u = FFTW(malloc)(r), w->a = FFTW(malloc)(r), w->t = FFTW(malloc)(r);
  w->a1l = FFTW(malloc)(r * (size_t)p->L), w->a2l = FFTW(malloc)(r * (size_t)p->L);
  w->at = FFTW(malloc)(r * (size_t)p->L);
  w->tl = FFTW(malloc)(sizeof(R) * (size_t)((p->oh + 1) * p->L * p->Np)); /* t, then acc */
  w->U0 = FFTW(malloc)(c), w->y = FFTW(malloc)(c), w->v = FFTW(malloc)(c), w->w1 = FFTW(malloc)(c);
  w->h = FFTW(malloc)(c), w->y2 = FFTW(malloc)(c), w->v2 = FFTW(malloc)(c);
  bool ok = w->u && w->a && w->t && w->a1l && w->a2l && w->at && w->tl && w->U0 && w->y && w->v && w->w1 && w->h && w->y2 && w->v2;
  if (backward) {
    w->gu = FFTW(malloc)(r), w->ga = FFTW(malloc)(r), w->ga2 = FFTW(malloc)(r);
    w->gU0 = FFTW(malloc)(c), w->gW1 = FFTW(malloc)(c), w->gv = FFTW(malloc)(c), w->tmp = FFTW(malloc)(c);
    ok = ok && w->gu && w->ga && w->ga2 && w->gU0 && w->gW1 && w->gv && w->tmp;
  }
  if (!ok) NAME(ws_free)(w);
  return ok;
}

/* u = pad(x): reflect padding to Mp x Np. */
static void NAME(pad)(const gdl_scattering2d_plan *p, const R *x, R *u) {
  for (int64_t i = 0; i < p->Mp; i++) {
    const R *row = x + p->rmap[i] * p->N;
    R *o = u + i * p->Np;
    for (int64_t j = 0; j < p->Np; j++) o[j] = row[p->cmap[j]];
  }
}

/* gx += pad^T(gu): every padded sample folds back onto its source. */
static void NAME(pad_adj)(const gdl_scattering2d_plan *p, const R *gu, R *gx) {
  for (int64_t i = 0; i < p->Mp; i++) {
    R *row = gx + p->rmap[i] * p->N;
    const R *g = gu + i * p->Np;
    for (int64_t j = 0; j < p->Np; j++) row[p->cmap[j]] += g[j];
  }
}

/* out = F(a) at resolution r (m x n), through the half spectrum h. */
static void NAME(spectrum)(const gdl_scattering2d_plan *p, int r, R *a, CX *h, CX *out) {
  int64_t m = p->Mp >> r, n = p->Np >> r, nh = n / 2 + 1;
  FFTW(execute_dft_r2c)(p->fft[r].PL(r2c), a, h);
  for (int64_t i = 0; i < m; i++) {
    const CX *hr = h + i * nh, *hm = h + ((m - i) % m) * nh;
    CX *o = out + i * n;
    for (int64_t j = 0; j < nh; j++) o[j] = hr[j];
    for (int64_t j = nh; j < n; j++) o[j] = CONJ(hm[n - j]); /* X[i, j] = conj X[-i, -j] */
  }
}

/* ga += Re B(gW) at resolution r: the adjoint of W = F(A) for real A. */
static void NAME(spectrum_adj)(const gdl_scattering2d_plan *p, int r, CX *gW, CX *tmp, R *ga) {
  int64_t mn = (p->Mp >> r) * (p->Np >> r);
  FFTW(execute_dft)(p->fft[r].PL(bwd), gW, tmp);
  for (int64_t i = 0; i < mn; i++) ga[i] += __real__ tmp[i];
}

/* out (m/k x n/k) = sub_k(in . f), in m x n; f is the plan's stored level (each
 * value twice, already times 1/k^2), so complex arrays are read as pairs of reals. */
static void NAME(submul)(CX *out_, const CX *in_, const R *restrict f, int64_t m, int64_t n, int64_t k) {
  R *restrict out = (R *)out_;
  const R *restrict in = (const R *)in_;
  int64_t mo = m / k, no = n / k;
  if (k == 1) {
    SIMD
    for (int64_t i = 0; i < 2 * m * n; i++) out[i] = in[i] * f[i];
    return;
  }
  for (int64_t i = 0; i < 2 * mo * no; i++) out[i] = 0;
  for (int64_t x = 0; x < m; x++) {
    R *o = out + 2 * (x % mo) * no;
    const R *ir = in + 2 * x * n, *fr = f + 2 * x * n;
    for (int64_t jb = 0; jb < 2 * n; jb += 2 * no) {
      SIMD
      for (int64_t b = 0; b < 2 * no; b++) o[b] += ir[jb + b] * fr[jb + b];
    }
  }
}

/* gin (m x n) += f . sub_k^T(gout): the adjoint of submul. */
static void NAME(submul_adj)(CX *gin_, const CX *gout_, const R *restrict f, int64_t m, int64_t n,
                             int64_t k) {
  R *restrict gin = (R *)gin_;
  const R *restrict gout = (const R *)gout_;
  int64_t mo = m / k, no = n / k;
  for (int64_t x = 0; x < m; x++) {
    const R *g = gout + 2 * (x % mo) * no;
    R *o = gin + 2 * x * n;
    const R *fr = f + 2 * x * n;
    for (int64_t jb = 0; jb < 2 * n; jb += 2 * no) {
      SIMD
      for (int64_t b = 0; b < 2 * no; b++) o[jb + b] += fr[jb + b] * g[b];
    }
  }
}

/* The wavelet step from resolution r0 to r1: v = B(sub(Win psi)), a = |v| / (m1 n1)
 * (= |F^-1 sub(Win psi)|). */
static void NAME(wavelet)(const gdl_scattering2d_plan *p, const CX *Win, int r0, const R *psi, int r1,
                          CX *y, CX *v, R *restrict a) {
  int64_t mn = (p->Mp >> r1) * (p->Np >> r1);
  NAME(submul)(y, Win, psi, p->Mp >> r0, p->Np >> r0, (int64_t)1 << (r1 - r0));
  FFTW(execute_dft)(p->fft[r1].PL(bwd), y, v);
  R s = (R)1 / (R)mn;
  SIMD
  for (int64_t i = 0; i < mn; i++) {
    R re = __real__ v[i], im = __imag__ v[i];
    a[i] = SQRT(re * re + im * im) * s;
  }
}

/* g_V = g_A V / |V| (0 where V = 0), then g_Y = F(g_V) / (m n), the adjoint of the
 * wavelet step's inverse FFT (v = B(Y); the 1/(mn) of F^-1 is applied here). */
static void NAME(wavelet_adj)(const gdl_scattering2d_plan *p, int r, const R *ga, const CX *v, CX *gv,
                              CX *gy) {
  int64_t mn = (p->Mp >> r) * (p->Np >> r);
  R s = (R)1 / (R)mn;
  for (int64_t i = 0; i < mn; i++) {
    R re = __real__ v[i], im = __imag__ v[i], m = SQRT(re * re + im * im);
    gv[i] = m > 0 ? (ga[i] * s / m) * v[i] : 0;
  }
  FFTW(execute_dft)(p->fft[r].PL(fwd), gv, gy);
}

/* S (oh x ow) = Rows_r A Cols_r^T, A at resolution r; t is scratch. */
static void NAME(lowpass)(const gdl_scattering2d_plan *p, int r, const R *A, R *t, R *S) {
  int64_t m = p->Mp >> r, n = p->Np >> r, oh = p->oh, ow = p->ow;
  const R *Ro = ROWS(r), *Co = COLS(r);
  for (int64_t u = 0; u < oh; u++) { /* t = Rows A  [oh, n] */
    R *restrict tu = t + u * n;
    for (int64_t y = 0; y < n; y++) tu[y] = 0;
    for (int64_t x = 0; x < m; x++) {
      R c = Ro[u * m + x];
        const R *restrict ax = A + x * n;
      SIMD
      for (int64_t y = 0; y < n; y++) tu[y] += c * ax[y];
    }
  }
  for (int64_t u = 0; u < oh; u++) /* S = t Cols^T */
    for (int64_t b = 0; b < ow; b++) {
      const R *tu = t + u * n, *cb = Co + b * n;
      R acc = 0;
      SIMD_SUM(acc)
      for (int64_t y = 0; y < n; y++) acc += tu[y] * cb[y];
      S[u * ow + b] = acc;
    }
}

/* gA += Rows_r^T gS Cols_r; t is scratch. */
static void NAME(lowpass_adj)(const gdl_scattering2d_plan *p, int r, const R *gS, R *t, R *gA) {
  int64_t m = p->Mp >> r, n = p->Np >> r, oh = p->oh, ow = p->ow;
  const R *Ro = ROWS(r), *Co = COLS(r);
  for (int64_t u = 0; u < oh; u++) { /* t = gS Cols  [oh, n] */
    R *restrict tu = t + u * n;
    for (int64_t y = 0; y < n; y++) tu[y] = 0;
    for (int64_t b = 0; b < ow; b++) {
      R g = gS[u * ow + b];
      const R *restrict cb = Co + b * n;
      SIMD
      for (int64_t y = 0; y < n; y++) tu[y] += g * cb[y];
    }
  }
  for (int64_t u = 0; u < oh; u++) /* gA += Rows^T t */
    for (int64_t x = 0; x < m; x++) {
      R c = Ro[u * m + x];
      const R *restrict tu = t + u * n;
      R *restrict gx = gA + x * n;
      SIMD
      for (int64_t y = 0; y < n; y++) gx[y] += c * tu[y];
    }
}

/* The low-pass step of L arrays at resolution r at once: a [L][m n] is first
 * interleaved into at [m n][L], then S_l = Rows_r A_l Cols_r^T goes into S + l os
 * with every inner loop running over L n or L contiguous numbers (one call of
 * lowpass per array would run over rows of n and dot products of n). */
static void NAME(lowpass_many)(const gdl_scattering2d_plan *p, int r, const R *a, int L, R *at, R *t,
                               R *S, int64_t os) {
  int64_t m = p->Mp >> r, n = p->Np >> r, ln = L * n, oh = p->oh, ow = p->ow;
  const R *Ro = ROWS(r), *Co = COLS(r);
  for (int64_t i = 0; i < m * n; i++)
    for (int l = 0; l < L; l++) at[i * L + l] = a[l * m * n + i];
  for (int64_t u = 0; u < oh; u++) { /* t[u] = sum_x Rows[u, x] A[x]   ([n][L] each) */
    R *restrict tu = t + u * ln;
    for (int64_t y = 0; y < ln; y++) tu[y] = 0;
    for (int64_t x = 0; x < m; x++) {
      R c = Ro[u * m + x];
      const R *restrict ax = at + x * ln;
      SIMD
      for (int64_t y = 0; y < ln; y++) tu[y] += c * ax[y];
    }
  }
  R *acc = t + oh * ln; /* [ow][L] */
  for (int64_t u = 0; u < oh; u++) { /* S[l][u][b] = sum_y Cols[b, y] t[u][y][l] */
    const R *tu = t + u * ln;
    for (int64_t i = 0; i < ow * L; i++) acc[i] = 0;
    for (int64_t y = 0; y < n; y++) {
      const R *restrict ty = tu + y * L;
      for (int64_t b = 0; b < ow; b++) {
        R c = Co[b * n + y], *restrict ab = acc + b * L;
        SIMD
        for (int l = 0; l < L; l++) ab[l] += c * ty[l];
      }
    }
    for (int64_t b = 0; b < ow; b++)
      for (int l = 0; l < L; l++) S[l * os + u * ow + b] = acc[b * L + l];
  }
}

static void NAME(forward_one)(const gdl_scattering2d_plan *p, const R *x, R *out, NAME(ws) *w) {
  int J = p->J, L = p->L;
  int64_t os = p->oh * p->ow, idx = 1 + (int64_t)J * L;
  NAME(pad)(p, x, w->u);
  NAME(lowpass)(p, 0, w->u, w->t, out);
  NAME(spectrum)(p, 0, w->u, w->h, w->U0);
  for (int j1 = 0; j1 < J; j1++) {
    int64_t mn1 = (p->Mp >> j1) * (p->Np >> j1);
    for (int t1 = 0; t1 < L; t1++) {
      R *a1 = w->a1l + t1 * mn1;
      NAME(wavelet)(p, w->U0, 0, PSI((j1 * L + t1) * J), j1, w->y, w->v, a1);
      if (p->max_order < 2 || j1 == J - 1) continue;
      /* a1 is inside a1l, t1 mn1 numbers in: FFTW needs its inputs as aligned as the
       * planning arrays (16 bytes); mn1 is a multiple of 4^(J - j1) >= 16 here */
      NAME(spectrum)(p, j1, a1, w->h, w->w1);
      for (int j2 = j1 + 1; j2 < J; j2++) { /* the L angles of scale j2 together */
        int64_t mn2 = (p->Mp >> j2) * (p->Np >> j2);
        for (int t2 = 0; t2 < L; t2++)
          NAME(wavelet)(p, w->w1, j1, PSI((j2 * L + t2) * J + j1), j2, w->y2, w->v2, w->a2l + t2 * mn2);
        NAME(lowpass_many)(p, j2, w->a2l, L, w->at, w->tl, out + idx * os, os);
        idx += L;
      }
    }
    NAME(lowpass_many)(p, j1, w->a1l, L, w->at, w->tl, out + (1 + (int64_t)j1 * L) * os, os);
  }
}

static void NAME(backward_one)(const gdl_scattering2d_plan *p, const R *x, const R *gS, R *gx,
                               NAME(ws) *w) {
  int J = p->J, L = p->L;
  int64_t os = p->oh * p->ow, idx = 1 + (int64_t)J * L, MN = p->Mp * p->Np;
  NAME(pad)(p, x, w->u);
  NAME(spectrum)(p, 0, w->u, w->h, w->U0);
  for (int64_t i = 0; i < MN; i++) w->gu[i] = 0, w->gU0[i] = 0;
  NAME(lowpass_adj)(p, 0, gS, w->t, w->gu);
  for (int n1 = 0; n1 < J * L; n1++) {
    int j1 = n1 / L;
    int64_t m1 = p->Mp >> j1, n1c = p->Np >> j1;
    NAME(wavelet)(p, w->U0, 0, PSI(n1 * J), j1, w->y, w->v, w->a);
    for (int64_t i = 0; i < m1 * n1c; i++) w->ga[i] = 0;
    NAME(lowpass_adj)(p, j1, gS + (1 + n1) * os, w->t, w->ga);
    if (p->max_order >= 2 && j1 < J - 1) {
      NAME(spectrum)(p, j1, w->a, w->h, w->w1);
      for (int64_t i = 0; i < m1 * n1c; i++) w->gW1[i] = 0;
      for (int n2 = (j1 + 1) * L; n2 < J * L; n2++) {
        int j2 = n2 / L;
        int64_t mn2 = (p->Mp >> j2) * (p->Np >> j2);
        NAME(wavelet)(p, w->w1, j1, PSI(n2 * J + j1), j2, w->y2, w->v2, w->a);
        for (int64_t i = 0; i < mn2; i++) w->ga2[i] = 0;
        NAME(lowpass_adj)(p, j2, gS + idx++ * os, w->t, w->ga2);
        NAME(wavelet_adj)(p, j2, w->ga2, w->v2, w->gv, w->y2);
        NAME(submul_adj)(w->gW1, w->y2, PSI(n2 * J + j1), m1, n1c, (int64_t)1 << (j2 - j1));
      }
      NAME(spectrum_adj)(p, j1, w->gW1, w->tmp, w->ga);
    }
    NAME(wavelet_adj)(p, j1, w->ga, w->v, w->gv, w->y);
    NAME(submul_adj)(w->gU0, w->y, PSI(n1 * J), p->Mp, p->Np, (int64_t)1 << j1);
  }
  NAME(spectrum_adj)(p, 0, w->gU0, w->tmp, w->gu);
  NAME(pad_adj)(p, w->gu, gx);
}

void NAME(gdl__scattering2d_fwd)(const gdl_scattering2d_plan *p, const R *x, int64_t batch, R *out) {
  int64_t in = p->M * p->N, os = p->nch * p->oh * p->ow;
  GDL_OMP(omp parallel if (batch > 1))
  {
    NAME(ws) w;
    bool ok = NAME(ws_alloc)(&w, p, false);
    GDL_ASSERT(ok, "scattering2d: out of memory for the work buffers");
    GDL_OMP(omp for schedule(dynamic, 4))
    for (int64_t b = 0; b < batch; b++) NAME(forward_one)(p, x + b * in, out + b * os, &w);
    NAME(ws_free)(&w);
  }
}

void NAME(gdl__scattering2d_bwd)(const gdl_scattering2d_plan *p, const R *x, const R *gS, int64_t batch,
                                 R *gx) {
  int64_t in = p->M * p->N, os = p->nch * p->oh * p->ow;
  GDL_OMP(omp parallel if (batch > 1))
  {
    NAME(ws) w;
    bool ok = NAME(ws_alloc)(&w, p, true);
    GDL_ASSERT(ok, "scattering2d: out of memory for the work buffers");
    GDL_OMP(omp for schedule(dynamic, 4))
    for (int64_t b = 0; b < batch; b++) NAME(backward_one)(p, x + b * in, gS + b * os, gx + b * in, &w);
    NAME(ws_free)(&w);
  }
}
