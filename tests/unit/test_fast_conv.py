"""Our AOT convolution kernels (fer_core/kernels) against MindSpore's own nn.Conv2d: forward,
both gradients and a jit-compiled training step; and the build cache and its fallback."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fer_core import cachefiles
from fer_core.kernels import build, library

ms = pytest.importorskip("mindspore")
nn = pytest.importorskip("mindspore.nn")


@pytest.fixture(scope="module")
def fast_conv(kernel_library):
    """The kernels, from the session's build (its cache folder is set for this module only, so
    the rest of the session keeps its own)."""
    from fer_core import mindspore_setup
    from fer_core.kernels import fast_conv

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FER_TUI_CACHE", str(kernel_library.parents[1]))
        mindspore_setup.configure("CPU")
        library.path.cache_clear()
        assert library.available(), library.unavailable_reason()
        yield fast_conv
        library.path.cache_clear()


def relative_error(got, want) -> float:
    """max |got - want| / max |want|: summation order differs between the kernels, so an
    elementwise ratio near a zero output would measure noise."""
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def shapes():
    """Random layer shapes: channels off multiples of 16, odd and even sizes, both strides."""
    rng = np.random.default_rng(16)
    fixed = [(2, 1, 32, 9, 1), (3, 17, 20, 9, 2), (2, 32, 64, 12, 2), (2, 64, 33, 6, 1), (1, 5, 3, 1, 2)]
    drawn = [
        (
            int(rng.integers(1, 5)),
            int(rng.integers(1, 70)),
            int(rng.integers(1, 70)),
            int(rng.integers(2, 14)),
            int(rng.integers(1, 3)),
        )
        for _ in range(6)
    ]
    return fixed + drawn


def weighted_sum(conv, g):
    # a closure per cell: MindSpore's graph parser rejects default-argument captures
    def loss(x):
        return (conv(x) * g).sum()

    return loss


def squared_sum(net):
    def loss(x):
        return (net(x) ** 2).sum()

    return loss


def jit_step(net, optimizer):
    """value_and_grad + optimizer under ms.jit, as fer_core.train.loop.compile_steps builds it."""

    def forward(x):
        y = net(x)
        return (y * y).mean(), y

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters, has_aux=True)

    @ms.jit
    def step(x):
        (loss, _), grads = grad_fn(x)
        optimizer(grads)
        return loss

    return step


@pytest.mark.parametrize("split", [False, True], ids=["one-backward-op", "split-backward"])
@pytest.mark.parametrize("n, c_in, c_out, size, stride", shapes())
def test_forward_and_both_gradients_match_mindspore(fast_conv, n, c_in, c_out, size, stride, split):
    rng = np.random.default_rng(n * 1000 + c_in * 10 + c_out)
    w = rng.standard_normal((c_out, c_in, 3, 3)).astype(np.float32)
    x = ms.Tensor(rng.standard_normal((n, c_in, size, size + 1)).astype(np.float32))  # H != W too
    stock = nn.Conv2d(
        c_in, c_out, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False, weight_init=ms.Tensor(w)
    )
    fast = fast_conv.FastConv2d(c_in, c_out, stride, weight_init=ms.Tensor(w), split_backward=split)
    g = ms.Tensor(rng.standard_normal(stock(x).shape).astype(np.float32))
    results = []
    for conv in (stock, fast):
        _, (dx, (dw,)) = ms.value_and_grad(weighted_sum(conv, g), 0, conv.trainable_params())(x)
        results.append((conv(x).asnumpy(), dx.asnumpy(), dw.asnumpy()))
    for name, want, got in zip(("y", "dx", "dw"), *results):
        assert got.shape == want.shape, name
        assert relative_error(got, want) < 1e-5, name


def test_jit_training_step_matches_stock(fast_conv):
    """Three Momentum steps through conv-BN-ReLU layers (value_and_grad + optimizer under
    ms.jit, as fer_core.train.loop builds its step): the same weights as with stock convolutions."""
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.2 for s in ((24, 3, 3, 3), (40, 24, 3, 3))]
    x = ms.Tensor(rng.standard_normal((8, 3, 12, 12)).astype(np.float32))
    finals = []
    for make in (
        lambda c_in, c_out, s, w: nn.Conv2d(
            c_in, c_out, 3, stride=s, pad_mode="pad", padding=1, has_bias=False, weight_init=ms.Tensor(w)
        ),
        lambda c_in, c_out, s, w: fast_conv.FastConv2d(c_in, c_out, s, weight_init=ms.Tensor(w)),
    ):
        net = nn.SequentialCell(
            [
                make(3, 24, 2, weights[0]),
                nn.BatchNorm2d(24),
                nn.ReLU(),
                make(24, 40, 1, weights[1]),
                nn.BatchNorm2d(40),
                nn.ReLU(),
            ]
        )
        net.set_train(True)
        optimizer = nn.Momentum(net.trainable_params(), 0.05, 0.9)
        step = jit_step(net, optimizer)
        losses = [float(step(x).asnumpy()) for _ in range(3)]
        finals.append((losses, [p.asnumpy().copy() for p in net.trainable_params()]))
    (stock_losses, stock_params), (fast_losses, fast_params) = finals
    assert stock_losses[-1] < stock_losses[0]  # it trained
    np.testing.assert_allclose(fast_losses, stock_losses, rtol=1e-5)
    for got, want in zip(fast_params, stock_params):
        assert relative_error(got, want) < 1e-5


def test_same_parameters_as_nn_conv2d_so_checkpoints_load(fast_conv, tmp_path):
    stock = nn.Conv2d(20, 36, 3, stride=2, pad_mode="pad", padding=1, has_bias=False)
    ms.save_checkpoint(stock, str(tmp_path / "conv.ckpt"))
    fast = fast_conv.FastConv2d(20, 36, 2)
    assert ms.load_param_into_net(fast, ms.load_checkpoint(str(tmp_path / "conv.ckpt"))) == ([], [])
    np.testing.assert_array_equal(fast.weight.asnumpy(), stock.weight.asnumpy())


def test_build_is_cached_by_key(fast_conv, kernel_library, tmp_path, monkeypatch):
    # the session's build (and its record) in this cache: the same key finds it, built once
    (tmp_path / "kernels").mkdir()
    for built in (kernel_library, cachefiles.record_of(kernel_library)):
        shutil.copy2(built, tmp_path / "kernels" / built.name)
    monkeypatch.setenv("FER_TUI_CACHE", str(tmp_path))
    first = tmp_path / "kernels" / kernel_library.name
    stamp = first.stat().st_mtime_ns
    assert build.library() == first and build.library() == first
    assert first.stat().st_mtime_ns == stamp  # not rebuilt
    monkeypatch.setattr(build, "FLAGS", build.FLAGS + ["-DFER_TEST_KEY"])
    assert build.library() != first  # another compiler setting, another library


def test_without_compiler_stock_conv_is_used_and_said_once(fast_conv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FER_TUI_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-g++"))
    monkeypatch.setattr(library, "_said", False)
    library.path.cache_clear()
    try:
        convs = [fast_conv.conv3x3(8, 16, 2) for _ in range(3)]
        assert not any(isinstance(c, fast_conv.FastConv2d) for c in convs)
        assert capsys.readouterr().err.count("fer-tui: fast kernels unavailable (no C++ compiler") == 1
    finally:
        library.path.cache_clear()


def test_onednn_2_is_not_taken_for_3(monkeypatch, tmp_path):
    """Debian's libdnnl-dev (2.x) has no v3 API: the reason names the wheel to install."""
    header = tmp_path / "include" / "oneapi" / "dnnl" / "dnnl_version.h"
    header.parent.mkdir(parents=True)
    header.write_text("#define DNNL_VERSION_MAJOR 2\n#define DNNL_VERSION_MINOR 6\n#define DNNL_VERSION_PATCH 3\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libdnnl.so").write_bytes(b"")
    monkeypatch.setattr(build, "_wheel_prefixes", lambda: [])
    monkeypatch.setattr(build.sys, "prefix", str(tmp_path))
    monkeypatch.setattr(build, "SYSTEM_PREFIXES", [])
    monkeypatch.setenv("FER_TUI_ONEDNN", str(tmp_path))
    assert build.find_onednn() == "no oneDNN 3 found (pip install onednn-devel-cpu-gomp)"
    assert build.library() == "no oneDNN 3 found (pip install onednn-devel-cpu-gomp)"
    header.write_text(header.read_text().replace("MAJOR 2", "MAJOR 3"))
    assert build.find_onednn() == build.OneDNN(tmp_path / "include", tmp_path / "lib", "3.6.3")


def test_use_fast_convs_swaps_fer_cnn_keeping_names_and_outputs(fast_conv, tmp_path):
    """Every 3×3 conv of fer_cnn runs on our kernels (in the list its SequentialCell iterates),
    its parameter names are those of the stock net and a stock checkpoint loads into it."""
    from fer_core.models import build_model

    stock, fast = build_model("fer_cnn"), build_model("fer_cnn")
    names = list(fast.parameters_dict())
    assert fast_conv.use_fast_convs(fast) == 7
    assert list(fast.parameters_dict()) == names
    assert sum(isinstance(cell, fast_conv.FastConv2d) for cell in fast.features.cell_list) == 7
    ms.save_checkpoint(stock, str(tmp_path / "stock.ckpt"))
    assert ms.load_param_into_net(fast, ms.load_checkpoint(str(tmp_path / "stock.ckpt"))) == ([], [])
    stock.set_train(False)
    fast.set_train(False)
    x = ms.Tensor(np.random.default_rng(5).random((4, 1, 48, 48), dtype=np.float32))
    assert relative_error(fast(x).asnumpy(), stock(x).asnumpy()) < 1e-5


def test_a_run_with_fast_kernels_trains_and_its_checkpoint_is_stock(fast_conv, tmp_path, capfd):
    """`kernels = "fast"` end to end: the trainer swaps the convolutions, the run finishes, and
    its best_model loads in the stock network (eval, through the default backend) with the
    accuracy the run logged."""
    from fer_core import config
    from fer_core.infer.evaluate import evaluate
    from fer_core.runs import rundir
    from fer_core.train.loop import train
    from tests.helpers import small_csv

    csv = small_csv(tmp_path / "faces.csv", train_per_class=8, val_per_class=3)
    cfg = config.make_config(
        dict(data_csv=str(csv), arch="tiny_cnn", batch_size=16, epochs=2, lr=3e-3, kernels="fast", keep_checkpoints=0)
    )
    run_dir = rundir.create_run(cfg, "fast", root=tmp_path / "runs")
    assert train(run_dir) == 0
    out, err = capfd.readouterr()
    assert "Fast kernels: 4 of the network's convolutions, 4 BatchNorm+ReLU pairs" in out
    assert "eliminated by mistake" not in err  # MindSpore's warning for unused Custom outputs
    best = rundir.read_status(run_dir).best_val_acc
    assert abs(evaluate(run_dir / "best_model.ckpt", str(csv), "PublicTest").accuracy - best) <= 1e-6


def test_fast_kernels_are_cpu_only():
    from fer_core import config
    from fer_core.errors import ConfigError

    with pytest.raises((ConfigError, ValueError), match="kernels fast runs on CPU only"):
        config.make_config({"kernels": "fast", "device_target": "GPU"})


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["tiny_cnn", "fer_vgg", "fer_cnn", "resnet18_attn"])
def test_every_architecture_trains_as_stock_on_fast_kernels(fast_conv, arch, tmp_path):
    """Each registered net with all our kernels in (convolutions, BatchNorm+ReLU pairs), in
    training mode (batch statistics; dropout held in eval so both nets draw nothing): the same
    loss, the same gradient for every parameter and the same moving statistics after the step
    as the stock net with the same weights; and the trainer's jit step compiles and trains (so
    `kernels = "fast"` never meets a graph that does not build, resnet18_attn's residual stages
    included)."""
    from fer_core.kernels.swap import use_fast_kernels
    from fer_core.models import ARCHITECTURES, build_model
    from fer_core.train.loop import compile_steps

    assert arch in ARCHITECTURES
    # fixed weights: with random ones a max-pool tie now and then moved one tensor's gradient
    # past the 2 % (fer_vgg: 2.2 % once in CI), which says nothing of the wiring
    ms.set_seed(7)
    stock, fast = build_model(arch), build_model(arch)
    ms.save_checkpoint(stock, str(tmp_path / "stock.ckpt"))
    ms.load_param_into_net(fast, ms.load_checkpoint(str(tmp_path / "stock.ckpt")))
    print(use_fast_kernels(fast))
    assert any(isinstance(cell, fast_conv.FastConv2d) for _, cell in fast.cells_and_names())
    rng = np.random.default_rng(7)
    x = ms.Tensor(rng.random((4, 1, 48, 48), dtype=np.float32))
    results = []
    for net in (stock, fast):
        net.set_train(True)
        for _, cell in net.cells_and_names():
            if isinstance(cell, nn.Dropout):
                cell.set_train(False)
        value, grads = ms.jit(ms.value_and_grad(squared_sum(net), None, net.trainable_params()))(x)
        moving = {p.name: p.asnumpy() for p in net.get_parameters() if "moving" in p.name}
        results.append((float(value.asnumpy()), [g.asnumpy() for g in grads], moving))
    (stock_loss, stock_grads, stock_moving), (fast_loss, fast_grads, fast_moving) = results
    assert fast_loss == pytest.approx(stock_loss, rel=1e-4)
    # Whole-net gradients are compared as tensors (norm of the difference over the norm), to 2 %:
    # where two pooled activations differ by less than the kernels' rounding, a max-pool sends
    # the gradient to the other one, and single entries differ by more (fer_vgg: 1.6 % on one
    # entry with our convolutions alone). Each operator is held to 1e-5 in its own tests; this
    # one catches a wrong wiring, which is off by O(1). A bias right before a BatchNorm has
    # gradient 0 in exact arithmetic: its noise is measured against the net's gradients.
    largest = max(np.linalg.norm(g) for g in stock_grads)
    for got, want in zip(fast_grads, stock_grads):
        off = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-4 * largest)
        assert off < 0.02, f"gradient off by {off:.4f}"
    assert fast_moving.keys() == stock_moving.keys() and stock_moving
    for name, want in stock_moving.items():
        assert relative_error(fast_moving[name], want) < 1e-4, name
    fast.set_train(True)
    train_step, _ = compile_steps(fast, nn.Momentum(fast.trainable_params(), 0.01, 0.9))
    targets = ms.Tensor(np.eye(7, dtype=np.float32)[[0, 3, 5, 6]])
    assert np.isfinite(train_step(x, targets)[0].asnumpy()).all()


def test_vector_flags_follow_the_cpu(tmp_path):
    """AVX2+FMA code only where /proc/cpuinfo lists both (the build runs where the kernels do)."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n")
    assert build.cpu_flags(info) == build.VECTOR_FLAGS
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx\n")
    assert build.cpu_flags(info) == []
    assert build.cpu_flags(tmp_path / "absent") == []
