"""Training speed of a small 3×3-conv network with whichever mindspore is installed: the check
behind the `mindspore==2.8.0` pin.

    .venv/bin/python bench/mindspore_versions.py                      # the pinned 2.8.0
    python3 -m venv /tmp/ms29 && /tmp/ms29/bin/pip install mindspore==2.9.0 \
        && /tmp/ms29/bin/python bench/mindspore_versions.py           # a newer release

`ONEDNN_VERBOSE=1` shows which convolution kernels run (`ref:any` is the slow reference one).
"""

import time

import mindspore as ms
import mindspore.nn as nn
import mindspore.ops as ops
import numpy as np

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")
ms.device_context.cpu.op_tuning.threads_num(2)


def block(ci, co, s):
    return [nn.Conv2d(ci, co, 3, stride=s, pad_mode="pad", padding=1, has_bias=False), nn.BatchNorm2d(co), nn.ReLU()]


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.f = nn.SequentialCell(block(1, 16, 2) + block(16, 32, 2) + block(32, 64, 2) + block(64, 64, 1))
        self.d = nn.Dense(64, 7)

    def construct(self, x):
        return self.d(ops.mean(self.f(x), (2, 3)))


net = Net()
opt = nn.AdamWeightDecay(net.trainable_params(), 1e-3)


def fwd(x, t):
    return -(t * ops.log_softmax(net(x), -1)).sum(-1).mean()


g = ms.value_and_grad(fwd, None, opt.parameters)


@ms.jit
def step(x, t):
    l, gr = g(x, t)
    opt(gr)
    return l


x = ms.Tensor(np.random.rand(64, 1, 48, 48).astype(np.float32))
t = ms.Tensor(np.eye(7, dtype=np.float32)[np.random.randint(0, 7, 64)])
step(x, t).asnumpy()
step(x, t).asnumpy()
n = 10
a = time.time()
for _ in range(n):
    l = step(x, t)
l.asnumpy()
print(ms.__version__, f"{64 * n / (time.time() - a):.0f} img/s", flush=True)
