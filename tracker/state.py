"""What the running app holds: settings, the store, the link cache and the click writer."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from tracker.clicks.capture import ClickCapture
from tracker.http.ratelimit import RateLimiter
from tracker.settings import Settings

if TYPE_CHECKING:
    from tracker.clicks.orphans import OrphanCounter
    from tracker.clicks.writer import ClickWriter
    from tracker.events.worker import EventWorker
    from tracker.links.cache import LinkCache
    from tracker.store import Store


class AppState:
    """Built by ``create_app``; the store, cache and writer exist between start-up and shutdown."""

    store: Store
    cache: LinkCache
    writer: ClickWriter
    orphans: OrphanCounter
    events: EventWorker

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.capture = ClickCapture(settings)
        #: recent rejected postbacks per shop (kept in memory: a rejected request writes nothing)
        self.rejections: dict[str, deque[dict[str, str]]] = {}
        #: spent by rejected postbacks only, so a forger is slowed and a shop never is
        per_min = settings.postback_failures_per_min
        self.postback_failures = RateLimiter(per_min / 60, max(1, per_min)) if per_min else None
        #: Durability settings read back from the engine at start (journal mode, sync...).
        self.durability: dict[str, object] = {}
