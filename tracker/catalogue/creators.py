"""Creators: tiers by audience size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:  # the store reads the tier rule: no import of the store at run time
    from tracker.settings import Settings
    from tracker.store.engine import Row

#: (tier, minimum followers), largest first. Sources disagree on the bands; these follow
#: the common 10k / 100k / 500k / 1M cut-offs and are configurable in reports.
DEFAULT_TIERS: tuple[tuple[str, int], ...] = (
    ("mega", 1_000_000),
    ("macro", 500_000),
    ("mid", 100_000),
    ("micro", 10_000),
    ("nano", 0),
)
Platform = Literal[
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
]
PLATFORMS: tuple[str, ...] = get_args(Platform)


Tiers = tuple[tuple[str, int], ...]


def tier_for(followers: int, tiers: Tiers = DEFAULT_TIERS) -> str:
    """The one tier rule: the first (largest) tier whose minimum the followers reach.
    ``tracker.store.reports.tier_sql`` renders this same rule as SQL for click counts."""
    for name, minimum in tiers:
        if followers >= minimum:
            return name
    return tiers[-1][0]


def tier_range(tier: str, tiers: Tiers = DEFAULT_TIERS) -> tuple[int | None, int | None]:
    """Followers [min, max) of a tier under ``tiers`` (a filter that agrees with ``tier_for``)."""
    for i, (name, minimum) in enumerate(tiers):  # largest first
        if name == tier:
            return minimum, (tiers[i - 1][1] if i > 0 else None)
    return None, None


def tier_names(tiers: Tiers = DEFAULT_TIERS) -> tuple[str, ...]:
    """Smallest first, as pickers list them."""
    return tuple(name for name, _ in reversed(tiers))


def present(row: Row, settings: Settings | None = None) -> Row:
    """A creator as the API, CLI and CSV show it: the tier from ``TRACKER_TIERS``."""
    tiers = settings.tiers if settings is not None else DEFAULT_TIERS
    return {
        **{k: v for k, v in row.items() if k != "handle_key"},
        "tier": tier_for(int(row["followers"]), tiers),
    }
