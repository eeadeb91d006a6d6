"""Every registered architecture compiles and trains on CPU (so a GPU user never meets a graph
that does not build), and is recognised from its weights alone."""

import json

import pytest

from fer_core import config
from fer_core.ckpt.deep import inspect
from fer_core.models import ARCHITECTURES
from fer_core.runs import rundir
from fer_core.train.loop import train
from tests.helpers import small_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    return small_csv(tmp_path_factory.mktemp("data") / "tiny.csv", train_per_class=2, val_per_class=1)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_trains_two_steps_and_is_recognised(arch, tiny_csv, tmp_path):
    cfg = config.make_config(
        {
            "data_csv": str(tiny_csv),
            "arch": arch,
            "batch_size": 7,
            "epochs": 1,
            "lr": 1e-3,
            "augment": True,
            "augment_policy": "crop_flip",
            "tta": True,
            "keep_checkpoints": 0,
        }
    )
    run_dir = rundir.create_run(cfg, "arch-test", root=tmp_path)
    assert train(run_dir) == 0
    (row,) = rundir.read_metrics(run_dir)
    assert row.train_loss == row.train_loss and row.train_loss > 0  # finite, not NaN
    assert 0.0 <= row.val_acc <= 1.0
    best = run_dir / rundir.BEST
    sidecar = best.with_suffix(".json")
    sidecar.unlink()  # judged by its weights alone
    report = inspect(best, behaviour=False)
    assert (report.arch, report.arch_source) == (arch, "weights")
    assert report.size == report.expected
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("shape", [(4, 8, 3, 3), (2, 5, 6, 7), (3, 16, 48, 48)])
def test_global_average_pool_is_the_mean_of_each_map_and_so_is_its_gradient(shape):
    import mindspore as ms
    import mindspore.ops as ops
    import numpy as np

    from fer_core.models.cnn import global_average_pool

    x = ms.Tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    weights = ms.Tensor(np.random.default_rng(1).standard_normal(shape[:2]).astype(np.float32))

    def pooled(t):
        return (global_average_pool(t) * weights).sum()

    def mean(t):
        return (ops.mean(t, (2, 3)) * weights).sum()

    ours, stock = ms.value_and_grad(pooled)(x), ms.value_and_grad(mean)(x)
    np.testing.assert_allclose(global_average_pool(x).asnumpy(), ops.mean(x, (2, 3)).asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1].asnumpy(), stock[1].asnumpy(), rtol=1e-5, atol=1e-7)
