"""Creators: tiers by audience size."""

from __future__ import annotations

#: (tier, minimum followers), largest first. Sources disagree on the bands; these follow
#: the common 10k / 100k / 500k / 1M cut-offs and are configurable in reports.
DEFAULT_TIERS: tuple[tuple[str, int], ...] = (
    ("mega", 1_000_000),
    ("macro", 500_000),
    ("mid", 100_000),
    ("micro", 10_000),
    ("nano", 0),
)
TIERS = tuple(name for name, _ in reversed(DEFAULT_TIERS))
PLATFORMS = (
    "instagram",
    "tiktok",
    "youtube",
    "twitch",
    "x",
    "facebook",
    "pinterest",
    "snapchat",
    "linkedin",
    "blog",
    "podcast",
    "other",
)


def tier_for(followers: int, tiers: tuple[tuple[str, int], ...] = DEFAULT_TIERS) -> str:
    for name, minimum in tiers:
        if followers >= minimum:
            return name
    return tiers[-1][0]
