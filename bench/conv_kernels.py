"""Per-layer convolution times: MindSpore's stock nn.Conv2d vs our AOT kernels (FastConv2d),
and PyTorch's conv2d when torch imports, for fer_cnn's and fer_vgg's 3×3 layers.

    PYTHONPATH=. nice -n 19 .venv/bin/python bench/conv_kernels.py [--batch 128] [--rounds 3]
    .venv/bin/python bench/conv_kernels.py                   # with torch installed: PyTorch's column too

Each layer is timed forward (y = conv(x)) and backward (dx and dw of sum(y * g), which
includes the forward: MindSpore's grad recomputes nothing but runs the net once), each a
jit-compiled graph, `--iters` calls a measurement. The sides alternate `--rounds` times in
this one process and the medians are printed, with the load average: the ratios are the
figure, the milliseconds depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (net, c_in, c_out, size, stride): fer_cnn after its space-to-depth stem, then fer_vgg
LAYERS = [
    ("fer_cnn", 4, 32, 24, 2),
    ("fer_cnn", 32, 64, 12, 1),
    ("fer_cnn", 64, 64, 12, 1),
    ("fer_cnn", 64, 128, 12, 2),
    ("fer_cnn", 128, 128, 6, 1),
    ("fer_cnn", 128, 256, 6, 2),
    ("fer_cnn", 256, 256, 3, 1),
    ("fer_vgg", 1, 32, 48, 1),
    ("fer_vgg", 32, 32, 48, 1),
    ("fer_vgg", 32, 64, 24, 1),
    ("fer_vgg", 64, 64, 24, 1),
    ("fer_vgg", 64, 128, 12, 1),
    ("fer_vgg", 128, 128, 12, 1),
    ("fer_vgg", 128, 256, 6, 1),
    ("fer_vgg", 256, 256, 6, 1),
]


def timed(call, iters: int) -> float:
    """Milliseconds per call, after one warm-up call."""
    call()
    started = time.perf_counter()
    for _ in range(iters):
        call()
    return (time.perf_counter() - started) * 1000 / iters


def mindspore_side(conv, x, g):
    """(forward, backward) callables for a MindSpore cell; each waits for its result."""
    import mindspore as ms

    def loss(x):
        return (conv(x) * g).sum()

    grad = ms.value_and_grad(loss, 0, conv.trainable_params())

    @ms.jit
    def forward(x):
        return conv(x)

    @ms.jit
    def backward(x):
        return grad(x)

    return (lambda: forward(x).asnumpy(), lambda: backward(x)[1][1][0].asnumpy())


def torch_side(w, x, g, stride):
    """(forward, backward) for torch.nn.functional.conv2d, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    tw = torch.tensor(w, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    tg = torch.tensor(g)

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, stride=stride, padding=1)

    def backward():
        tw.grad = tx.grad = None
        (torch.nn.functional.conv2d(tx, tw, stride=stride, padding=1) * tg).sum().backward()

    return forward, backward


def rest_of_step(batch: int, rounds: int, iters: int) -> None:
    """What a fer_cnn step spends outside its convolutions: BatchNorm (training mode) + ReLU,
    forward and both gradients, at each conv's output shape, and the AdamW update of the whole
    net's parameters; MindSpore (jit), our FastBatchNormReLU and PyTorch, medians in ms."""
    import mindspore as ms
    import mindspore.nn as nn

    from fer_core.kernels.fast_bn_relu import use_fast_bn_relu
    from fer_core.models import build_model

    rng = np.random.default_rng(2)
    totals = {"mindspore": 0.0, "fast": 0.0, "torch": 0.0}
    print(f"{'BatchNorm2d + ReLU, training':34} {'mindspore f/b':>15} {'fast f/b':>13} {'torch f/b':>13}  load")
    for c, size in ((32, 12), (64, 12), (64, 12), (128, 6), (128, 6), (256, 3), (256, 3)):
        x = rng.standard_normal((batch, c, size, size)).astype(np.float32)
        g = rng.standard_normal(x.shape).astype(np.float32)
        cell = nn.SequentialCell([nn.BatchNorm2d(c), nn.ReLU()])
        cell.set_train(True)
        sides = {"mindspore": mindspore_side(cell, ms.Tensor(x), ms.Tensor(g))}
        ours = nn.SequentialCell([nn.BatchNorm2d(c), nn.ReLU()])
        use_fast_bn_relu(ours)
        ours.set_train(True)
        sides["fast"] = mindspore_side(ours, ms.Tensor(x), ms.Tensor(g))
        try:
            import torch

            bn = torch.nn.Sequential(torch.nn.BatchNorm2d(c), torch.nn.ReLU()).train()
            tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

            def forward(bn=bn, tx=tx):
                with torch.no_grad():
                    bn(tx)

            def backward(bn=bn, tx=tx, tg=tg):
                tx.grad = None
                bn.zero_grad()
                (bn(tx) * tg).sum().backward()

            sides["torch"] = (forward, backward)
        except ImportError:
            pass
        med = {}
        for name, (forward, backward) in sides.items():
            runs = [(timed(forward, iters), timed(backward, iters)) for _ in range(rounds)]
            med[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
            totals[name] += med[name][1]
        torch_ms = med.get("torch", (float("nan"),) * 2)
        print(
            f"{f'{c} channels @{size}':34} {med['mindspore'][0]:6.2f}/{med['mindspore'][1]:6.2f}  "
            f"{med['fast'][0]:6.2f}/{med['fast'][1]:6.2f}  "
            f"{torch_ms[0]:6.2f}/{torch_ms[1]:6.2f}  {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    net = build_model("fer_cnn")
    params = net.trainable_params()
    optimizer = nn.AdamWeightDecay(params, learning_rate=1e-3, weight_decay=0.05)
    grads = tuple(ms.Tensor(rng.standard_normal(p.shape).astype(np.float32)) for p in params)

    @ms.jit
    def update(grads):
        return optimizer(grads)

    def mindspore_update():
        update(grads)
        params[-1].asnumpy()  # waits for the update

    sides = {"mindspore": mindspore_update}
    try:
        import torch

        tparams = [torch.zeros(p.shape, requires_grad=True) for p in params]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g.asnumpy())
        topt = torch.optim.AdamW(tparams, lr=1e-3, weight_decay=0.05)
        sides["torch"] = topt.step
    except ImportError:
        pass
    med = {name: statistics.median(timed(call, iters) for _ in range(rounds)) for name, call in sides.items()}
    for name, ms_time in med.items():
        totals[name] += ms_time
    totals["fast"] += med["mindspore"]
    print(
        f"{'AdamW update, fer_cnn parameters':34} {med['mindspore']:13.2f}  {med['mindspore']:11.2f}  "
        f"{med.get('torch', float('nan')):11.2f}"
    )
    print(
        f"{'sum (b column + update)':34} {totals['mindspore']:13.2f}  {totals['fast']:11.2f}  {totals['torch']:11.2f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument(
        "--split", action="store_true", help="also time the two-op backward (backward-data and -weights apart)"
    )
    parser.add_argument(
        "--rest",
        action="store_true",
        help="time fer_cnn's BatchNorm+ReLU layers and AdamW update instead of convolutions",
    )
    parser.add_argument("--only", default="", help="a net name (fer_cnn, fer_vgg) to bench alone")
    args = parser.parse_args()

    import mindspore as ms
    import mindspore.nn as nn

    from fer_core import mindspore_setup
    from fer_core.kernels import fast_conv, library

    mindspore_setup.configure("CPU")
    if not library.available():
        print(f"fast kernels unavailable: {library.unavailable_reason()}")
        return 1
    if args.rest:
        rest_of_step(args.batch, args.rounds, args.iters)
        return 0
    rng = np.random.default_rng(0)
    print(f"batch {args.batch}, {args.rounds} alternating rounds of {args.iters} calls, medians in ms")
    print(
        f"{'layer':34} {'stock f/b':>13} {'fast f/b':>13} {'torch f/b':>13} {'stock/fast f/b':>15} "
        f"{'fast/torch f/b':>15}  load"
    )
    for net, c_in, c_out, size, stride in LAYERS:
        if args.only and net != args.only:
            continue
        w = (rng.standard_normal((c_out, c_in, 3, 3)) * 0.1).astype(np.float32)
        x = rng.standard_normal((args.batch, c_in, size, size)).astype(np.float32)
        out = (size - 1) // stride + 1
        g = rng.standard_normal((args.batch, c_out, out, out)).astype(np.float32)
        stock = nn.Conv2d(
            c_in, c_out, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False, weight_init=ms.Tensor(w)
        )
        fast = fast_conv.FastConv2d(c_in, c_out, stride, weight_init=ms.Tensor(w))
        sides = {
            "stock": mindspore_side(stock, ms.Tensor(x), ms.Tensor(g)),
            "fast": mindspore_side(fast, ms.Tensor(x), ms.Tensor(g)),
        }
        if args.split:
            split = fast_conv.FastConv2d(c_in, c_out, stride, weight_init=ms.Tensor(w), split_backward=True)
            sides["split"] = mindspore_side(split, ms.Tensor(x), ms.Tensor(g))
        pytorch = torch_side(w, x, g, stride)
        if pytorch:
            sides["torch"] = pytorch
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, (forward, backward) in sides.items():
                times[name].append((timed(forward, args.iters), timed(backward, args.iters)))
        med = {
            name: (statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs))
            for name, runs in times.items()
        }
        nan = (float("nan"), float("nan"))
        torch_ms = med.get("torch", nan)
        label = f"{net} {c_in}->{c_out} @{size} s{stride}"
        print(
            f"{label:34} {med['stock'][0]:6.2f}/{med['stock'][1]:6.2f} {med['fast'][0]:6.2f}/{med['fast'][1]:6.2f} "
            f"{torch_ms[0]:6.2f}/{torch_ms[1]:6.2f} "
            f"{med['stock'][0] / med['fast'][0]:7.2f}/{med['stock'][1] / med['fast'][1]:6.2f} "
            f"{med['fast'][0] / torch_ms[0]:7.2f}/{med['fast'][1] / torch_ms[1]:6.2f}  "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if "split" in med:
            print(
                f"{'  two-op backward':34} {'':13} {med['split'][0]:6.2f}/{med['split'][1]:6.2f}  "
                f"fast/split backward {med['fast'][1] / med['split'][1]:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
