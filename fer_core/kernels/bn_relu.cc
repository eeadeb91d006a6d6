// BatchNorm (training mode: batch statistics) followed by ReLU, in one pass each way, on plain
// NCHW float32; called by MindSpore's AOT Custom operator (fer_core/kernels/fast_bn_relu.py).
//
// Why: MindSpore 2.8 CPU runs BatchNorm, ReLU and their two gradients as four operators with a
// full pass over the activations each; on fer_cnn they cost ~2.5x PyTorch's time and make most
// of what is left between the two once the convolutions are ours (bench/conv_kernels.py --rest).
// Here the forward reads x twice (mean, then variance and output) and the backward reads
// (dy, x, y) twice; channels are split across OpenMP threads.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

constexpr double kEpsilon = 1e-5;   // nn.BatchNorm2d's defaults; only such layers are swapped
constexpr float kMomentum = 0.1f;   // the new batch's weight in the moving statistics

bool plain_float(int n, const int *ndims, const char **dtypes, const int *want_ndims) {
  for (int i = 0; i < n; i++) {
    if (ndims[i] != want_ndims[i] || std::strcmp(dtypes[i], "float32") != 0) return false;
  }
  return true;
}

}  // namespace

// (x[N,C,H,W], gamma[C], beta[C], moving mean[C], moving variance[C]) ->
// (y = relu(bn(x)), batch mean[C], biased batch variance[C], new moving mean[C], new moving
// variance[C]): the moving statistics are updated as MindSpore's BatchNorm does (the unbiased
// variance), here rather than by five more small operators in the graph.
extern "C" int BnReluForward(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                             void *, void *) {
  static const int want[10] = {4, 1, 1, 1, 1, 4, 1, 1, 1, 1};
  if (nparam != 10 || !plain_float(10, ndims, dtypes, want)) return 1;
  const int64_t n = shapes[0][0], c = shapes[0][1], hw = shapes[0][2] * shapes[0][3];
  for (int i = 1; i < 5; i++) {
    if (shapes[i][0] != c) return 3;
  }
  const float *x = static_cast<const float *>(params[0]);
  const float *gamma = static_cast<const float *>(params[1]);
  const float *beta = static_cast<const float *>(params[2]);
  const float *moving_mean = static_cast<const float *>(params[3]);
  const float *moving_var = static_cast<const float *>(params[4]);
  float *y = static_cast<float *>(params[5]);
  float *mean_out = static_cast<float *>(params[6]);
  float *var_out = static_cast<float *>(params[7]);
  float *new_moving_mean = static_cast<float *>(params[8]);
  float *new_moving_var = static_cast<float *>(params[9]);
  const double count = double(n * hw);
  const double unbias = count > 1 ? count / (count - 1) : 1.0;
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
      const float *p = x + (i * c + ch) * hw;
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < hw; j++) s += p[j];
      sum += s;
    }
    const float mean = float(sum / count);
    double squares = 0;
    for (int64_t i = 0; i < n; i++) {
      const float *p = x + (i * c + ch) * hw;
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < hw; j++) s += (p[j] - mean) * (p[j] - mean);
      squares += s;
    }
    const double var = squares / count;
    const float scale = float(gamma[ch] / std::sqrt(var + kEpsilon));
    const float shift = beta[ch] - mean * scale;
    for (int64_t i = 0; i < n; i++) {
      const float *p = x + (i * c + ch) * hw;
      float *q = y + (i * c + ch) * hw;
      for (int64_t j = 0; j < hw; j++) {
        const float v = p[j] * scale + shift;
        q[j] = v > 0.f ? v : 0.f;
      }
    }
    mean_out[ch] = mean;
    var_out[ch] = float(var);
    new_moving_mean[ch] = (1 - kMomentum) * moving_mean[ch] + kMomentum * mean;
    new_moving_var[ch] = (1 - kMomentum) * moving_var[ch] + kMomentum * float(var * unbias);
  }
  return 0;
}

// (dy, x, y, gamma, mean, var) -> (dx, dgamma, dbeta). The ReLU's gradient is the mask y > 0
// (relu(z) > 0 exactly where z > 0); the BatchNorm's is the usual batch-statistics one.
extern "C" int BnReluBackward(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                              void *, void *) {
  static const int want[9] = {4, 4, 4, 1, 1, 1, 4, 1, 1};
  if (nparam != 9 || !plain_float(9, ndims, dtypes, want)) return 1;
  const int64_t n = shapes[0][0], c = shapes[0][1], hw = shapes[0][2] * shapes[0][3];
  const float *dy = static_cast<const float *>(params[0]);
  const float *x = static_cast<const float *>(params[1]);
  const float *y = static_cast<const float *>(params[2]);
  const float *gamma = static_cast<const float *>(params[3]);
  const float *mean = static_cast<const float *>(params[4]);
  const float *var = static_cast<const float *>(params[5]);
  float *dx = static_cast<float *>(params[6]);
  float *dgamma = static_cast<float *>(params[7]);
  float *dbeta = static_cast<float *>(params[8]);
  const double count = double(n * hw);
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    const float m = mean[ch];
    const float invstd = float(1.0 / std::sqrt(double(var[ch]) + kEpsilon));
    double sum_dy = 0, sum_dy_xc = 0;
    for (int64_t i = 0; i < n; i++) {
      const int64_t at = (i * c + ch) * hw;
      float s = 0, t = 0;
#pragma omp simd reduction(+ : s, t)
      for (int64_t j = 0; j < hw; j++) {
        const float g = y[at + j] > 0.f ? dy[at + j] : 0.f;
        s += g;
        t += g * (x[at + j] - m);
      }
      sum_dy += s;
      sum_dy_xc += t;
    }
    dbeta[ch] = float(sum_dy);
    dgamma[ch] = float(sum_dy_xc * invstd);
    // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
    const float k = gamma[ch] * invstd;
    const float mean_g = float(sum_dy / count);
    const float slope = float(sum_dy_xc / count) * invstd * invstd;  // mean(g * xhat) * invstd
    for (int64_t i = 0; i < n; i++) {
      const int64_t at = (i * c + ch) * hw;
      for (int64_t j = 0; j < hw; j++) {
        const float g = y[at + j] > 0.f ? dy[at + j] : 0.f;
        dx[at + j] = k * (g - mean_g - (x[at + j] - m) * slope);
      }
    }
  }
  return 0;
}
