"""Print (or, with --write, refresh in docs/diagnosis.md) the table of diagnosis rules, generated
from fer_core.diagnose.RULES so the page never disagrees with the code.

    python docs/gen_diagnosis_table.py [--write]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer_core.diagnose import RULES  # noqa: E402

PAGE = Path(__file__).resolve().parent / "diagnosis.md"
BEGIN, END = "<!-- rules:begin (docs/gen_diagnosis_table.py) -->", "<!-- rules:end -->"


def table() -> str:
    lines = ["| rule | severity | fires when | remedy (config changes) |", "|---|---|---|---|"]
    lines += [f"| `{r.name}` | {r.severity} | {r.says} | {r.remedy} |" for r in RULES]
    return "\n".join(lines)


def refreshed(page: str) -> str:
    head, _, rest = page.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        PAGE.write_text(refreshed(PAGE.read_text()))
    else:
        print(table())
