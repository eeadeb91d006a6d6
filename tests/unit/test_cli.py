"""The headless CLI's edges: OS errors and closed pipes are one line (or silence), never a traceback."""

import re
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
    result = run(
        "samples",
        "--csv",
        "demo",
        "--ckpt",
        str(SHIPPED / "best_model.ckpt"),
        "--num_samples",
        "1",
        "--output",
        str(blocker / "samples"),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "afile" in result.stderr and "Not a directory" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_a_closed_pipe_is_not_a_traceback():
    result = subprocess.run(
        f"{sys.executable} -m fer_core.cli presets | head -c 10", shell=True, capture_output=True, text=True, timeout=60
    )
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


def test_preset_flags_that_would_do_nothing_are_refused_not_dropped():
    no_base = run("presets", "--save", "x3")
    assert no_base.returncode == 2 and "name the preset to start from" in no_base.stderr
    unsaved = run("presets", "demo", "--set", "lr", "1")
    assert unsaved.returncode == 2 and "add --save NEW_NAME" in unsaved.stderr
    assert len(no_base.stderr.strip().splitlines()) == len(unsaved.stderr.strip().splitlines()) == 1
    assert "x3" not in config.preset_names()


def test_a_csv_without_header_names_the_problem_briefly(tmp_path):
    from tests.helpers import fer_rows

    csv = tmp_path / "noheader.csv"
    csv.write_text("\n".join(fer_rows(1)) + "\n")
    result = run("data", str(csv))
    assert result.returncode == 2 and "missing column 'emotion'" in result.stderr
    assert len(result.stderr) < 250, "the pixels of a header-less first row are not pasted into the error"


# ---------------------------------------------------------------- flags as users type them


def parse(*argv):
    from fer_core.cli.main import build_parser

    return build_parser().parse_args(list(argv))


def one_line_error(capsys, *argv) -> str:
    from fer_core.cli.main import main

    with __import__("pytest").raises(SystemExit) as stop:
        main(list(argv))
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_misspelt_flag_names_the_verb_and_the_closest_flag(capsys):
    err = one_line_error(capsys, "train", "--learning_rate", "1e-3")
    assert err == "fer-tui train: error: unrecognized arguments: --learning_rate 1e-3; did you mean --lr?\n"
    assert "did you mean --batch_size?" in one_line_error(capsys, "train", "--batchsize", "8")
    assert "fer-tui eval: error" in one_line_error(capsys, "eval", "--ckpt", "x", "--data_csv", "demo", "--spilt", "a")
    assert "did you mean" not in one_line_error(capsys, "runs", "--zzzzzz")


def test_queue_add_says_its_runs_are_always_detached(capsys):
    err = one_line_error(capsys, "queue", "add", "--preset", "demo", "--detach")
    assert err == "fer-tui queue add: error: --detach is not needed: queued runs always run detached\n"


def test_closest_flag():
    from fer_core.cli.main import closest_flag

    flags = ["--lr", "--batch_size", "--label_smoothing", "--epochs", "--weight_decay", "--help"]
    assert closest_flag("--learning_rate", flags) == "--lr"
    assert closest_flag("--bs", flags) == "--batch_size"
    assert closest_flag("--label-smooth", flags) == "--label_smoothing"
    assert closest_flag("--weightdecay", flags) == "--weight_decay"
    assert closest_flag("--colour", flags) is None


def test_choices_are_taken_in_any_case():
    from fer_core.cli.commands.train import resolve_config

    args = parse("eval", "--ckpt", "x", "--data_csv", "demo", "--split", "publictest", "--device_target", "gpu")
    assert (args.split, args.device_target) == ("PublicTest", "GPU")
    config, _ = resolve_config(
        parse(
            "train",
            "--preset",
            "demo",
            "--device_target",
            "gpu",
            "--val_split",
            "PUBLICTEST",
            "--augment_policy",
            "Crop_Flip",
        )
    )
    assert (config.device_target, config.val_split, config.augment_policy) == ("GPU", "PublicTest", "crop_flip")


def test_a_wrong_choice_is_still_refused_in_one_line(capsys):
    err = one_line_error(capsys, "eval", "--ckpt", "x", "--data_csv", "demo", "--split", "publik")
    assert "invalid choice: 'publik'" in err and "PublicTest" in err


def test_hyphens_and_underscores_are_the_same_flag():
    assert parse("data", "demo", "--no_cache").no_cache is True
    assert parse("data", "demo", "--no-cache").no_cache is True
    assert parse("train", "--batch-size", "8").batch_size == "8"
    assert parse("train", "--batch-size=9", "--no-augment").batch_size == "9"
    assert parse("infer", "--ckpt-path", "a", "--image-path", "b").image_path == "b"
    # after `--` nothing is a flag any more
    assert parse("data", "--", "--no_cache").path == "--no_cache"


def test_root_is_listed_and_moves_the_root_of_every_verb(capsys, tmp_path, monkeypatch):
    from fer_core.cli.main import main

    with __import__("pytest").raises(SystemExit):
        main(["--help"])
    assert "--root DIR" in capsys.readouterr().out
    (tmp_path / "elsewhere").mkdir()
    assert main(["--root", str(tmp_path / "elsewhere"), "runs"]) == 0
    assert f"no runs under {tmp_path / 'elsewhere'}" in capsys.readouterr().out


def test_a_named_folder_must_exist_but_a_missing_default_root_is_just_empty(capsys, tmp_path, monkeypatch):
    from fer_core.cli.main import main

    assert main(["runs", str(tmp_path / "typo")]) == 2
    assert "typo: no such folder" in capsys.readouterr().err
    (tmp_path / "photo.png").write_bytes(b"x")
    assert main(["runs", str(tmp_path / "photo.png")]) == 2
    assert "photo.png: not a folder" in capsys.readouterr().err
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "nothing-trained"))  # the default root
    assert main(["checkpoints", "--quick"]) == 0
    assert "none trained yet" in capsys.readouterr().out
    assert main(["checkpoints", str(tmp_path / "typo"), "--quick"]) == 2


def test_the_console_script_sends_root_and_a_verb_to_the_cli(monkeypatch):
    import fer_core.cli.main as cli
    from fer_tui import entry

    seen, real = [], cli.main
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    for argv in (["--root", "d", "runs"], ["--root=d", "train", "--preset", "demo"]):
        with __import__("pytest").raises(SystemExit):
            entry.main(argv)
    assert seen == [["--root", "d", "runs"], ["--root=d", "train", "--preset", "demo"]]
    monkeypatch.setattr(cli, "main", real)
    with __import__("pytest").raises(SystemExit) as stop:
        entry.main(["--root"])  # not the dashboard's usage dump: one line
    assert stop.value.code == 2


def test_visualize_says_a_folder_is_a_folder(tmp_path):
    result = run("visualize", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--input", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "is a folder" in result.stderr and "infer --image_path" in result.stderr


def test_infer_on_a_folder_predicts_every_image_in_it(tmp_path):
    import shutil

    samples = SHIPPED.parents[2] / "samples"
    for name in ("happy", "surprise"):
        shutil.copy(samples / name / "correct_sample_1.png", tmp_path / f"{name}.png")
    (tmp_path / "notes.txt").write_text("not an image: skipped")
    result = run("infer", "--ckpt_path", str(SHIPPED / "best_model.ckpt"), "--image_path", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["happy.png", "surprise.png"]
    assert all(" Prediction: " in line and " Probability: " in line for line in lines)
    (tmp_path / "broken.png").write_text("not a png")
    again = run("infer", "--ckpt_path", str(SHIPPED / "best_model.ckpt"), "--image_path", str(tmp_path))
    assert again.returncode == 2 and len(again.stdout.splitlines()) == 2
    assert again.stderr.count("\n") == 1 and "broken.png: not a readable image" in again.stderr, again.stderr


def test_infer_on_a_folder_without_images_says_so(tmp_path):
    result = run("infer", "--ckpt_path", str(SHIPPED / "best_model.ckpt"), "--image_path", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "no images in it or in class sub-folders" in result.stderr


def test_infer_on_a_sample_set_predicts_its_faces_with_their_class_and_not_its_overview(tmp_path):
    """The shipped samples: 21 faces in class folders, overview.png a picture of all of them."""
    import shutil

    samples = shutil.copytree(SHIPPED.parents[2] / "samples", tmp_path / "samples")
    shutil.copy(samples / "happy" / "correct_sample_1.png", samples / "mine.png")  # a loose image is predicted
    (samples / "old").mkdir()  # a sub-folder that is not a class: left out, and said so
    shutil.copy(samples / "sad" / "correct_sample_1.png", samples / "old" / "x.png")
    result = run("infer", "--ckpt_path", str(SHIPPED / "best_model.ckpt"), "--image_path", str(samples))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    names = [line.split(":")[0] for line in lines[:-1]]
    assert names[0] == "mine.png" and "(true:" not in lines[0]
    assert len(names) == 22 and sorted(names[1:]) == sorted(
        f"{p.parent.name}/{p.name}" for p in samples.glob("*/correct_sample_*.png")
    )
    assert all(line.endswith(f"(true: {line.split('/')[0]})") for line in lines[1:-1])
    assert re.fullmatch(r"\d+ of 21 faces in class folders predicted as their folder's class", lines[-1])
    assert result.stderr.count("\n") == 1 and "overview.png" in result.stderr and "old/" in result.stderr


# ---------------------------------------------------------------- a new user's first lines (issue 27)


def test_a_cpu_preset_trains_on_gpu_as_typed(capsys):
    """The guide's GPU line with a CPU preset: its kernels follow the device (auto), no refusal."""
    from fer_core.cli.commands.train import resolve_config

    for preset in ("cpu-basic", "cpu-best", "cpu-fast", "cpu-augment"):
        gpu, _ = resolve_config(parse("train", "--preset", preset, "--device_target", "GPU"))
        cpu, _ = resolve_config(parse("train", "--preset", preset))
        assert (gpu.device_target, gpu.fast_kernels, cpu.fast_kernels) == ("GPU", False, True), preset


def test_an_explicit_fast_from_a_config_file_gives_way_to_the_gpu_with_a_note(tmp_path, capsys):
    from fer_core import fileio
    from fer_core.cli.commands.train import resolve_config

    saved = tmp_path / "mine.toml"
    fileio.write_toml(saved, {**config.TrainConfig(kernels="fast").model_dump()})
    gpu, _ = resolve_config(parse("train", "--config", str(saved), "--device_target", "GPU"))
    assert not gpu.fast_kernels and "CPU-only" in capsys.readouterr().out
    from fer_core.cli.main import main

    assert main(["train", "--config", str(saved), "--device_target", "GPU", "--kernels", "fast"]) == 2
    assert "kernels fast runs on CPU only" in capsys.readouterr().err  # the user's own choice stands


def test_verb_and_preset_typos_get_a_suggestion(capsys):
    assert "did you mean train?" in one_line_error(capsys, "trian")
    from fer_core.cli.main import main

    assert main(["train", "--preset", "cpu_fst"]) == 2  # cpu_fast is cpu-fast itself now
    assert "did you mean cpu-fast?" in capsys.readouterr().err


def test_a_misspelt_global_flag_is_named_not_the_folder_after_it(capsys):
    for flag in ("--roots", "--rot"):
        err = one_line_error(capsys, flag, "/tmp", "runs")
        assert err == f"fer-tui: error: unrecognized argument: {flag}; did you mean --root?\n"
    assert "invalid choice: 'trian'" in one_line_error(capsys, "--root", "/tmp", "trian")  # a verb misspelt
    err = one_line_error(capsys, "runs", "--root", "/tmp")  # a global flag after the verb
    assert err.endswith("--root; --root goes before the verb: fer-tui --root DIR runs …\n")
    assert "did you mean fer_vgg?" in one_line_error(capsys, "train", "--arch", "fer_vvg")


def test_a_root_given_that_is_not_there_is_an_error_the_default_one_is_no_runs_yet(tmp_path, capsys, monkeypatch):
    from fer_core.cli.main import main

    typo = tmp_path / "chekpoints"
    for verb in (["runs"], ["runs", "--all"], ["checkpoints", "--quick"]):
        assert main(["--root", str(typo), *verb]) == 2
        err = capsys.readouterr().err
        assert err == f"fer-tui {verb[0]}: error: --root {typo}: no such folder\n"
    assert not typo.exists()
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "checkpoints"))  # --root set it in-process
    assert main(["runs"]) == 0  # the default root before any run
    assert capsys.readouterr().out.startswith(f"no runs yet under {tmp_path / 'checkpoints'}")
    (tmp_path / "empty").mkdir()
    assert main(["--root", str(tmp_path / "empty"), "runs"]) == 0
    assert capsys.readouterr().out.startswith(f"no runs under {tmp_path / 'empty'} ")


def test_a_file_as_the_root_in_fer_tui_checkpoints_is_refused_as_with_root(tmp_path, capsys, monkeypatch):
    """The variable names the root as --root does: a file there is no root (a folder not made
    yet still is: the default before the first run)."""
    from fer_core.cli.main import main

    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(afile))
    for verb in (["runs"], ["runs", "--table"], ["runs", "--all"], ["checkpoints", "--quick"]):
        assert main(verb) == 2
        assert capsys.readouterr().err == f"fer-tui {verb[0]}: error: FER_TUI_CHECKPOINTS={afile}: not a folder\n"
        assert main(["--root", str(afile), *verb]) == 2
        assert capsys.readouterr().err == f"fer-tui {verb[0]}: error: --root {afile}: not a folder\n"
    (tmp_path / "elsewhere").mkdir()
    assert main(["--root", str(tmp_path / "elsewhere"), "runs"]) == 0  # --root wins over the variable
    assert capsys.readouterr().out.startswith(f"no runs under {tmp_path / 'elsewhere'} ")


def test_the_default_data_missing_says_how_to_get_going_in_one_line(tmp_path, capsys, monkeypatch):
    from fer_core.cli.main import main

    monkeypatch.chdir(tmp_path)  # no fer2013.csv here
    hint = "; download FER2013's fer2013.csv, pass --data_csv PATH, or try --preset demo (synthetic, no download)"
    for argv in (["train"], ["queue", "add"], ["sweep", "--preset", "cpu-basic", "--seeds", "1,2"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"fer-tui {argv[0]}: error: data_csv fer2013.csv: no such file or folder{hint}\n"
    assert main(["train", "--data_csv", "mine.csv"]) == 2  # a file the user named: no download hint
    assert capsys.readouterr().err == "fer-tui train: error: data_csv mine.csv: no such file or folder\n"
    assert not (tmp_path / "checkpoints").exists()


def test_a_preset_is_taken_in_any_case_and_with_either_dash(capsys):
    from fer_core.cli.commands.train import resolve_config
    from fer_core.cli.main import main
    from fer_core.errors import ConfigError

    for given, meant in (("Demo", "demo"), ("cpu_fast", "cpu-fast"), ("GPU_Recommended", "gpu-recommended")):
        config_, name = resolve_config(parse("train", "--preset", given))
        assert name == meant and config_ == config.load_preset(meant).config  # the run is named `…-demo`
    assert main(["presets", "CPU_FAST"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["epochs"] == config.load_preset("cpu-fast").config.epochs
    base = config.load_preset("demo").config
    config.save_preset("my_set", base)
    config.save_preset("my-set", base)
    assert config.load_preset("my_set").name == "my_set"  # the exact name still wins
    with __import__("pytest").raises(ConfigError, match="could be my-set or my_set"):
        config.load_preset("MY_SET")


def test_a_misspelt_field_of_presets_set_names_the_closest_field(capsys):
    from fer_core.cli.main import main

    assert main(["presets", "demo", "--save", "x", "--set", "lrr", "1e-3"]) == 2
    assert capsys.readouterr().err == "fer-tui presets: error: unknown field 'lrr'; did you mean lr?\n"
    assert main(["presets", "demo", "--save", "x", "--set", "colour", "1"]) == 2  # nothing close: the fields
    assert "unknown field 'colour' (known: data_csv, " in capsys.readouterr().err
    assert "x" not in config.preset_names()


def test_arch_is_taken_in_any_case_and_help_lists_the_choices(capsys):
    from fer_core.cli.commands.train import resolve_config

    config_, _ = resolve_config(parse("train", "--preset", "demo", "--arch", "FER_VGG"))
    assert config_.arch == "fer_vgg"
    assert "invalid choice: 'fer_vvg'" in one_line_error(capsys, "train", "--arch", "fer_vvg")
    with __import__("pytest").raises(SystemExit):
        parse("train", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "tiny_cnn, fer_vgg, fer_cnn, resnet18_attn" in text and "CPU, GPU, Ascend" in text
    # set apart from the description, which may itself end in a list ("…, erasing")
    assert "brightness/contrast, erasing (choices: crop_flip, full)" in text
    assert "stock on GPU and Ascend (choices: stock, fast, auto)" in text


def test_a_run_is_found_by_a_unique_start_or_end_of_its_id(tmp_path, capsys):
    from fer_core.errors import RunError
    from fer_core.runs.rundir import resolve_run
    from tests.helpers import make_run

    root = tmp_path / "checkpoints"
    first = make_run(root, "20260101-150535-demo")
    make_run(root, "20260102-093000-cpu-fast")
    assert resolve_run("20260101-150535", root) == first
    assert resolve_run("150535-demo", root) == first
    assert resolve_run("demo", root) == first
    with __import__("pytest").raises(RunError, match="2 runs match"):
        resolve_run("2026", root)
    from fer_core.cli.main import main

    assert main(["stop", "nosuchrun"]) == 2
    assert "nosuchrun: no such run" in capsys.readouterr().err


def test_a_run_is_found_by_any_whole_part_of_its_id(tmp_path, capsys, monkeypatch):
    """`fer-tui wait 205208` for run 20261206-205208-demo (the time in the middle of the id)."""
    from fer_core.cli.main import main
    from tests.helpers import make_run

    root = tmp_path / "checkpoints"
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(root))
    make_run(root, "20261206-205208-demo")
    make_run(root, "20261206-205431-demo", state="stopped")
    make_run(root, "20261207-205431-cpu-fast")
    for part in ("205208", "205208-demo", "20261206-205208", "20261206-205208-demo", "20261206-2052"):
        assert main(["wait", part]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out == "20261206-205208-demo: finished\n"
    assert main(["wait", "20261206-205431"]) == 3  # the stopped one
    capsys.readouterr()
    assert main(["diagnose", "205431-demo"]) == 0
    assert capsys.readouterr().out.startswith("20261206-205431-demo: 3 epochs")
    assert main(["wait", "cpu"]) == 0  # a whole part in the middle: cpu-fast's
    capsys.readouterr()
    assert main(["diagnose", "205431"]) == 2  # two runs share the time: named, not guessed
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "205431: 2 runs match" in err
    assert "20261206-205431-demo" in err and "20261207-205431-cpu-fast" in err
    assert main(["wait", "05208"]) == 2  # not a whole part, nor a start or end
    assert "05208: no such run" in capsys.readouterr().err


def test_wait_says_on_stderr_what_it_waits_for_and_keeps_stdout_for_the_end(tmp_path, capsys):
    import os

    from fer_core.cli.main import main
    from fer_core.runs import rundir
    from tests.helpers import make_run

    root = tmp_path / "checkpoints"
    live = make_run(root, "20261206-205208-demo", state="running", pid=os.getpid())
    rundir.update_status(live, step=4)  # a fresh heartbeat, inside epoch 4 of 8; this process is its pid
    assert main(["wait", "205208", "--timeout", "0.1"]) == 124
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "waiting for 20261206-205208-demo (epoch 4/8, running) …",
        "20261206-205208-demo: still live after 0.1s",
    ]
    assert main(["wait", "205208", "--timeout", "0.1", "--quiet"]) == 124
    assert capsys.readouterr() == ("", "")
    make_run(root, "20261206-205431-demo")  # ended already: only the answer
    assert main(["wait", "205431"]) == 0
    assert capsys.readouterr() == ("20261206-205431-demo: finished\n", "")


def test_wait_refuses_a_negative_timeout_and_takes_0_as_only_looking(tmp_path, capsys):
    from fer_core.cli.main import main
    from tests.helpers import make_run

    root = tmp_path / "checkpoints"
    make_run(root, "20261206-205431-demo")  # ended: a timeout let through would answer 0
    for bad in ("-1", "nan"):
        assert main(["wait", "205431", "--timeout", bad]) == 2
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"fer-tui wait: error: --timeout must be >= 0 seconds, got {bad}\n")
    assert main(["wait", "205431", "--timeout", "0"]) == 0
    assert capsys.readouterr().out == "20261206-205431-demo: finished\n"


def test_checkpoints_lists_the_shipped_models_as_the_dashboard_does(capsys, monkeypatch, tmp_path):
    from fer_core.cli.main import main

    monkeypatch.setenv("FER_TUI_SHIPPED", str(SHIPPED.parent))
    assert main(["checkpoints", "--quick"]) == 0  # no runs yet: the shipped models still show
    out = capsys.readouterr().out
    assert "demo-tiny_cnn" in out and "fer_vgg-cpu-best" in out and "none trained yet" not in out
    (tmp_path / "elsewhere").mkdir()
    assert main(["checkpoints", "--quick", str(tmp_path / "elsewhere")]) == 0  # a folder named: only it
    assert "demo-tiny_cnn" not in capsys.readouterr().out


def test_an_image_given_as_data_or_as_a_video_is_named_for_what_it_is(tmp_path):
    photo = next((SHIPPED.parents[2] / "samples").glob("*/*.png"))
    shown = tmp_path / "overview.png"
    shown.write_bytes(photo.read_bytes())
    result = run("eval", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--data_csv", str(shown))
    assert result.returncode == 2 and "is an image (PNG), not a CSV" in result.stderr, result.stderr
    result = run("visualize", "--mode", "video", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--input", str(shown))
    assert result.returncode == 2 and "is an image (PNG); --mode video annotates a video" in result.stderr
    assert result.stderr.count("\n") == 1 and not list(tmp_path.glob("*.mp4"))


def test_infer_on_a_checkpoint_of_epoch_0_warns_first(tmp_path):
    import json
    import shutil

    ckpt = tmp_path / "last_state.ckpt"
    shutil.copy(SHIPPED / "best_model.ckpt", ckpt)
    side = json.loads((SHIPPED / "best_model.json").read_text())
    (tmp_path / "last_state.json").write_text(json.dumps({**side, "epoch": 0}))
    photo = next((SHIPPED.parents[2] / "samples").glob("*/*.png"))
    result = run("infer", "--ckpt_path", str(ckpt), "--image_path", str(photo))
    assert result.returncode == 0, result.stderr
    assert "warning: last_state.ckpt: saved at epoch 0" in result.stderr and "Prediction:" in result.stdout
    result = run("infer", "--ckpt_path", str(SHIPPED / "best_model.ckpt"), "--image_path", str(photo))
    assert "warning" not in result.stderr
