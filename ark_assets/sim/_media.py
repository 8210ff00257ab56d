"""TEMPORARY (replaced by the independent ark_sim package): the simulator's media names."""

from __future__ import annotations

from enum import StrEnum


class Media(StrEnum):
    GDT = "gdt"
    JRTT = "jrtt"
    WX = "wx"

    @property
    def platform_id(self) -> int:
        return {"gdt": 1, "jrtt": 3, "wx": 8}[self.value]

    @classmethod
    def parse(cls, value: str) -> Media:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown media {value!r}: expected one of gdt, jrtt, wx") from None
