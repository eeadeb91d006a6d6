"""Process-wide MindSpore settings: what a failed graph compile leaves behind, and where."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_graph_that_fails_to_compile_leaves_nothing_in_the_users_folder(tmp_path):
    script = textwrap.dedent("""
        import mindspore as ms, mindspore.ops as ops, numpy as np
        from fer_core.mindspore_setup import configure
        configure("CPU")

        @ms.jit
        def square(x):
            return ops.matmul(x, x)  # (2, 3) @ (2, 3): does not compile

        try:
            square(ms.Tensor(np.ones((2, 3), np.float32)))
        except (RuntimeError, ValueError, TypeError):
            print("compile failed")
    """)
    cwd, cache = tmp_path / "where-the-user-is", tmp_path / "cache"
    cwd.mkdir()
    program = tmp_path / "compile_fails.py"  # a file: MindSpore reads the function's source
    program.write_text(script)
    env = {k: v for k, v in os.environ.items() if k != "MS_OM_PATH"}
    env.update(FER_TUI_CACHE=str(cache), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(program)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert "compile failed" in done.stdout, done.stderr[-2000:]
    assert list(cwd.iterdir()) == []
    assert list((cache / "mindspore").rglob("analyze_fail*.ir"))


def test_fer_tui_threads_sets_the_kernel_threads_and_a_bad_value_is_one_line(monkeypatch):
    import pytest

    from fer_core.errors import ConfigError
    from fer_core.mindspore_setup import THREADS_ENV, cpu_threads

    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert cpu_threads() == len(os.sched_getaffinity(0))  # by default the cores it may use
    monkeypatch.setenv(THREADS_ENV, "1")
    assert cpu_threads() == 1
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(THREADS_ENV, bad)
        with pytest.raises(ConfigError, match=rf"^FER_TUI_THREADS must be a whole number of threads ≥ 1, got '{bad}'$"):
            cpu_threads()
