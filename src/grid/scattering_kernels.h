/* The 2-D scattering transform of one precision; included by scattering.c once
 * per precision with R (real type), CX (its complex type), FFTW(x) (fftw_x or
 * fftwf_x), PL(k) (the plan field: fwd or fwdf, ...), PSI(i) / PHI(r) (the filter
 * arrays of that precision), SQRT, CONJ and NAME(x) (a suffixed name) defined.
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
 * Hermitian symmetry.
 *
 * The backward pass is the adjoint of each step in reverse (complex gradients
 * g = dL/dRe + i dL/dIm): Re() -> embed; F^-1 = B / (mn) (B the unnormalised
 * inverse) -> F / (mn); sub_k -> k^-2 tiling; multiplication by a real filter ->
 * itself; A = |V| -> g_V = g_A V / |V| (0 where V = 0); W = F(A), A real ->
 * g_A = Re B(g_W); reflect padding -> folding back. It recomputes the forward
 * pass image by image, so memory stays O(one image) per thread. */

typedef struct {
  R *u, *a;                 /* padded image; a modulus */
  CX *U0, *y, *v, *w1, *h;  /* spectrum, filtered, inverse, W1, half spectrum */
  CX *y2, *v2, *w2, *z, *zt; /* order 2 and the low-pass */
  CX *gU0, *gW1, *gW2, *gz; /* backward only */
  R *ga;
} NAME(ws);

static void NAME(ws_free)(NAME(ws) *w) {
  void *b[] = {w->u, w->a, w->U0, w->y, w->v, w->w1, w->h, w->y2, w->v2, w->w2, w->z, w->zt,
               w->gU0, w->gW1, w->gW2, w->gz, w->ga};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) FFTW(free)(b[i]);
}

static bool NAME(ws_alloc)(NAME(ws) *w, int64_t MN, bool backward) {
  memset(w, 0, sizeof *w);
  size_t r = sizeof(R) * (size_t)MN, c = sizeof(CX) * (size_t)MN;
  w->u = FFTW(malloc)(r), w->a = FFTW(malloc)(r);
  w->U0 = FFTW(malloc)(c), w->y = FFTW(malloc)(c), w->v = FFTW(malloc)(c), w->w1 = FFTW(malloc)(c);
  w->h = FFTW(malloc)(c), w->y2 = FFTW(malloc)(c), w->v2 = FFTW(malloc)(c), w->w2 = FFTW(malloc)(c);
  w->z = FFTW(malloc)(c), w->zt = FFTW(malloc)(c);
  bool ok = w->u && w->a && w->U0 && w->y && w->v && w->w1 && w->h && w->y2 && w->v2 && w->w2 &&
            w->z && w->zt;
  if (backward) {
    w->gU0 = FFTW(malloc)(c), w->gW1 = FFTW(malloc)(c), w->gW2 = FFTW(malloc)(c);
    w->gz = FFTW(malloc)(c), w->ga = FFTW(malloc)(r);
    ok = ok && w->gU0 && w->gW1 && w->gW2 && w->gz && w->ga;
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

/* out (m/k x n/k) = sub_k(in . f), in and f m x n. */
static void NAME(submul)(CX *restrict out, const CX *restrict in, const R *restrict f, int64_t m,
                         int64_t n, int64_t k) {
  int64_t mo = m / k, no = n / k;
  if (k == 1) {
    for (int64_t i = 0; i < m * n; i++) out[i] = in[i] * f[i];
    return;
  }
  R s = (R)1 / (R)(k * k);
  for (int64_t i = 0; i < mo * no; i++) out[i] = 0;
  for (int64_t x = 0; x < m; x++) {
    CX *o = out + (x % mo) * no;
    const CX *ir = in + x * n;
    const R *fr = f + x * n;
    for (int64_t jb = 0; jb < n; jb += no)
      for (int64_t b = 0; b < no; b++) o[b] += ir[jb + b] * fr[jb + b];
  }
  for (int64_t i = 0; i < mo * no; i++) out[i] *= s;
}

/* gin (m x n) += f . sub_k^T(gout): the adjoint of submul. */
static void NAME(submul_adj)(CX *restrict gin, const CX *restrict gout, const R *restrict f, int64_t m,
                             int64_t n, int64_t k) {
  int64_t mo = m / k, no = n / k;
  R s = (R)1 / (R)(k * k);
  for (int64_t x = 0; x < m; x++) {
    const CX *g = gout + (x % mo) * no;
    CX *o = gin + x * n;
    const R *fr = f + x * n;
    for (int64_t jb = 0; jb < n; jb += no)
      for (int64_t b = 0; b < no; b++) o[jb + b] += s * fr[jb + b] * g[b];
  }
}

/* a = |v| * scale */
static void NAME(modulus)(R *restrict a, const CX *restrict v, int64_t cnt, R scale) {
  for (int64_t i = 0; i < cnt; i++) {
    R re = __real__ v[i], im = __imag__ v[i];
    a[i] = SQRT(re * re + im * im) * scale;
  }
}

/* S (oh x ow) = unpad Re F^-1 sub_{2^(J-r)}(W phi_r), W at resolution r. */
static void NAME(lowpass)(const gdl_scattering2d_plan *p, int r, const CX *W, NAME(ws) *w, R *S) {
  int J = p->J;
  int64_t mJ = p->Mp >> J, nJ = p->Np >> J;
  NAME(submul)(w->z, W, PHI(r), p->Mp >> r, p->Np >> r, (int64_t)1 << (J - r));
  FFTW(execute_dft)(p->fft[J].PL(bwd), w->z, w->zt);
  R s = (R)1 / (R)(mJ * nJ);
  for (int64_t a = 0; a < p->oh; a++)
    for (int64_t b = 0; b < p->ow; b++) S[a * p->ow + b] = __real__ w->zt[(a + 1) * nJ + b + 1] * s;
}

/* gW (resolution r) += lowpass^T(gS). */
static void NAME(lowpass_adj)(const gdl_scattering2d_plan *p, int r, const R *gS, NAME(ws) *w, CX *gW) {
  int J = p->J;
  int64_t mJ = p->Mp >> J, nJ = p->Np >> J;
  R s = (R)1 / (R)(mJ * nJ);
  for (int64_t i = 0; i < mJ * nJ; i++) w->gz[i] = 0;
  for (int64_t a = 0; a < p->oh; a++)
    for (int64_t b = 0; b < p->ow; b++) w->gz[(a + 1) * nJ + b + 1] = gS[a * p->ow + b] * s;
  FFTW(execute_dft)(p->fft[J].PL(fwd), w->gz, w->zt);
  NAME(submul_adj)(gW, w->zt, PHI(r), p->Mp >> r, p->Np >> r, (int64_t)1 << (J - r));
}

/* The wavelet step at resolution r0 -> r1: V = F^-1-unnormalised sub(Win psi), a = |V| / (m1 n1). */
static void NAME(wavelet)(const gdl_scattering2d_plan *p, const CX *Win, int r0, const R *psi, int r1,
                          CX *y, CX *v, R *a) {
  int64_t m1 = p->Mp >> r1, n1 = p->Np >> r1;
  NAME(submul)(y, Win, psi, p->Mp >> r0, p->Np >> r0, (int64_t)1 << (r1 - r0));
  FFTW(execute_dft)(p->fft[r1].PL(bwd), y, v);
  NAME(modulus)(a, v, m1 * n1, (R)1 / (R)(m1 * n1));
}

static void NAME(forward_one)(const gdl_scattering2d_plan *p, const R *x, R *out, NAME(ws) *w) {
  int J = p->J, L = p->L;
  int64_t os = p->oh * p->ow, idx = 1 + (int64_t)J * L;
  NAME(pad)(p, x, w->u);
  NAME(spectrum)(p, 0, w->u, w->h, w->U0);
  NAME(lowpass)(p, 0, w->U0, w, out);
  for (int n1 = 0; n1 < J * L; n1++) {
    int j1 = n1 / L;
    NAME(wavelet)(p, w->U0, 0, PSI(n1 * J), j1, w->y, w->v, w->a);
    NAME(spectrum)(p, j1, w->a, w->h, w->w1);
    NAME(lowpass)(p, j1, w->w1, w, out + (1 + n1) * os);
    if (p->max_order < 2) continue;
    for (int n2 = (j1 + 1) * L; n2 < J * L; n2++) {
      int j2 = n2 / L;
      NAME(wavelet)(p, w->w1, j1, PSI(n2 * J + j1), j2, w->y2, w->v2, w->a);
      NAME(spectrum)(p, j2, w->a, w->h, w->w2);
      NAME(lowpass)(p, j2, w->w2, w, out + idx++ * os);
    }
  }
}

/* g_V = g_A V / |V|, then g_Y = F(g_V) / (m n) (V = B(Y) / (m n)); in place in gv. */
static void NAME(modulus_adj)(const gdl_scattering2d_plan *p, int r, const R *ga, const CX *v, CX *gv,
                              CX *gy) {
  int64_t mn = (p->Mp >> r) * (p->Np >> r);
  for (int64_t i = 0; i < mn; i++) {
    R re = __real__ v[i], im = __imag__ v[i], m = SQRT(re * re + im * im);
    gv[i] = m > 0 ? ga[i] * v[i] / m : 0;
  }
  FFTW(execute_dft)(p->fft[r].PL(fwd), gv, gy);
  R s = (R)1 / (R)mn;
  for (int64_t i = 0; i < mn; i++) gy[i] *= s;
}

/* ga = Re B(gW) at resolution r (the adjoint of W = F(A), A real); uses tmp. */
static void NAME(spectrum_adj)(const gdl_scattering2d_plan *p, int r, CX *gW, CX *tmp, R *ga) {
  int64_t mn = (p->Mp >> r) * (p->Np >> r);
  FFTW(execute_dft)(p->fft[r].PL(bwd), gW, tmp);
  for (int64_t i = 0; i < mn; i++) ga[i] = __real__ tmp[i];
}

static void NAME(backward_one)(const gdl_scattering2d_plan *p, const R *x, const R *gS, R *gx,
                               NAME(ws) *w) {
  int J = p->J, L = p->L;
  int64_t os = p->oh * p->ow, idx = 1 + (int64_t)J * L, MN = p->Mp * p->Np;
  NAME(pad)(p, x, w->u);
  NAME(spectrum)(p, 0, w->u, w->h, w->U0);
  for (int64_t i = 0; i < MN; i++) w->gU0[i] = 0;
  NAME(lowpass_adj)(p, 0, gS, w, w->gU0);
  for (int n1 = 0; n1 < J * L; n1++) {
    int j1 = n1 / L;
    int64_t mn1 = (p->Mp >> j1) * (p->Np >> j1);
    NAME(wavelet)(p, w->U0, 0, PSI(n1 * J), j1, w->y, w->v, w->a);
    NAME(spectrum)(p, j1, w->a, w->h, w->w1);
    for (int64_t i = 0; i < mn1; i++) w->gW1[i] = 0;
    NAME(lowpass_adj)(p, j1, gS + (1 + n1) * os, w, w->gW1);
    for (int n2 = (j1 + 1) * L; p->max_order >= 2 && n2 < J * L; n2++) {
      int j2 = n2 / L;
      int64_t mn2 = (p->Mp >> j2) * (p->Np >> j2);
      NAME(wavelet)(p, w->w1, j1, PSI(n2 * J + j1), j2, w->y2, w->v2, w->a);
      for (int64_t i = 0; i < mn2; i++) w->gW2[i] = 0;
      NAME(lowpass_adj)(p, j2, gS + idx++ * os, w, w->gW2);
      NAME(spectrum_adj)(p, j2, w->gW2, w->w2, w->ga);
      NAME(modulus_adj)(p, j2, w->ga, w->v2, w->w2, w->y2);
      NAME(submul_adj)(w->gW1, w->y2, PSI(n2 * J + j1), p->Mp >> j1, p->Np >> j1,
                       (int64_t)1 << (j2 - j1));
    }
    NAME(spectrum_adj)(p, j1, w->gW1, w->w1, w->ga);
    NAME(modulus_adj)(p, j1, w->ga, w->v, w->w1, w->y);
    NAME(submul_adj)(w->gU0, w->y, PSI(n1 * J), p->Mp, p->Np, (int64_t)1 << j1);
  }
  NAME(spectrum_adj)(p, 0, w->gU0, w->y, w->a);
  NAME(pad_adj)(p, w->a, gx);
}

void NAME(gdl__scattering2d_fwd)(const gdl_scattering2d_plan *p, const R *x, int64_t batch, R *out) {
  int64_t in = p->M * p->N, os = p->nch * p->oh * p->ow;
  GDL_OMP(omp parallel if (batch > 1))
  {
    NAME(ws) w;
    bool ok = NAME(ws_alloc)(&w, p->Mp * p->Np, false);
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
    bool ok = NAME(ws_alloc)(&w, p->Mp * p->Np, true);
    GDL_ASSERT(ok, "scattering2d: out of memory for the work buffers");
    GDL_OMP(omp for schedule(dynamic, 4))
    for (int64_t b = 0; b < batch; b++) NAME(backward_one)(p, x + b * in, gS + b * os, gx + b * in, &w);
    NAME(ws_free)(&w);
  }
}
