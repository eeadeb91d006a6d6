"""fer_core.text: what a file supplied, safe to print (shown), and how many of a thing (counted)."""

from __future__ import annotations

import os
from pathlib import Path

from fer_core.text import counted, shown


def test_controls_become_visible_escapes_and_unicode_stays():
    assert shown("emo\x1b]0;PWNED\x07\x1b[31m") == "emo\\x1b]0;PWNED\\x07\\x1b[31m"
    assert shown("a\x00b\tc\nd\x7f\x9b") == "a\\x00b\\x09c\\x0ad\\x7f\\x9b"
    assert shown("visage café 表情 😀") == "visage café 表情 😀"
    assert shown("evil\u202egnp.exe") == "evil\\u202egnp.exe"  # a name that reads backwards


def test_undecodable_file_names_show_their_bytes():
    name = os.fsdecode(b"caf\xe9.png")
    assert shown(name) == "caf\\xe9.png"
    assert shown(Path(name)) == "caf\\xe9.png"
    assert shown(b"caf\xe9.png") == "caf\\xe9.png"
    shown(name).encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogates left


def test_escaping_twice_changes_nothing_more():
    once = shown("\x1b[31m")
    assert shown(once) == once


def test_one_of_a_thing_is_singular_and_every_other_count_plural():
    assert [counted(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert counted(1, "entry", "entries") == "1 entry" and counted(3, "entry", "entries") == "3 entries"
