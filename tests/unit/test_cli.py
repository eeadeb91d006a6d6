"""The headless CLI's edges: OS errors and closed pipes are one line (or silence), never a traceback."""

import subprocess
import sys
import tomllib

from fer_core import config

FER = [sys.executable, "-m", "fer_core.cli"]
SHIPPED = __import__("pathlib").Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn"


def run(*args, **kwargs):
    return subprocess.run([*FER, *args], capture_output=True, text=True, timeout=120, **kwargs)


def test_an_output_path_under_a_regular_file_is_one_line(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = run("samples", "--csv", "demo", "--ckpt", str(SHIPPED / "best_model.ckpt"),
                 "--num_samples", "1", "--output", str(blocker / "samples"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "afile" in result.stderr and "Not a directory" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_a_closed_pipe_is_not_a_traceback():
    result = subprocess.run(f"{sys.executable} -m fer_core.cli presets | head -c 10", shell=True,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_presets_prints_toml_that_loads_back():
    result = run("presets", "gpu-recommended")
    assert result.returncode == 0
    values = tomllib.loads(result.stdout)
    description = values.pop("description")
    assert config.make_config(values) == config.load_preset("gpu-recommended").config and description


def test_saving_over_a_user_preset_needs_force():
    assert run("presets", "demo", "--save", "mine", "--set", "epochs", "3").returncode == 0
    again = run("presets", "demo", "--save", "mine", "--set", "epochs", "4")
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert config.load_preset("mine").config.epochs == 3
    assert run("presets", "demo", "--save", "mine", "--set", "epochs", "4", "--force").returncode == 0
    assert config.load_preset("mine").config.epochs == 4


def test_a_csv_without_header_names_the_problem_briefly(tmp_path):
    from tests.helpers import fer_rows

    csv = tmp_path / "noheader.csv"
    csv.write_text("\n".join(fer_rows(1)) + "\n")
    result = run("data", str(csv))
    assert result.returncode == 2 and "missing column 'emotion'" in result.stderr
    assert len(result.stderr) < 250, "the pixels of a header-less first row are not pasted into the error"
