"""API input models: validated and cropped where they enter, and the source of the OpenAPI schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from tracker import clock
from tracker.creators import PLATFORMS

Status = Literal["active", "disabled"]
Platform = Literal[PLATFORMS]  # type: ignore[valid-type]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Handle = Annotated[str, StringConstraints(pattern=r"^@?[A-Za-z0-9._-]{1,64}$")]
Short = Annotated[str, StringConstraints(max_length=200)]
Utm = Annotated[str, StringConstraints(max_length=200)] | None
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


def _clean_text(value: object) -> None:
    """Refuse text no engine can store: NUL (PostgreSQL) and lone surrogates (not UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text cannot contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (lone surrogate)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _clean_text(k)
            _clean_text(v)
    elif isinstance(value, list):
        for v in value:
            _clean_text(v)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: object) -> object:
        _clean_text(data)
        return data


class Patch(Model):
    """A partial update. ``null`` clears a nullable column; for a column that cannot be
    empty (``NOT_NULL``) an explicit ``null`` is a 422, never a 500 from the database."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in sorted(self.model_fields_set & self.NOT_NULL):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CreatorIn(Model):
    handle: Handle
    name: Short = ""
    platform: Platform = "instagram"
    followers: int = Field(0, ge=0, le=10_000_000_000)
    category: Annotated[str, StringConstraints(max_length=64)] = ""
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    status: Status = "active"

    @field_validator("handle")
    @classmethod
    def _strip_at(cls, v: str) -> str:
        return v.lstrip("@")


class CreatorPatch(Patch):
    NOT_NULL = frozenset({"handle", "name", "platform", "followers", "category", "email",
                          "status"})
    handle: Handle | None = None
    name: Short | None = None
    platform: Platform | None = None
    followers: int | None = Field(None, ge=0, le=10_000_000_000)
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    status: Status | None = None

    @field_validator("handle")
    @classmethod
    def _strip_at(cls, v: str | None) -> str | None:
        return v.lstrip("@") if v else v


class CampaignIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    starts_on: date | None = None
    ends_on: date | None = None
    budget_minor: int | None = Field(None, ge=0, le=10**15, description="Budget in minor units")
    currency: Currency = "USD"
    status: Status = "active"


class CampaignPatch(Patch):
    NOT_NULL = frozenset({"name", "currency", "status"})
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    budget_minor: int | None = Field(None, ge=0, le=10**15)
    currency: Currency | None = None
    status: Status | None = None


class LinkIn(Model):
    destination: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="http(s) URL of the shop page; checked against TRACKER_ALLOWED_HOSTS"
    )
    slug: Slug | None = Field(None, description="Custom slug; generated when absent")
    creator_id: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Creator id or handle")
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Campaign id or name")
    utm_source: Utm = Field(None, description="Default: the creator's platform")
    utm_medium: Utm = Field(None, description="Default: influencer")
    utm_campaign: Utm = Field(None, description="Default: the campaign's name")
    utm_content: Utm = Field(None, description="Default: the creator's handle")
    utm_term: Utm = None
    utm_override: bool = Field(False, description="Replace utm_* already in the destination")
    content_type: Annotated[str, StringConstraints(max_length=32)] = ""
    title: Short = ""
    status: Status = "active"
    expires_at: datetime | None = None


class LinkPatch(Patch):
    NOT_NULL = frozenset({"utm_override", "content_type", "title", "status"})
    destination: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    slug: Slug | None = None
    creator_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    utm_source: Utm = None
    utm_medium: Utm = None
    utm_campaign: Utm = None
    utm_content: Utm = None
    utm_term: Utm = None
    utm_override: bool | None = None
    content_type: Annotated[str, StringConstraints(max_length=32)] | None = None
    title: Short | None = None
    status: Status | None = None
    expires_at: datetime | None = None


def to_row(model: BaseModel, *, only_set: bool = False) -> dict[str, object]:
    """Model -> store row: dates and times as ISO text, booleans as 0/1."""
    data = model.model_dump(exclude_unset=only_set)
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            value = clock.to_iso(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        out[key] = value
    return out
