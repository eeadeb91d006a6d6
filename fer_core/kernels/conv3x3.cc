// 3x3, pad 1, no-bias NCHW convolution (forward, backward-data, backward-weights) on oneDNN 3,
// called by MindSpore's AOT Custom operator (fer_core/kernels/fast_conv.py).
//
// Why: MindSpore 2.8 CPU runs every 3x3 convolution through its bundled oneDNN 2.2 as im2col +
// GEMM; oneDNN 3's direct jit kernels are ~4x faster on fer_cnn's shapes. MindSpore hands us
// plain NCHW/OIHW buffers; we let oneDNN pick its blocked layouts and reorder in and out.
// Primitives (and the blocked buffers) are built once per shape and kept.
#include <dnnl.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum Kind { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

dnnl::engine &cpu() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A tensor we are handed in plain layout, and the layout the primitive wants.
struct Operand {
  memory::desc plain;
  memory::desc wanted;
  memory internal;  // allocated by oneDNN when wanted != plain
  bool reorder = false;
  void init(const memory::desc &p, const memory::desc &w) {
    plain = p;
    wanted = w;
    reorder = (p != w);
    if (reorder) internal = memory(w, cpu());
  }
};

struct Conv {
  std::mutex busy;  // one call at a time per shape: the blocked buffers are shared
  dnnl::primitive prim;
  Operand a, b, out;  // inputs a, b and the output, in the primitive's argument roles
  int arg_a = 0, arg_b = 0, arg_out = 0;
};

using Key = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;

Conv *lookup(Kind kind, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t ho, int64_t wo,
             int stride) {
  static std::mutex guard;
  static std::map<Key, std::unique_ptr<Conv>> cache;
  std::lock_guard<std::mutex> lock(guard);
  Key key{kind, n, c, h, w, o, ho, wo, stride};
  auto found = cache.find(key);
  if (found != cache.end()) return found->second.get();

  auto conv = std::make_unique<Conv>();
  memory::desc src_plain({n, c, h, w}, dt::f32, tag::nchw);
  memory::desc wei_plain({o, c, 3, 3}, dt::f32, tag::oihw);
  memory::desc dst_plain({n, o, ho, wo}, dt::f32, tag::nchw);
  memory::desc src_any({n, c, h, w}, dt::f32, tag::any);
  memory::desc wei_any({o, c, 3, 3}, dt::f32, tag::any);
  memory::desc dst_any({n, o, ho, wo}, dt::f32, tag::any);
  memory::dims strides{stride, stride}, pad_l{1, 1};
  // right padding so that (h + pad_l + pad_r - 3) / stride + 1 == ho, as MindSpore computes it
  memory::dims pad_r{(ho - 1) * stride + 3 - h - 1, (wo - 1) * stride + 3 - w - 1};
  auto algo = dnnl::algorithm::convolution_direct;
  // forward_training even for the forward pass alone: for forward_inference oneDNN 3.2 picks
  // brgconv on NHWC, measured 1.5-2.5x slower here than the direct kernel on nChw16c
  auto prop = dnnl::prop_kind::forward_training;
  dnnl::convolution_forward::primitive_desc fwd(cpu(), prop, algo, src_any, wei_any, dst_any, strides,
                                                pad_l, pad_r);
  if (kind == kForward) {
    conv->prim = dnnl::convolution_forward(fwd);
    conv->a.init(src_plain, fwd.src_desc());
    conv->b.init(wei_plain, fwd.weights_desc());
    conv->out.init(dst_plain, fwd.dst_desc());
    conv->arg_a = DNNL_ARG_SRC, conv->arg_b = DNNL_ARG_WEIGHTS, conv->arg_out = DNNL_ARG_DST;
  } else if (kind == kBackwardData) {
    dnnl::convolution_backward_data::primitive_desc bwd(cpu(), algo, src_any, wei_any, dst_any, strides,
                                                        pad_l, pad_r, fwd);
    conv->prim = dnnl::convolution_backward_data(bwd);
    conv->a.init(dst_plain, bwd.diff_dst_desc());
    conv->b.init(wei_plain, bwd.weights_desc());
    conv->out.init(src_plain, bwd.diff_src_desc());
    conv->arg_a = DNNL_ARG_DIFF_DST, conv->arg_b = DNNL_ARG_WEIGHTS, conv->arg_out = DNNL_ARG_DIFF_SRC;
  } else {
    dnnl::convolution_backward_weights::primitive_desc bwd(cpu(), algo, src_any, wei_any, dst_any, strides,
                                                           pad_l, pad_r, fwd);
    conv->prim = dnnl::convolution_backward_weights(bwd);
    conv->a.init(dst_plain, bwd.diff_dst_desc());
    conv->b.init(src_plain, bwd.src_desc());
    conv->out.init(wei_plain, bwd.diff_weights_desc());
    conv->arg_a = DNNL_ARG_DIFF_DST, conv->arg_b = DNNL_ARG_SRC, conv->arg_out = DNNL_ARG_DIFF_WEIGHTS;
  }
  Conv *raw = conv.get();
  cache.emplace(key, std::move(conv));
  return raw;
}

memory bring_in(dnnl::stream &s, Operand &op, void *data) {
  memory user(op.plain, cpu(), data);
  if (!op.reorder) return user;
  dnnl::reorder(user, op.internal).execute(s, user, op.internal);
  return op.internal;
}

// params: the inputs, then the output. Shapes give every size; the stride is the kernel's.
// Backward-data takes x as a third input only for its shape: with stride 2, dy's size does
// not tell x's (7 and 8 both give 4), and MindSpore's shape function sees inputs only.
int run(Kind kind, int stride, int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes) {
  if (nparam != (kind == kBackwardData ? 4 : 3)) return 1;
  const int last = nparam - 1;
  for (int i = 0; i < nparam; i++) {
    if (ndims[i] != 4 || std::strcmp(dtypes[i], "float32") != 0) return 2;
  }
  // forward: (x, w) -> y; backward-data: (dy, w, x) -> dx; backward-weights: (dy, x) -> dw
  const int64_t *x = kind == kForward ? shapes[0] : shapes[last == 3 ? 3 : 1];
  const int64_t *y = kind == kForward ? shapes[last] : shapes[0];
  const int64_t *w = kind == kBackwardWeights ? shapes[last] : shapes[1];
  if (w[2] != 3 || w[3] != 3 || w[1] != x[1] || w[0] != y[1] || x[0] != y[0]) return 3;
  try {
    Conv *conv = lookup(kind, x[0], x[1], x[2], x[3], y[1], y[2], y[3], stride);
    std::lock_guard<std::mutex> lock(conv->busy);
    dnnl::stream s(cpu());
    memory a = bring_in(s, conv->a, params[0]);
    memory b = bring_in(s, conv->b, params[1]);
    memory user_out(conv->out.plain, cpu(), params[last]);
    memory out = conv->out.reorder ? conv->out.internal : user_out;
    conv->prim.execute(s, {{conv->arg_a, a}, {conv->arg_b, b}, {conv->arg_out, out}});
    if (conv->out.reorder) dnnl::reorder(out, user_out).execute(s, out, user_out);
    s.wait();
  } catch (const std::exception &error) {
    std::fprintf(stderr, "fer conv3x3 (kind %d, stride %d): %s\n", int(kind), stride, error.what());
    return 4;
  }
  return 0;
}

// Both gradients in one call: (dy, w, x) -> (dx, dw). dy is reordered to the blocked layout
// once for both primitives (when they want the same one), and MindSpore launches one op.
int run_backward(int stride, int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes) {
  if (nparam != 5) return 1;
  for (int i = 0; i < nparam; i++) {
    if (ndims[i] != 4 || std::strcmp(dtypes[i], "float32") != 0) return 2;
  }
  const int64_t *y = shapes[0], *w = shapes[1], *x = shapes[2];
  if (w[2] != 3 || w[3] != 3 || w[1] != x[1] || w[0] != y[1] || x[0] != y[0]) return 3;
  try {
    Conv *data = lookup(kBackwardData, x[0], x[1], x[2], x[3], y[1], y[2], y[3], stride);
    Conv *weights = lookup(kBackwardWeights, x[0], x[1], x[2], x[3], y[1], y[2], y[3], stride);
    std::lock_guard<std::mutex> lock_data(data->busy);
    std::lock_guard<std::mutex> lock_weights(weights->busy);
    dnnl::stream s(cpu());
    memory dy = bring_in(s, data->a, params[0]);
    memory dy_w = weights->a.wanted == data->a.wanted ? dy : bring_in(s, weights->a, params[0]);
    memory wei = bring_in(s, data->b, params[1]);
    memory src = bring_in(s, weights->b, params[2]);
    memory dx_user(data->out.plain, cpu(), params[3]);
    memory dw_user(weights->out.plain, cpu(), params[4]);
    memory dx = data->out.reorder ? data->out.internal : dx_user;
    memory dw = weights->out.reorder ? weights->out.internal : dw_user;
    data->prim.execute(s, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, dx}});
    weights->prim.execute(s, {{DNNL_ARG_DIFF_DST, dy_w}, {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
    if (data->out.reorder) dnnl::reorder(dx, dx_user).execute(s, dx, dx_user);
    if (weights->out.reorder) dnnl::reorder(dw, dw_user).execute(s, dw, dw_user);
    s.wait();
  } catch (const std::exception &error) {
    std::fprintf(stderr, "fer conv3x3 backward (stride %d): %s\n", stride, error.what());
    return 4;
  }
  return 0;
}

}  // namespace

#define FER_AOT(name, kind, stride)                                                               \
  extern "C" int name(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes, \
                      void *, void *) {                                                            \
    return run(kind, stride, nparam, params, ndims, shapes, dtypes);                              \
  }

FER_AOT(ConvForwardS1, kForward, 1)
FER_AOT(ConvForwardS2, kForward, 2)
FER_AOT(ConvBackwardDataS1, kBackwardData, 1)
FER_AOT(ConvBackwardDataS2, kBackwardData, 2)
FER_AOT(ConvBackwardWeightsS1, kBackwardWeights, 1)
FER_AOT(ConvBackwardWeightsS2, kBackwardWeights, 2)

extern "C" int ConvBackwardS1(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                              void *, void *) {
  return run_backward(1, nparam, params, ndims, shapes, dtypes);
}
extern "C" int ConvBackwardS2(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                              void *, void *) {
  return run_backward(2, nparam, params, ndims, shapes, dtypes);
}

// The oneDNN actually loaded (MindSpore brings its own 2.2 as libdnnl.so.2; ours must be 3).
extern "C" int FerDnnlMajor() { return int(dnnl_version()->major); }
