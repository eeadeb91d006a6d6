"""How any error's text becomes the one line a user sees, and MindSpore's quiet default."""

from __future__ import annotations

from fer_core.errors import MESSAGE_LIMIT, FerError, error_line, one_line
from fer_core.mindspore_setup import quiet_logging


def test_one_line_keeps_the_first_line_flat_and_short():
    stack = "load failed:   bad\trecord\n\n----- C++ Call Stack -----\nframe 1\n"
    assert one_line(stack) == "load failed: bad record"
    assert one_line("\n\n  second  \n") == "second" and one_line("") == ""
    long = one_line("x" * 1000)
    assert len(long) == MESSAGE_LIMIT and long.endswith("…")
    assert one_line("abcdef", limit=4) == "abc…"


def test_error_line_names_the_type_and_fer_errors_are_already_one_line():
    assert error_line(ValueError("shape\nmismatch")) == "ValueError: shape"
    assert str(FerError("a.csv:\n line 3")) == "a.csv: line 3"


def test_quiet_logging_defaults_glog_v_and_keeps_what_the_user_set(monkeypatch):
    monkeypatch.delenv("GLOG_v", raising=False)
    quiet_logging()
    import os

    assert os.environ["GLOG_v"] == "3"
    assert quiet_logging({"GLOG_v": "1"})["GLOG_v"] == "1"
