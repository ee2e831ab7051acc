"""Print how many conformance vectors passed in each mode, after the run."""

from __future__ import annotations

import pytest
from _conformance import PASSED
from _vectors import EXCLUDED, VECTORS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PASSED:
        return
    tr = terminalreporter
    tr.section("SSE conformance vectors")
    total = len(VECTORS)
    for mode in sorted(PASSED):
        tr.write_line(f"{mode:<40} {len(PASSED[mode]):>3}/{total} vectors passed")
    runs = sum(len(names) for names in PASSED.values())
    tr.write_line(
        f"{len(PASSED)} modes, {runs} vector runs passed; {len(EXCLUDED)} wpt cases left out"
    )
