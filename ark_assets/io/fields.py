"""The record fields an asset's rows carry: what a materialization saw, for drift to be seen.

The media rename and add fields (Tencent's new metric system renamed or changed ~40% of its
metrics); rows are stored verbatim, so without a record of the fields nobody would learn that one
appeared or vanished. A `RowSpool` tallies the fields of every row it writes: each record's
top-level keys, and one level into nested objects (`metrics.cost`, as Ocean Engine's custom report
nests them). Records of one endpoint share their keys, so each distinct key layout is read once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldTally:
    """The fields seen (`seen`) and, under a declared-fields policy, those left out (`dropped`)."""

    seen: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    _layouts: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict, repr=False)
    _nested: set[tuple[str, tuple[str, ...]]] = field(default_factory=set, repr=False)

    def add(self, data: Any) -> None:
        """Tally a row's `data`: a record, or a list of records (other values carry no fields)."""
        for record in data if isinstance(data, list) else (data,):
            if isinstance(record, dict):
                self._record(record)

    def _record(self, record: dict[str, Any]) -> None:
        layout = tuple(record)
        nested = self._layouts.get(layout)
        if nested is None:  # a key layout not seen yet
            nested = tuple(k for k, v in record.items() if isinstance(v, dict))
            self._layouts[layout] = nested
            self.seen.update(layout)
        for name in nested:
            inner = record.get(name)
            if isinstance(inner, dict) and (name, sub := tuple(inner)) not in self._nested:
                self._nested.add((name, sub))
                self.seen.update(f"{name}.{key}" for key in sub)

    @property
    def fields(self) -> list[str]:
        """Every field the media sent, stored or dropped, sorted."""
        return sorted(self.seen | self.dropped)
