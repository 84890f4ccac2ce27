"""Input models, the one validation rule for every boundary (API, CLI, panel, imports).

``validate(model, data)`` turns pydantic's errors into one ``Unprocessable`` with a field
list; the OpenAPI document is generated from the same models.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tracker.catalogue.creators import Platform
from tracker.core import clock, ids, money
from tracker.core.errors import Unprocessable
from tracker.links.rules import clean_destination


def _not_an_id(value: str) -> str:
    """A natural key (handle, campaign name, slug, code) never has a record id's shape:
    records are read by either in one query, so it would answer for another record."""
    if ids.looks_like_id(value.lstrip("@")):
        raise ValueError("has the shape of a record id (xx_ and 22 letters or digits)")
    return value


Status = Literal["active", "disabled"]
#: Three letters, what a shop or the ledger holds (``money.currency_code``'s rule).
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _chosen(value: str) -> str:
    if value not in money.CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency")
    return value


#: A currency people choose (budgets, costs, codes, shops, rules): ``money.CURRENCIES``.
Currency = Annotated[CurrencyCode, AfterValidator(_chosen)]
Handle = Annotated[
    str, StringConstraints(pattern=r"^@?[A-Za-z0-9._-]{1,64}$"), AfterValidator(_not_an_id)
]
Short = Annotated[str, StringConstraints(max_length=200)]
#: Money in JSON: integer minor units of its currency, a JSON integer and nothing else, in
#: every ``*_minor`` field (API bodies and the generic postback). "12.00", 12.0, "12" and
#: true are refused: "12.00" read as 12 minor units is 0.12, a hundredth of what was meant.
Minor = Annotated[int, Strict()]
Utm = Annotated[str, StringConstraints(max_length=200)] | None
CodeText = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$"),
    AfterValidator(_not_an_id),
]
Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
    AfterValidator(_not_an_id),
]
CampaignName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_not_an_id)
]
#: Every time and date at a boundary: the one range rule of ``tracker.core.clock``
#: (1970-01-01..9999-12-31 once in UTC), so whatever is accepted is stored and read back.
Timestamp = Annotated[datetime, AfterValidator(clock.in_range)]
Day = Annotated[date, AfterValidator(clock.check_date)]


def _not_before_start(value: date, info: ValidationInfo) -> date:
    start = info.data.get("starts_on")
    if isinstance(start, date) and value < start:
        raise ValueError(f"the campaign ends before it starts ({start.isoformat()})")
    return value


#: A campaign's last day: not before its first (when both are given together).
EndDay = Annotated[Day, AfterValidator(_not_before_start)]


def _web_url(value: str) -> str:
    """A URL the panel shows as a link (a post's): the destination rule of
    ``tracker.links.rules`` (http(s) to a public host name; no ``javascript:``, no control
    characters), without the allow-list, which names shops, not social networks."""
    if not value:
        return value
    try:
        return clean_destination(value)
    except Unprocessable as exc:
        raise ValueError(exc.reason.removeprefix("destination: ")) from None


WebUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_web_url)]


def storable_text(value: object) -> None:
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
            storable_text(k)
            storable_text(v)
    elif isinstance(value, list):
        for v in value:
            storable_text(v)


def unstorable_argument(args: list[str]) -> str | None:
    """The CLI's arguments through the same text rule, before any command reads one (bytes
    that are not UTF-8 arrive as lone surrogates): why the first bad one is refused."""
    for arg in args:
        try:
            storable_text(arg)
        except ValueError as exc:
            return f"argument {arg!r}: {exc}"
    return None


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        """Per field, so the error names the field (``name: text cannot contain NUL``)."""
        storable_text(value)
        return value


class Patch(Model):
    """A partial update. ``null`` clears a nullable column; for a column that cannot be
    empty (``NOT_NULL``) an explicit ``null`` is a 422, never a 500 from the database."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_null_for_required(cls, value: object, info: ValidationInfo) -> object:
        """Per field, so the error names it (``handle: cannot be null``)."""
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("cannot be null")
        return value


class TokenIn(Model):
    """An API token's name (``tracker token create NAME``, the panel's Tokens page)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]


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
    NOT_NULL = frozenset({"handle", "name", "platform", "followers", "category", "email", "status"})
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
    name: CampaignName
    starts_on: Day | None = None
    ends_on: EndDay | None = None
    budget_minor: Minor | None = Field(None, ge=0, le=10**15, description="Budget in minor units")
    currency: Currency = "USD"
    status: Status = "active"


class CampaignPatch(Patch):
    NOT_NULL = frozenset({"name", "currency", "status"})
    name: CampaignName | None = None
    starts_on: Day | None = None
    ends_on: EndDay | None = None
    budget_minor: Minor | None = Field(None, ge=0, le=10**15)
    currency: Currency | None = None
    status: Status | None = None


Destination = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
Language = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?$")]


class QueryCondition(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: Annotated[str, StringConstraints(max_length=200)] | None = None


class When(Model):
    device: list[Literal["mobile", "tablet", "desktop", "other"]] | None = Field(None, max_length=4)
    os: list[Literal["ios", "android", "windows", "macos", "linux", "chromeos", "other"]] | None = (
        Field(None, max_length=7)
    )
    country: list[Country] | None = Field(None, max_length=250)
    language: list[Language] | None = Field(None, max_length=50)
    query: QueryCondition | None = None


class RuleIn(Model):
    name: Name
    when: When
    destination: Destination


class VariantIn(Model):
    name: Name
    destination: Destination
    weight: int = Field(1, ge=0, le=10_000)


class TargetingIn(Model):
    """Ordered rules, then weighted variants (tracker/links/targeting.py)."""

    rules: list[RuleIn] = Field(default_factory=list, max_length=20)
    variants: list[VariantIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _names(self) -> TargetingIn:
        names = [r.name for r in self.rules] + [v.name for v in self.variants]
        if len({n.lower() for n in names}) != len(names):
            raise ValueError("rule and variant names must be unique")
        if self.variants and not any(v.weight for v in self.variants):
            raise ValueError("at least one variant needs a weight above 0")
        for rule in self.rules:
            when = rule.when
            if not (when.device or when.os or when.country or when.language or when.query):
                raise ValueError(f"rule {rule.name!r}: needs at least one condition")
        return self


class ApplyCodeIn(Model):
    """Send the shopper through the shop's code-applying URL (tracker/links/apply.py)."""

    kind: Literal["shopify", "woocommerce", "template"]
    code: CodeText | None = Field(None, description="Default: the creator's newest active code")
    param: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "coupon"
    template: Annotated[str, StringConstraints(max_length=2048)] | None = None

    @model_validator(mode="after")
    def _template(self) -> ApplyCodeIn:
        if (self.kind == "template") != bool(self.template):
            raise ValueError("template: required for kind=template, and only for it")
        return self


def _json_text(value: object) -> object:
    """The CLI passes ``--targeting '{...}'`` as text: the same object, parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("expected a JSON object") from None
    return value


JsonTargeting = Annotated[TargetingIn | None, BeforeValidator(_json_text)]
JsonApplyCode = Annotated[ApplyCodeIn | None, BeforeValidator(_json_text)]


class LinkIn(Model):
    destination: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="http(s) URL of the shop page; checked against TRACKER_ALLOWED_HOSTS"
    )
    slug: Slug | None = Field(None, description="Custom slug; generated when absent")
    creator_id: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Creator id or handle"
    )
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Campaign id or name"
    )
    utm_source: Utm = Field(None, description="Default: the creator's platform")
    utm_medium: Utm = Field(None, description="Default: influencer")
    utm_campaign: Utm = Field(None, description="Default: the campaign's name")
    utm_content: Utm = Field(None, description="Default: the creator's handle")
    utm_term: Utm = None
    utm_override: bool = Field(False, description="Replace utm_* already in the destination")
    content_type: Annotated[str, StringConstraints(max_length=32)] = ""
    title: Short = ""
    status: Status = "active"
    expires_at: Timestamp | None = None
    targeting: JsonTargeting = Field(
        None, description="Targeting rules and A/B variants (JSON; README: Reach)"
    )
    apply_code: JsonApplyCode = Field(
        None, description="Send through the shop's code-applying URL (JSON; README: Reach)"
    )


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
    expires_at: Timestamp | None = None
    targeting: JsonTargeting = None
    apply_code: JsonApplyCode = None


class LinkBulk(Model):
    """One new link per creator to the same destination (a campaign's launch)."""

    destination: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="http(s) URL of the shop page; checked against TRACKER_ALLOWED_HOSTS"
    )
    creators: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        None,
        min_length=1,
        max_length=5000,
        description="Creator ids or handles; absent: every active creator",
    )
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Campaign id or name"
    )
    utm_term: Utm = None
    utm_override: bool = Field(False, description="Replace utm_* already in the destination")
    content_type: Annotated[str, StringConstraints(max_length=32)] = ""
    title: Short = ""
    expires_at: Timestamp | None = None


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


ShopPlatform = Literal["shopify", "woocommerce", "generic"]
ShopSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=512)]


class ShopIn(Model):
    slug: ShopSlug = Field(description="Used in the postback URL: /postbacks/{platform}/{slug}")
    name: Short = ""
    platform: ShopPlatform
    secret: Secret | None = Field(
        None, description="Shopify: the webhook signing secret Shopify shows; generated if absent"
    )
    currency: Currency = "USD"
    pixel: bool | None = Field(
        None,
        description="Accept the thank-you-page pixel (a token in a URL). Default: on for "
        "generic shops, off for Shopify and WooCommerce, which sign their webhooks",
    )


class ShopPatch(Patch):
    NOT_NULL = frozenset({"name", "currency", "status", "secret"})
    name: Short | None = None
    currency: Currency | None = None
    status: Status | None = None
    secret: Secret | None = Field(
        None,
        description="Rotate: the previous secret still verifies for TRACKER_SECRET_GRACE_HOURS",
    )
    pixel: bool | None = Field(
        None, description="true: the pixel on with a new token (shown once); false: off"
    )


def _whole_code_value(value: object) -> object:
    """A decimal point in a code's value is refused, never rounded: "10.00" would otherwise
    pass as 10, ten cents of a fixed code typed as ten dollars."""
    if isinstance(value, float) or (isinstance(value, str) and "." in value):
        raise ValueError(
            "a whole number: a percent (15), or for a fixed value minor units of its "
            "currency (1000 for 10.00 USD)"
        )
    return value


def _percent_at_most_100(value: int, info: ValidationInfo) -> int:
    if info.data.get("value_type") == "percent" and value > 100:
        raise ValueError("a percent off is at most 100")
    return value


CodeValue = Annotated[int, BeforeValidator(_whole_code_value), AfterValidator(_percent_at_most_100)]


class CodeIn(Model):
    code: CodeText
    creator_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    value_type: Literal["percent", "fixed"] | None = None
    value: CodeValue | None = Field(
        None, ge=0, le=10**12, description="percent: whole percent; fixed: minor units"
    )
    currency: Currency | None = None
    status: Status = "active"


class CodePatch(Patch):
    NOT_NULL = frozenset({"status"})
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    value_type: Literal["percent", "fixed"] | None = None
    value: CodeValue | None = Field(None, ge=0, le=10**12)
    currency: Currency | None = None
    status: Status | None = None


class CodeBulk(Model):
    creators: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        None, max_length=5000, description="Creator ids or handles; absent: every active creator"
    )
    campaign_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    pattern: Literal["handle_number", "random"] = "handle_number"
    number: int = Field(15, ge=0, le=10**6, description="handle_number: MAYA + 15 -> MAYA15")
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{0,20}$")] = ""
    length: int = Field(6, ge=4, le=16, description="random: suffix length")
    value_type: Literal["percent", "fixed"] | None = None
    value: CodeValue | None = Field(None, ge=0, le=10**12)
    currency: Currency | None = None


CostKind = Literal["fee", "product", "commission", "labor"]
PostFormat = Literal["reel", "story", "video", "short", "post", "live", "other"]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=10**13)]


class CostIn(Model):
    """fee / product: amount_minor. commission: rate_percent of each credited order's net
    revenue (a commissions-ledger rule from its date; the ledger computes it). labor: hours
    x rate_minor."""

    creator_id: Ref
    campaign_id: Ref | None = None
    kind: CostKind
    amount_minor: Minor | None = Field(None, ge=0, le=10**15)
    currency: Currency = "USD"
    # Exact as typed, to the hundredth (12.5%, 7.25 h); more decimals are refused, never
    # rounded away (12.345% was stored as 12.34%, 0.001 h as nothing).
    rate_percent: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    hours: Decimal | None = Field(None, ge=0, le=100_000, decimal_places=2)
    rate_minor: Minor | None = Field(None, ge=0, le=10**12)
    incurred_on: Day
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class PostIn(Model):
    creator_id: Ref
    campaign_id: Ref | None = None
    link_id: Ref | None = None  # the tracking link the post carried (id or slug)
    platform: Platform
    format: PostFormat
    category: Annotated[str, StringConstraints(max_length=64)] = ""
    url: WebUrl = ""
    posted_at: Timestamp
    likes: Count = 0
    comments: Count = 0
    shares: Count = 0
    saves: Count = 0
    reach: Count | None = None
    impressions: Count | None = None
    followers_at_post: Count | None = None


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [  # a rule's own sentence, without pydantic's "Value error, " before it
            {
                "field": ".".join(str(p) for p in e["loc"]),
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        raise Unprocessable(f"{first['field']}: {first['message']}", details=errors) from None


#: What a pattern asks for, in words (a file's or a form's user never reads a regex).
PATTERN_WORDS = {
    "handle": "letters, digits, '.', '_' or '-', at most 64 (an optional leading @)",
    "code": "letters, digits, '_' or '-', 2 to 64, starting with a letter or digit",
    "slug": "letters, digits, '_' or '-', at most 64, starting with a letter or digit",
    "currency": "a 3-letter ISO 4217 code such as USD or EUR",
}


def plain_message(error: Any) -> str:
    """One pydantic error (``ValidationError.errors()`` item) in words a spreadsheet user
    can act on, with what was typed: no regex, no "Input should be"."""
    field = str(error["loc"][-1]) if error.get("loc") else ""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    if isinstance(given, str) and len(given) > 40:
        given = given[:40] + "..."
    shown = f", got {given!r}" if isinstance(given, str | int | float) else ""
    if kind == "string_pattern_mismatch":
        return f"expected {PATTERN_WORDS.get(field, 'another format')}{shown}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"expected a whole number such as 15000 (no letters, separators or decimals){shown}"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return f"expected a number such as 12.50{shown}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}{shown}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than"}
        words |= {"less_than_equal": "at most", "less_than": "less than"}
        bound = next(iter(ctx.values()), "")
        return f"{words[kind]} {bound}{shown}"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    return str(error["msg"])
