"""Process-wide MindSpore settings, applied once before any network is built."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from fer_core.errors import ConfigError

_configured = False
QUIET = "3"  # GLOG_v: MindSpore's errors only, its INFO/WARNING chatter off
THREADS_ENV = "FER_TUI_THREADS"


def cpu_threads() -> int:
    """Kernel threads for MindSpore's and ONNX Runtime's CPU operators: FER_TUI_THREADS, else
    the cores this process may use. Two runs side by side each take their share with
    FER_TUI_THREADS; more threads than cores make them wait on each other."""
    cores = max(1, len(os.sched_getaffinity(0)))
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return cores
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{THREADS_ENV} must be a whole number of threads ≥ 1, got '{value}'")
    return int(value)


def quiet_logging(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Default MindSpore's log level to errors only in `env` (this process's environment when
    None: call it before mindspore is imported), unless the user set GLOG_v; `env` returned."""
    env = os.environ if env is None else env
    env.setdefault("GLOG_v", QUIET)
    return env


def configure(device_target: str = "CPU") -> None:
    """Graph mode on the chosen device; on CPU `cpu_threads()` kernel threads.

    MindSpore's default of 25 CPU kernel threads oversubscribes small machines. The files
    MindSpore writes when a graph fails to compile (rank_0/om/analyze_fail.ir) go to the cache
    directory, not into whatever folder the user ran fer-tui from (MS_OM_PATH, unless set).
    """
    global _configured
    if _configured:
        return
    from fer_core import locations

    os.environ.setdefault("MS_OM_PATH", str(locations.cache_dir() / "mindspore"))
    import mindspore as ms

    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        ms.set_device(device_target)
    except RuntimeError as error:  # e.g. GPU asked of the CPU-only wheel
        reason = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        raise ConfigError(
            f"device_target {device_target}: this MindSpore cannot use it ({reason.split('. ')[0]})"
        ) from None
    if device_target == "CPU":
        ms.device_context.cpu.op_tuning.threads_num(cpu_threads())
    _configured = True
