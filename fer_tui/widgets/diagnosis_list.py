"""The diagnosis of a run's curves (fer_core.diagnose), one option per finding: what it
saw and the remedy; the highlighted finding is the one `f` applies."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from fer_core.diagnose import Finding
from fer_core.text import counted

SEVERITY_STYLES = {"problem": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def finding_text(finding: Finding) -> Text:
    text = Text()
    text.append(finding.severity, style=SEVERITY_STYLES[finding.severity])
    text.append(f" {finding.title}", style="bold")
    if finding.epoch is not None:
        text.append(f" (from epoch {finding.epoch})", style="dim")
    text.append(f"\n{finding.evidence}\n")
    text.append("remedy: ", style="bold")
    text.append(finding.remedy_text(), style="green")
    return text


class DiagnosisList(OptionList):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.findings: list[Finding] = []

    def show(self, findings: Sequence[Finding], epochs: int) -> None:
        if list(findings) == self.findings and self.option_count:
            return
        keep = self.highlighted
        self.findings = list(findings)
        self.clear_options()
        if not findings:
            calm = f"nothing to remark in the curves ({counted(epochs, 'epoch')})"
            self.add_option(Option(Text(calm, style="dim"), disabled=True))
            return
        self.add_options(Option(finding_text(f), id=f.rule) for f in findings)
        self.highlighted = min(keep or 0, len(findings) - 1)

    @property
    def chosen(self) -> Finding | None:
        """The highlighted finding (the first if none is)."""
        if not self.findings:
            return None
        return self.findings[self.highlighted or 0] if (self.highlighted or 0) < len(self.findings) else None
