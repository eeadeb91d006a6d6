"""Every verdict rule, by name, at each level it can give; the levels' order; the one set of
levels the CLI's exit status and the dashboard's colours use. No MindSpore."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from fer_core.ckpt import verdict
from fer_core.ckpt.sidecar import Sidecar
from fer_core.ckpt.verdict import LEVELS, OK, RULES, Check, Verdict

MB = 1_000_000
UNIFORM = np.full((14, 7), 1 / 7)
CONFIDENT = np.eye(7)[np.arange(14) % 7] * 0.9 + 0.1 / 7
ONE_CLASS = np.tile(np.eye(7)[3] * 0.9 + 0.1 / 7, (14, 1))
LABELS = np.arange(14) % 7

# (rule, what it is given, the level it must give, a word the text must hold)
CASES = [
    (
        "unreadable",
        lambda: verdict.unreadable(PermissionError(errno.EACCES, "Permission denied")),
        "broken",
        "Permission denied",
    ),
    ("records", lambda: verdict.records("truncated: the file ends inside record 3"), "broken", "truncated"),
    ("records", lambda: verdict.records(None), "ok", ""),
    ("architecture", lambda: verdict.architecture(None, "unknown architecture (none of …)"), "broken", "unknown"),
    ("architecture", lambda: verdict.architecture("tiny_cnn", "unused"), "ok", ""),
    (
        "structure",
        lambda: verdict.structure("tiny_cnn", "weights", ["missing 2 parameters: a, b"], 10, 100),
        "broken",
        "missing 2",
    ),
    ("structure", lambda: verdict.structure("tiny_cnn", "weights", [], 12, 61_207), "ok", "61,207"),
    ("size", lambda: verdict.size(MB, MB), "ok", ""),
    ("size", lambda: verdict.size(MB, int(MB * 1.03)), "warning", "-3%"),
    ("size", lambda: verdict.size(MB // 3, MB), "broken", "expected 1.0 MB"),
    ("size", lambda: verdict.size(0, MB), "broken", "empty"),
    ("size", lambda: verdict.size(MB, None), "unknown", "no expected size"),
    ("size", lambda: verdict.size(MB // 3, MB, detail="333 KB, expected 1 MB"), "broken", "size 333 KB"),
    ("sidecar", lambda: verdict.sidecar(None, None, MB), "unknown", "no sidecar"),
    ("sidecar", lambda: verdict.sidecar(None, "sidecar x.json: not valid JSON", MB), "warning", "x.json"),
    ("sidecar", lambda: verdict.sidecar(Sidecar(bytes=MB + 1), None, MB), "warning", "sidecar says"),
    ("sidecar", lambda: verdict.sidecar(Sidecar(bytes=MB), None, MB), "ok", ""),
    (
        "sidecar_vs_weights",
        lambda: verdict.sidecar_vs_weights(Sidecar(arch="fer_vgg"), "tiny_cnn", MB),
        "broken",
        "sidecar disagrees with the weights: it says fer_vgg",
    ),
    (
        "sidecar_vs_weights",
        lambda: verdict.sidecar_vs_weights(Sidecar(arch="tiny_cnn", expected_bytes=2 * MB), "tiny_cnn", MB),
        "warning",
        "expects 2.0 MB",
    ),
    ("sidecar_vs_weights", lambda: verdict.sidecar_vs_weights(Sidecar(arch="tiny_cnn"), "tiny_cnn", MB), "ok", ""),
    ("behaviour", lambda: verdict.behaviour(CONFIDENT, LABELS)[0], "ok", "accuracy 100.00%"),
    ("behaviour", lambda: verdict.behaviour(UNIFORM, LABELS)[0], "warning", "uniform output"),
    ("behaviour", lambda: verdict.behaviour(ONE_CLASS, None)[0], "warning", "one class (happy)"),
    ("behaviour", lambda: verdict.behaviour(UNIFORM * np.nan, None)[0], "broken", "NaN"),
    ("behaviour", lambda: verdict.behaviour(CONFIDENT, (LABELS + 1) % 7)[0], "warning", "below chance"),
    ("behaviour", lambda: verdict.behaviour_unknown("faces: no such sample folder"), "unknown", "not checked"),
    ("untrained", lambda: verdict.untrained(0), "warning", "epoch 0"),
    ("untrained", lambda: verdict.untrained(3), "ok", ""),
    ("load", lambda: verdict.load_failed("MindSpore's loader crashed on it (SIGSEGV)"), "broken", "SIGSEGV"),
]


@pytest.mark.parametrize("rule, judge, level, word", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_rule_gives_its_level(rule, judge, level, word):
    judged = judge()
    assert rule in RULES
    assert isinstance(judged, Verdict) and judged.level == level, judged
    assert word in judged.text


def test_every_rule_is_tested_and_every_level_is_given_by_some_rule():
    assert {c[0] for c in CASES} == set(RULES)
    assert {c[2] for c in CASES} == set(LEVELS)


def test_levels_order_worst_last_and_a_report_is_its_worst_check():
    assert LEVELS == ("ok", "unknown", "warning", "broken")
    checks = [
        Check("structure", Verdict("ok", "12 tensors")),
        Check("size", Verdict("warning", "3 % over")),
        Check("behaviour", Verdict("warning", "uniform output")),
        Check("sidecar", Verdict("unknown", "x")),
    ]
    assert verdict.overall(checks) == Verdict("warning", "3 % over")  # the first of the worst
    assert verdict.overall(checks[:1]) == OK  # all ok: just "ok", each check keeps its text
    assert verdict.worst([]) == OK


def test_the_listing_reads_records_then_size_then_sidecar():
    side = Sidecar(bytes=MB, expected_bytes=MB)
    assert verdict.listing(MB, "truncated: …", side, None).level == "broken"
    assert verdict.listing(MB // 3, None, side, None).level == "broken"
    assert verdict.listing(MB, None, side, None) == OK
    assert verdict.listing(MB, None, None, None).level == "unknown"
    assert verdict.listing(MB, None, Sidecar(bytes=7, expected_bytes=MB), None).level == "warning"


def test_a_verdict_prints_as_level_and_text_and_refuses_other_levels():
    assert str(Verdict("broken", "truncated")) == "broken: truncated" and str(OK) == "ok"
    assert Verdict("warning", "x").to_dict() == {"level": "warning", "text": "x"}
    with pytest.raises(ValueError):
        Verdict("skipped", "no faces")  # type: ignore[arg-type]


def test_exit_status_is_broken_only():
    assert verdict.exit_status(["ok", "unknown", "warning"]) == 0
    assert verdict.exit_status(["ok", "broken"]) == verdict.EXIT_BROKEN == 1


def test_the_dashboard_has_a_colour_for_every_level_and_no_other():
    from fer_tui.format import VERDICT_STYLES, verdict_text

    assert set(VERDICT_STYLES) == set(LEVELS)
    assert verdict_text(Verdict("broken", "truncated")).plain == "broken: truncated"
    assert verdict_text(Verdict("broken", "truncated"), full=False).plain == "broken"
