"""The dashboard's stylesheet: Textual's, with parsed rules kept for the whole process.

Textual (8.2.8, pinned) refreshes its CSS when the theme is set and at the first visit to each
mode, and every refresh parses every source again in a fresh stylesheet whose cache is empty:
the Runs or Checkpoints screen's first visit spent about a third of its CPU re-tokenising CSS
that had not changed. Parsed rules depend only on a source and the theme's variables, so here
they are parsed once per (source, variables) and a refresh re-parses in place. The rule sets
are only read once built (Textual's own per-stylesheet cache shares them the same way).
"""

from __future__ import annotations

from textual.css.model import RuleSet
from textual.css.stylesheet import CSSLocation, Stylesheet

# (css, where it came from, default?, tie breaker, scope, the variables) -> its parsed rules
_PARSED: dict[tuple, list[RuleSet]] = {}


class SharedStylesheet(Stylesheet):
    """A Stylesheet whose sources are parsed once per process and theme."""

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(self._variables.items()))
        rules = _PARSED.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            _PARSED[key] = rules
        return rules

    def reparse(self) -> None:
        """Parse every source with the current variables. In place: `parse` keeps the old rules
        until all sources parsed, which is what Textual's fresh copy is for."""
        self.parse()
