"""The store: one async interface over SQLite (default) or PostgreSQL.

``Store`` holds every query (SQL lives only in this package), grouped by concept in mixins;
``Store.db`` is the engine that runs them. ``open_store(settings)`` picks the engine from
``TRACKER_DATABASE_URL`` and applies pending migrations.
"""

from __future__ import annotations

from typing import Any

from tracker.attribution.order_credit import Basis
from tracker.fraud.rules import Policy
from tracker.settings import Settings
from tracker.store.catalogue import CatalogueQueries
from tracker.store.click_days import ClickDayQueries
from tracker.store.clicks import ClickQueries
from tracker.store.codes import CodeQueries
from tracker.store.commissions import CommissionQueries
from tracker.store.costs import CostQueries
from tracker.store.creator_pages import CreatorPageQueries
from tracker.store.credits import CreditQueries
from tracker.store.engine import CLICK_COLUMNS, Engine
from tracker.store.events import EventQueries
from tracker.store.fraud import FraudQueries
from tracker.store.group import GroupCommit
from tracker.store.insights import InsightQueries
from tracker.store.journeys import JourneyQueries
from tracker.store.migrate import migrate
from tracker.store.orders import OrderQueries
from tracker.store.panel import PanelQueries
from tracker.store.panel_catalogue import PanelCatalogueQueries
from tracker.store.panel_lists import PanelListQueries
from tracker.store.postgres import PostgresEngine
from tracker.store.reach_days import ReachDayQueries
from tracker.store.rematch import RematchQueries
from tracker.store.reports import ReportQueries
from tracker.store.retention import RetentionQueries
from tracker.store.shops import ShopQueries
from tracker.store.sqlite import SQLiteEngine
from tracker.store.tokens import TokenQueries
from tracker.store.triage import TriageQueries
from tracker.store.users import UserQueries


class Store(
    CatalogueQueries,
    ClickQueries,
    TokenQueries,
    ShopQueries,
    CodeQueries,
    OrderQueries,
    RematchQueries,
    RetentionQueries,
    UserQueries,
    PanelQueries,
    CostQueries,
    ReportQueries,
    CreatorPageQueries,
    TriageQueries,
    PanelListQueries,
    PanelCatalogueQueries,
    EventQueries,
    CommissionQueries,
    FraudQueries,
    InsightQueries,
    ClickDayQueries,
    ReachDayQueries,
    JourneyQueries,
    CreditQueries,
):
    def __init__(self, db: Engine) -> None:
        self.db = db
        #: PostgreSQL: 4 lanes of group commits side by side (tracker/store/group.py).
        self.writes = GroupCommit(db, lanes=4 if db.dialect == "postgres" else 1)
        self._shop_cache = {}

    async def ping(self) -> bool:
        row = await self.db.fetch_one("SELECT 1 AS ok")
        return bool(row and row["ok"] == 1)

    async def insert_clicks(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows in ``CLICK_COLUMNS`` order; rows of 0.3's 15 columns get no address or
        language tags (tools and tests written before 0.4 keep working)."""
        n = len(CLICK_COLUMNS)
        if any(len(r) < n for r in rows):
            rows = [r + (None,) * (n - len(r)) for r in rows]
        await self.db.insert_clicks(rows)

    async def migrate(self) -> list[str]:
        """Pending migrations, then the stored credit brought in line with the settings
        (all of it after migration 0090 or a settings change: ``store/credits.py``)."""
        applied = await migrate(self.db)
        await self.sync_credits()
        return applied

    async def close(self) -> None:
        await self.db.close()


async def open_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        return await SQLiteEngine(
            settings.sqlite_path,
            synchronous=settings.sqlite_synchronous,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            cache_kib=settings.sqlite_cache_mib * 1024,
        ).open()
    return await PostgresEngine(settings.database_url, pool_size=settings.pg_pool_size).open()


async def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    store = Store(await open_engine(settings))
    store.tiers = settings.tiers  # tier-wide commission rules
    store.fraud_policy = Policy.from_settings(settings)  # the rules run in the ingest (CLI too)
    store.credit_basis = Basis(
        settings.lookback_click_days,
        settings.lookback_fingerprint_days,
        float(settings.half_life_days),
        settings.conflict_policy,
    )  # the stored credit's settings (tracker/store/credits.py)
    if migrate:
        try:
            await store.migrate()
        except BaseException:
            await store.close()
            raise
    return store
