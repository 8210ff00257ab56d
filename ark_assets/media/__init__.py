"""The three ad media the platform pulls from, and their fixed identities.

Each media gets its own module in this package (endpoints, pagination, codes, row-key parts)
as the fetch engine and the asset graph arrive; this file holds only what every layer shares.
"""

from __future__ import annotations

from enum import StrEnum


class Media(StrEnum):
    """A media's short name, as used in Redis keys, Kafka topics and HBase table names."""

    GDT = "gdt"  # Tencent Guangdiantong (Tencent Marketing API)
    JRTT = "jrtt"  # Toutiao / Ocean Engine
    WX = "wx"  # WeChat ads

    @property
    def platform_id(self) -> int:
        """The `eton` platform id the seed uses for this media (1 gdt, 3 jrtt, 8 wx)."""
        return _PLATFORM_IDS[self]

    @classmethod
    def parse(cls, value: str) -> Media:
        """The media named `value`, or a ValueError naming the accepted names."""
        try:
            return cls(value)
        except ValueError:
            accepted = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown media {value!r}: expected one of {accepted}") from None


_PLATFORM_IDS = {Media.GDT: 1, Media.JRTT: 3, Media.WX: 8}


def spec_of(media: Media | str):  # -> MediaSpec (imported lazily: the media modules import this one)
    """The declaration of `media`'s API (conventions, endpoints, codes)."""
    from ark_assets.media import gdt, jrtt, wx

    return {Media.GDT: gdt.SPEC, Media.JRTT: jrtt.SPEC, Media.WX: wx.SPEC}[Media.parse(media)]
