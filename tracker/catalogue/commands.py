"""The catalogue's records as the ``tracker`` command handles them (``tracker creator |
campaign | link | shop | code create | list | get | update | disable | enable``): per kind,
the same pydantic models as the API (``tracker/cli.py`` generates the options from them),
the columns of its list, the services that create, read and update it, how it reads back,
and how money typed in major units becomes the model's minor units."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tracker import schemas
from tracker.catalogue import campaigns, codes, creators
from tracker.catalogue import shops as shop_of
from tracker.links import service as catalogue
from tracker.settings import Settings
from tracker.store import Store


async def _as_typed(store: Store, fields: dict[str, Any], ref: str) -> dict[str, Any]:
    return fields


async def _code_value(store: Store, fields: dict[str, Any], ref: str) -> dict[str, Any]:
    return codes.value_from_major(fields)


@dataclass(frozen=True)
class Kind:
    """How the CLI creates, lists, reads and updates one kind of record."""

    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    columns: list[str]
    create: Callable[[Store, Settings, dict[str, Any], set[str]], Awaitable[dict[str, Any]]]
    list: Callable[[Store, int], Awaitable[list[dict[str, Any]]]]
    get: Callable[[Store, str], Awaitable[dict[str, Any]]]
    update: Callable[[Store, Settings, str, dict[str, Any]], Awaitable[dict[str, Any]]]
    present: Callable[[dict[str, Any], Settings], dict[str, Any]] = lambda row, _: row
    #: the options as typed -> the model's fields: money typed in major units with a
    #: currency (``--budget 1500.00``) into the model's minor units (``budget_minor``), by
    #: the record's own rule; the third argument is the record's ref on an update
    typed: Callable[[Store, dict[str, Any], str], Awaitable[dict[str, Any]]] = _as_typed


async def _shop_shown(settings: Settings, made: Awaitable[tuple[Any, dict[str, str]]]) -> Any:
    """A created or updated shop, with the secrets shown once (``catalogue/shops.py``)."""
    out, shown = await made
    if shown:
        print(f"shown once, keep them: {' and '.join(shown)}", file=sys.stderr)
    return {**shop_of.present(out, settings.base_url, settings.secret_grace_hours), **shown}


async def _update_link(
    store: Store, settings: Settings, ref: str, f: dict[str, Any]
) -> dict[str, Any]:
    return (await catalogue.update_link(store, settings, ref, f))[1]


async def _update_code(
    store: Store, settings: Settings, ref: str, f: dict[str, Any]
) -> dict[str, Any]:
    return await store.update_code(ref, await store.resolve_creator_campaign(f))


KINDS: dict[str, Kind] = {
    "creator": Kind(
        schemas.CreatorIn,
        schemas.CreatorPatch,
        ["id", "handle", "platform", "followers", "tier", "status"],
        lambda st, _s, row, _g: st.create_creator(row),
        lambda st, n: st.list_creators(limit=n),
        lambda st, ref: st.get_creator(ref),
        lambda st, _s, ref, f: st.update_creator(ref, f),
        creators.present,
    ),
    "campaign": Kind(
        schemas.CampaignIn,
        schemas.CampaignPatch,
        ["id", "name", "budget", "currency", "status"],
        lambda st, _s, row, _g: st.create_campaign(row),
        lambda st, n: st.list_campaigns(limit=n),
        lambda st, ref: st.get_campaign(ref),
        lambda st, _s, ref, f: st.update_campaign(ref, f),
        campaigns.present_major,
        typed=campaigns.typed_budget,
    ),
    "link": Kind(
        schemas.LinkIn,
        schemas.LinkPatch,
        ["id", "slug", "creator_id", "status", "destination"],
        catalogue.create_link,
        lambda st, n: st.list_links(limit=n),
        lambda st, ref: st.get_link(ref),
        _update_link,
        catalogue.present,
    ),
    "shop": Kind(
        schemas.ShopIn,
        schemas.ShopPatch,
        ["id", "slug", "platform", "currency", "status"],
        lambda st, s, row, _g: _shop_shown(s, shop_of.create(st, row)),
        lambda st, n: st.list_shops(limit=n),
        lambda st, ref: st.get_shop(ref),
        lambda st, s, ref, f: _shop_shown(s, shop_of.update(st, ref, f)),
        lambda row, s: shop_of.present(row, s.base_url, s.secret_grace_hours),
    ),
    "code": Kind(
        schemas.CodeIn,
        schemas.CodePatch,
        ["code", "creator_handle", "campaign_name", "value_type", "value", "status"],
        lambda st, _s, row, _g: codes.create_code(st, row),
        lambda st, n: st.list_codes(limit=n),
        lambda st, ref: st.get_code(ref),
        _update_code,
        typed=_code_value,
    ),
}
