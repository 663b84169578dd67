"""Keyset paging over a listing sorted by (changed second, id), shared by both connectors.

Offset paging alone is not safe on a listing that changes while it is read: a record edited between two
page fetches jumps to the end of the sort order, every later record moves up one place, and the record that
slides across the page boundary is never seen. So every page is asked again from the highest `changed`
second already read (`changed >= floor`, offset 0), and the records of that second that were already given
are skipped. Only when one second holds more records than a page does the offset move, past the records of
that second already read (less a small rewind, so a record leaving that second cannot shift one past us).

An edited record is given again when it reappears with a newer `changed`: the caller always ends up with the
latest version, and an id never repeats at the same version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class KeysetWindow:
    """Where the next page starts and which records the listing already gave.

    `floor` is the `changed >= floor` bound in unix seconds (None: unbounded, the first page of a full
    listing); `offset` counts records of the floor second to skip. Only ids at or above the floor are
    remembered, so memory stays bounded by the records that share one second.
    """

    floor: int | None
    page_size: int
    rewind: int = 0
    offset: int = 0
    _given: dict[str, int | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.page_size < 1 or not 0 <= self.rewind < self.page_size:
            raise ValueError("need page_size >= 1 and 0 <= rewind < page_size")

    def fresh(self, key: str, changed: int | None) -> bool:
        """True when the record is new to this listing (or newer than the version given); marks it given."""
        if key in self._given:
            before = self._given[key]
            if changed is None or before is None or changed <= before:
                return False
        self._given[key] = changed
        return True

    def advance(self, rows: Sequence[tuple[str, int | None]], more: bool) -> bool:
        """Move past one page of (id, changed) rows; False when the listing is finished."""
        if not rows or not more:
            return False
        top = max((c for _, c in rows if c is not None), default=None)
        if top is None or (self.floor is not None and top <= self.floor):
            # the whole page sits in the floor second: step over it by offset
            self.offset += max(1, len(rows) - self.rewind)
        else:
            self.floor = top
            self.offset = 0
            # ids of records below the new floor cannot come back unless they change again (then newer)
            self._given = {k: c for k, c in self._given.items() if c is None or c >= top}
        return True
