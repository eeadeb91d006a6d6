"""Our BatchNorm+ReLU kernel (fer_core/kernels/bn_relu.cc) against MindSpore's nn.BatchNorm2d
followed by nn.ReLU: output, the three gradients, the moving statistics over several training
steps and the eval-mode output; and the swap that puts it into a network."""

from __future__ import annotations

import numpy as np
import pytest

ms = pytest.importorskip("mindspore")
nn = pytest.importorskip("mindspore.nn")


@pytest.fixture(scope="module")
def kernels(kernel_library):
    """The kernel library, from the session's build."""
    from fer_core import mindspore_setup
    from fer_core.kernels import fast_bn_relu, library

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FER_TUI_CACHE", str(kernel_library.parents[1]))
        mindspore_setup.configure("CPU")
        library.path.cache_clear()
        fast_bn_relu._op.cache_clear()
        assert library.available(), library.unavailable_reason()
        yield fast_bn_relu
        library.path.cache_clear()
        fast_bn_relu._op.cache_clear()


def relative_error(got, want) -> float:
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def pair(channels: int, gamma, beta) -> nn.SequentialCell:
    return nn.SequentialCell(
        [nn.BatchNorm2d(channels, gamma_init=ms.Tensor(gamma), beta_init=ms.Tensor(beta)), nn.ReLU()]
    )


def weighted_sum(net, g):
    # a closure per net: MindSpore's graph parser rejects default-argument captures
    def loss(x):
        return (net(x) * g).sum()

    return loss


@pytest.mark.parametrize("n, c, size", [(4, 6, 5), (6, 17, 1), (3, 33, 7), (16, 8, 12), (1, 3, 4)])
def test_training_steps_match_batchnorm_then_relu(kernels, n, c, size):
    """Three training steps on different batches (so the moving statistics move), then eval:
    every output, gradient and moving statistic within 1e-5 relative of the stock pair."""
    rng = np.random.default_rng(n * 100 + c)
    gamma = (rng.random(c) + 0.5).astype(np.float32)
    beta = (rng.standard_normal(c) * 0.3).astype(np.float32)
    batches = [(rng.standard_normal((n, c, size, size)) * 2 + 1).astype(np.float32) for _ in range(3)]
    g = ms.Tensor(rng.standard_normal((n, c, size, size)).astype(np.float32))
    results = []
    for fast in (False, True):
        net = pair(c, gamma, beta)
        if fast:
            assert kernels.use_fast_bn_relu(net) == 1
        net.set_train(True)
        step = ms.jit(ms.value_and_grad(weighted_sum(net, g), 0, net.trainable_params()))
        seen = []
        for x in batches:
            value, (dx, (dgamma, dbeta)) = step(ms.Tensor(x))
            seen.append([value.asnumpy(), dx.asnumpy(), dgamma.asnumpy(), dbeta.asnumpy()])
        net.set_train(False)
        seen.append(
            [net(ms.Tensor(batches[0])).asnumpy(), net[0].moving_mean.asnumpy(), net[0].moving_variance.asnumpy()]
        )
        results.append(seen)
    stock, fast = results
    for want_step, got_step in zip(stock, fast):
        for want, got in zip(want_step, got_step):
            assert relative_error(got, want) < 1e-5


def test_swap_keeps_names_and_checkpoints_and_skips_what_it_does_not_compute(kernels, tmp_path):
    """fer_vgg's 8 BatchNorm→ReLU pairs are swapped with their Parameters' names unchanged (a
    checkpoint of the swapped net loads into the stock one and back); a BatchNorm with another
    momentum, one not followed by a ReLU, and one outside a SequentialCell stay stock."""
    from fer_core.models import build_model

    net = build_model("fer_vgg")
    names = list(net.parameters_dict())
    assert kernels.use_fast_bn_relu(net) == 8
    assert list(net.parameters_dict()) == names
    ms.save_checkpoint(net, str(tmp_path / "fast.ckpt"))
    assert ms.load_param_into_net(build_model("fer_vgg"), ms.load_checkpoint(str(tmp_path / "fast.ckpt"))) == ([], [])
    others = nn.SequentialCell(
        [
            nn.BatchNorm2d(4, momentum=0.99),
            nn.ReLU(),
            nn.BatchNorm2d(4),
            nn.Tanh(),
            nn.BatchNorm2d(4, eps=1e-3),
            nn.ReLU(),
            nn.BatchNorm2d(4),
        ]
    )
    assert kernels.use_fast_bn_relu(others) == 0
    assert kernels.use_fast_bn_relu(build_model("resnet18_attn")) == 0  # bn→relu inside construct
