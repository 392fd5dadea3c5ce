"""What ingest says about each file, and the run's summary line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ADDED, UPDATED, UNCHANGED, FAILED = "added", "updated", "unchanged", "failed"
SKIPPED = "skipped"  # found in a folder but not a file ingest reads (a link, a FIFO…)


@dataclass
class FileResult:
    path: Path
    status: str
    meeting_id: int | None = None
    reason: str = ""
    line: int | None = None
    conflicts: list = field(default_factory=list)  # Conflict: an editor's version kept

    def describe(self) -> str:
        # A file name with a newline in it must not forge a line of the report.
        where = printable(str(self.path)) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.reason}" if self.reason else where


def printable(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == FAILED]

    def summary(self) -> str:
        skipped = self.count(SKIPPED)
        return (
            f"{len(self.results)} files: {self.count(ADDED)} added, {self.count(UPDATED)} updated, "
            f"{self.count(UNCHANGED)} unchanged, {self.count(FAILED)} failed"
        ) + (f", {skipped} skipped" if skipped else "")
