"""Real MindSpore training on tiny generated data: the run directory, stop, resume, early stop."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fer_core import config
from fer_core.runs import launcher, rundir
from fer_core.train.loop import Trainer, lr_schedule, make_optimizer, train
from fer_core.train.parallel.cluster import Solo
from tests.helpers import CONTRACT, small_csv, status_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    return small_csv(tmp_path_factory.mktemp("data") / "tiny.csv", train_per_class=8, val_per_class=2)


def tiny_config(csv, **overrides):
    values = dict(
        data_csv=str(csv),
        arch="tiny_cnn",
        batch_size=16,
        epochs=2,
        lr=3e-3,
        patience=5,
        augment=True,
        mixup=True,
        label_smoothing=0.1,
        keep_checkpoints=1,
    )
    return config.make_config({**values, **overrides})


def test_lr_schedule_warms_up_then_decays_to_min_lr():
    cfg = config.make_config({"epochs": 10, "warmup_epochs": 2, "lr": 1e-3, "min_lr": 1e-5})
    lrs = lr_schedule(cfg, steps_per_epoch=10)
    assert len(lrs) == 100
    assert lrs[0] == pytest.approx(1e-3 / 20) and lrs[19] == pytest.approx(1e-3)
    assert np.all(np.diff(lrs[:20]) > 0) and np.all(np.diff(lrs[20:]) <= 1e-12)
    assert lrs[-1] == pytest.approx(1e-5, rel=1e-2)


def test_a_one_step_run_trains_at_its_rate_without_a_mindspore_warning(capfd):
    """A data set smaller than one batch trains one step: MindSpore must not warn on the
    terminal about a one-rate schedule, and the step runs at that rate."""
    import mindspore.nn as nn

    from fer_core.mindspore_setup import configure

    configure()  # as the trainer does, before the first kernel runs in this process
    cfg = config.make_config({"epochs": 1, "lr": 1e-3})
    schedule = lr_schedule(cfg, steps_per_epoch=1)
    assert len(schedule) == 1
    optimizer = make_optimizer(nn.Dense(3, 2), schedule, weight_decay=1e-4)
    assert optimizer.get_lr().asnumpy() == pytest.approx(schedule[0])
    assert "WARNING" not in capfd.readouterr().err


def test_two_epoch_run_writes_the_whole_contract(tiny_csv):
    run_dir = rundir.create_run(tiny_config(tiny_csv), "tiny")
    (run_dir / "train.log").touch()  # in-process: the CLI's stdout is the log
    mask, stdout = signal.pthread_sigmask(signal.SIG_BLOCK, ()), sys.stdout
    assert train(run_dir) == 0
    # run in-process, the trainer gives its caller back the signals and stdout it found (the
    # processes a caller starts afterwards inherit its mask)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, ()) == mask and sys.stdout is stdout
    names = {p.name for p in run_dir.iterdir()}
    assert set(CONTRACT) <= names
    periodic = sorted(n for n in names if n.startswith("fer-") and n.endswith(".ckpt"))
    assert periodic == ["fer-2_3.ckpt"], "keep_checkpoints=1 keeps only the newest"
    assert not [n for n in names if n.startswith(".")], "no temporary files left"
    status = rundir.read_status(run_dir)
    assert status.state == "finished" and status.epoch == 2 and status.steps == 3
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert set(rows[0]) >= {
        "epoch",
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "lr",
        "seconds",
        "images_per_second",
        "is_best",
        "patience_left",
    }
    # the validation's predictions, counted per class: 2 faces of each of the 7 classes
    for row in rundir.read_metrics(run_dir):
        assert row.support == [2] * 7
        correct = sum(row.confusion[k][k] for k in range(7))
        assert correct / 14 == pytest.approx(row.val_acc)
        assert len(row.recall) == len(row.precision) == 7
    best = max(rows, key=lambda r: r["val_acc"])
    sidecar = json.loads((run_dir / "best_model.json").read_text())
    assert sidecar["arch"] == "tiny_cnn" and sidecar["kind"] == "weights"
    assert sidecar["val_acc"] == best["val_acc"] and sidecar["epoch"] == best["epoch"]
    assert sidecar["bytes"] == (run_dir / "best_model.ckpt").stat().st_size
    assert sidecar["bytes"] == sidecar["expected_bytes"], "the sidecar knows the exact size"
    state = json.loads((run_dir / "last_state.json").read_text())
    assert state["kind"] == "train_state" and state["bytes"] == state["expected_bytes"]


def test_early_stopping_on_a_plateau(tiny_csv):
    # a learning rate this small cannot move validation accuracy: a plateau from epoch 1
    run_dir = rundir.create_run(
        tiny_config(tiny_csv, epochs=6, lr=1e-12, min_lr=0, patience=1, augment=False, mixup=False), "plateau"
    )
    assert train(run_dir) == 0
    status = rundir.read_status(run_dir)
    assert status.state == "early_stopped"
    rows = rundir.read_metrics(run_dir)
    assert [r.epoch for r in rows] == [1, 2] and rows[-1].patience_left == 0


class StopWhileAgreeing(Solo):
    """One process's cluster, where a stop lands while the ranks agree on step `at` (the signal
    thread runs beside the collective): that step's vote was cast before it arrived."""

    def __init__(self, at: int):
        self.at, self.calls, self.trainer = at, 0, None

    def agree(self, signum, save_due):
        self.calls += 1
        vote = super().agree(signum, save_due)
        if self.calls == self.at:
            self.trainer.on_signal(signal.SIGTERM)
        return vote


def test_a_stop_that_lands_while_the_ranks_agree_stops_the_next_step(tiny_csv):
    # it was voted away: the step's answer (no stop) overwrote it, and the run trained to its end
    run_dir = rundir.create_run(tiny_config(tiny_csv, augment=False, mixup=False), "agree")
    cluster = StopWhileAgreeing(at=2)
    trainer = cluster.trainer = Trainer(run_dir, cluster=cluster)
    assert trainer.run() == 128 + signal.SIGTERM
    status = rundir.read_status(run_dir)
    assert status.state == "stopped" and "epoch 1 after step 2" in status.message, status
    assert (status.epoch, status.step) == (0, 2), "status.json says where it resumes, as its message"
    assert cluster.calls == 3


def test_sigterm_mid_epoch_then_resume_to_the_end(tmp_path):
    csv = small_csv(tmp_path / "more.csv", train_per_class=60, val_per_class=10)
    # plain training, so the network learns within three epochs and each epoch's accuracy differs
    config = tiny_config(csv, epochs=3, batch_size=8, keep_checkpoints=2, augment=False, mixup=False)
    run_dir = rundir.create_run(config, "stopme")
    pid = launcher.launch_detached(run_dir)
    deadline = time.time() + 120
    while time.time() < deadline:
        status = status_of(run_dir)
        if status.state == "running" and status.epoch >= 1:  # epoch 1 ended: the stop lands in epoch 2
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"trainer never reached epoch 2: {(run_dir / 'train.log').read_text()[-2000:]}")
    launcher.stop_run(run_dir)
    _wait_exit(pid)
    status = rundir.read_status(run_dir)
    assert status.state == "stopped", (run_dir / "train.log").read_text()[-2000:]
    meta = json.loads((run_dir / "last_state.json").read_text())
    assert meta["epoch"] == 1
    assert [r.epoch for r in rundir.read_metrics(run_dir)] == [1]

    resumed = launcher.launch_detached(run_dir, resume=True)
    _wait_exit(resumed, timeout=180)
    status = rundir.read_status(run_dir)
    assert status.state == "finished", (run_dir / "train.log").read_text()[-2000:]
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    log = (run_dir / "train.log").read_text()
    assert "Resuming at epoch 2/3" in log
    assert "are not loaded" not in log, "resume restores every parameter, silently"
    # the resumed process validates the weights it trains: each checkpoint it saved evaluates,
    # in a fresh process, to the accuracy it logged (a validation graph compiled before the
    # resume loaded the weights once kept validating the untrained network)
    from fer_core.infer.evaluate import evaluate

    logged = {row.epoch: row.val_acc for row in rundir.read_metrics(run_dir)}
    for ckpt in sorted(run_dir.glob("fer-*.ckpt")):
        epoch = json.loads(ckpt.with_suffix(".json").read_text())["epoch"]
        assert epoch >= 2
        got = evaluate(ckpt, str(csv), "PublicTest").accuracy
        assert abs(got - logged[epoch]) <= 1e-6, ckpt.name


def _wait_exit(pid, timeout=60):
    deadline = time.time() + timeout
    while rundir.pid_alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    try:  # reap our own child so it does not linger as a zombie
        import os

        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def test_cli_bad_values_exit_nonzero_with_one_line_and_no_run_dir(tmp_path):
    root = tmp_path / "checkpoints"
    for args, message in [
        (["--lr", "-1"], "lr must be > 0, got -1"),
        (["--batch_size", "many"], "batch_size must be an integer, got many"),
        (["--bogus", "1"], "unrecognized arguments: --bogus 1"),
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--data_csv", str(tmp_path / "missing.csv")], "missing.csv: no such file"),
    ]:
        result = subprocess.run([sys.executable, "-m", "fer_core.cli", "train", *args], capture_output=True, text=True)
        assert result.returncode == 2, args
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert not root.exists() or not any(root.iterdir())


def test_cli_classic_flags_run_in_the_foreground(tiny_csv, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fer_core.cli",
            "train",
            "--preset",
            "demo",
            "--data_csv",
            str(tiny_csv),
            "--batch_size",
            "16",
            "--epochs",
            "1",
            "--lr",
            "1e-3",
            "--patience",
            "3",
            "--augment",
            "--mixup",
            "--mixup_alpha",
            "0.4",
            "--label_smoothing",
            "0.12",
            "--weight_decay",
            "3e-5",
            "--save_dir",
            "classic",
            "--device_target",
            "CPU",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Epoch 1/1 - Loss: " in result.stdout and "Validation Accuracy: " in result.stdout
    assert "New best accuracy: " in result.stdout and "\r" not in result.stdout  # no bar when piped
    assert result.stdout.rstrip().splitlines()[-1].startswith("Diagnosis")  # the curves' reading ends the log
    run_dir = next((tmp_path / "checkpoints" / "classic").iterdir())
    cfg = rundir.read_config(run_dir)
    assert (cfg.batch_size, cfg.mixup_alpha, cfg.label_smoothing, cfg.weight_decay) == (16, 0.4, 0.12, 3e-5)
    listing = subprocess.run([sys.executable, "-m", "fer_core.cli", "runs"], capture_output=True, text=True)
    assert run_dir.name in listing.stdout and "finished" in listing.stdout
