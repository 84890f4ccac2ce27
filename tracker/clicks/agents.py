"""User agent -> (device class, OS family, browser family, bot reason), at a cost that does
not depend on having seen the agent before.

In-app browsers (Instagram, TikTok, Facebook) put build numbers, device models and ids in
their user agents, so nearly every real click carries an agent never seen before: a cache
per distinct agent helps little, and the first look at an agent is what must be cheap.
Measured per unseen in-app agent on the bench VM (bench/README.md, issue 13):

* ``user-agents`` (``ua-parser`` 0.x regexes in pure Python, no release since 2020): ~520 us;
  ``ua-parser`` 1.x with its Rust resolver ``ua-parser-rs`` (the same uap-core regexes,
  compiled once by the ``regex`` crate), called through its resolver: ~13 us.
* The link-previewer list as one case-insensitive Python regex: ~90 us (the alternation is
  tried at every position); compiled by RE2 (``google-re2``, a DFA): ~1 us.
* ``crawlerdetect`` (1,462 patterns, as Shlink uses): ~1,500 us per call. Its own lists are
  compiled here by RE2 instead: a search of the raw agent (~3 us) is the cheap filter; only
  when that finds a crawler word (real crawlers, rare in creator traffic) do we apply
  crawlerdetect's exact rule (strip its exclusions, then search), ~35 us. A raw agent that
  matches nothing cannot match once parts are stripped, except by two fragments joining
  into a crawler word, which no real browser produces.

The device classes follow ``user-agents`` (mobile / tablet / desktop / bot / other) from the
same uap-core families; ``tests/clicks/test_agents.py`` checks they agree on every fixture agent.
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2  # type: ignore[import-untyped]  # ships no type hints
from crawlerdetect.providers.crawlers import data as _CRAWLERS  # type: ignore[import-untyped]
from crawlerdetect.providers.exclusions import data as _EXCLUSIONS  # type: ignore[import-untyped]
from ua_parser.loaders import load_lazy_builtins
from ua_parser.regex import Resolver

#: (device, os, browser, bot_reason or None): what a click records from its user agent.
Agent = tuple[str, str, str, "str | None"]

#: Link previewers and fetchers that unfurl a link in a chat or feed: redirected, never counted.
#: Pinterest's and Snapchat's own in-app browsers (``[Pinterest/iOS]``, ``Pinterest for
#: Android``, ``Snapchat/10.38``: real shoppers, see tests/fixtures/user-agents) are not
#: previewers: only their fetchers are listed (``Pinterestbot``, ``Pinterest/0.x``, ``Snap
#: URL Preview``); before 0.4.0 every Pinterest and Snapchat in-app click was flagged.
PREVIEWER_WORDS = (
    r"facebookexternalhit|facebot|facebookcatalog|meta-externalagent|twitterbot|slackbot|"
    r"slack-imgproxy|whatsapp|telegrambot|discordbot|linkedinbot|skypeuripreview|googlebot|"
    r"google-inspectiontool|adsbot-google|bingbot|bingpreview|applebot|pinterestbot|"
    r"^pinterest/0\.|redditbot|embedly|iframely|vkshare|viber|snap url preview|skype|mastodon|bluesky|"
    r"yandex(bot)?|baiduspider|duckduckbot|bytespider|gptbot|chatgpt-user|claudebot|"
    r"perplexitybot|amazonbot|petalbot|semrushbot|ahrefsbot|headlesschrome|lighthouse|"
    r"curl/|wget/|python-requests|python-httpx|go-http-client|okhttp|java/|libwww|"
    r"httpclient|node-fetch|axios/"
)


def _options() -> re2.Options:
    opts = re2.Options()
    opts.case_sensitive = False
    opts.max_mem = 64 << 20  # room for the DFA of ~1,500 alternatives (the default is 8 MiB)
    return opts


_PREVIEWERS = re2.compile(f"({PREVIEWER_WORDS})", _options())
#: RE2 has no look-ahead; crawlerdetect's one pattern with it (``Yandex(?!Search)``) is
#: searched without it here and confirmed with Python's ``re`` when it is the match.
_LOOKAHEAD = [p for p in _CRAWLERS if "(?" in p]
_CRAWLER_RE2 = re2.compile(
    "(" + "|".join(p.split("(?")[0] if "(?" in p else p for p in _CRAWLERS) + ")", _options()
)
_CRAWLER_EXACT = {p.split("(?")[0].lower() for p in _LOOKAHEAD}
_EXCLUSIONS_RE2 = re2.compile("(" + "|".join(_EXCLUSIONS) + ")", _options())
#: Both lists in one automaton: one pass over a human's agent (nearly every click) finds no
#: bot word at all, and the two lists are only searched apart when it finds one.
_ANY_BOT_WORD = re2.compile(
    f"({PREVIEWER_WORDS}|" + "|".join(p.split("(?")[0] for p in _CRAWLERS) + ")", _options()
)

_MOBILE_DEVICES = {
    "iPhone",
    "iPod",
    "Generic Smartphone",
    "Generic Feature Phone",
    "PlayStation Vita",
    "iOS-Device",
}
_TABLET_DEVICES = {
    "iPad",
    "BlackBerry Playbook",
    "Blackberry Playbook",
    "Kindle",
    "Kindle Fire",
    "Kindle Fire HD",
    "Galaxy Tab",
    "Xoom",
    "Dell Streak",
}
_PC_OSES = {"Windows 95", "Windows 98", "Solaris"}
_MOBILE_OSES = {
    "Windows Phone",
    "Windows Phone OS",
    "Symbian OS",
    "Bada",
    "Windows CE",
    "Windows Mobile",
    "Maemo",
}
_MOBILE_BROWSERS = {
    "IE Mobile",
    "Opera Mobile",
    "Opera Mini",
    "Chrome Mobile",
    "Chrome Mobile WebView",
    "Chrome Mobile iOS",
}


class _Parser:
    """uap-core's regexes through ua-parser-rs, compiled once (about 0.1 s, at import).

    The three extractors are called directly: ``Resolver.__call__`` would wrap each answer
    in dataclasses we do not keep (as much again as the extraction itself).
    """

    def __init__(self) -> None:
        resolver = Resolver(load_lazy_builtins())
        self._ua, self._os, self._device = resolver.ua, resolver.os, resolver.de

    def families(self, ua: str) -> tuple[str, str, str, str]:
        """(browser family, os family, os major, device family); 'Other' when unknown."""
        b, o, d = self._ua.extract(ua), self._os.extract(ua), self._device.extract(ua)
        return (
            b.family if b else "Other",
            o.family if o else "Other",
            (o.major or "") if o else "",
            d.family if d else "Other",
        )


_parser = _Parser()


def device_class(ua: str, browser: str, os_: str, os_major: str, device: str) -> str:
    """mobile / tablet / desktop / bot / other: ``user-agents``' rules (``is_mobile``,
    ``is_tablet``, ``is_pc``, ``is_bot``, tried in that order) on uap-core's families."""
    tablet = (
        device in _TABLET_DEVICES
        or (os_ == "Android" and "Mobile Safari" not in ua and browser != "Firefox Mobile")
        or (os_ == "Windows" and os_major.startswith("RT"))
        or (os_ == "Firefox OS" and "Mobile" not in browser)
    )
    if (
        device in _MOBILE_DEVICES
        or browser in _MOBILE_BROWSERS
        or (os_ in ("Android", "Firefox OS") and not tablet)
        or (os_ == "BlackBerry OS" and device != "Blackberry Playbook")
        or os_ in _MOBILE_OSES
        or "J2ME" in ua
        or "MIDP" in ua
        or "iPhone;" in ua
        or "Googlebot-Mobile" in ua
        or (device == "Spider" and "Mobile" in browser)
        or ("NokiaBrowser" in ua and "Mobile" in ua)
    ):
        return "mobile"
    if tablet:
        return "tablet"
    if (
        "Windows NT" in ua
        or os_ in _PC_OSES
        or (os_ == "Windows" and os_major == "ME")
        or (os_ == "Mac OS X" and "Silk" not in ua)
        or ("Maemo" not in ua and ("Chrome OS" in os_ or ("Linux" in ua and "X11" in ua)))
    ):
        return "desktop"
    if device == "Spider":
        return "bot"
    return "other"


@lru_cache(maxsize=1)
def _crawlers_python() -> re.Pattern[str]:
    return re.compile("(" + "|".join(_CRAWLERS) + ")", re.IGNORECASE)


def crawler(ua: str) -> str | None:
    """crawlerdetect's verdict (the matched pattern text) or None, at RE2 speed."""
    if not _CRAWLER_RE2.search(ua):
        return None  # the cheap filter: no crawler word anywhere in the agent
    agent = _EXCLUSIONS_RE2.sub("", ua)
    if not agent.strip():
        return None
    m = _CRAWLER_RE2.search(agent)
    if m is None:
        return None
    if (
        m.group(1).lower() in _CRAWLER_EXACT
    ):  # a look-ahead pattern: ask Python's re for the exact rule
        hit = _crawlers_python().search(agent)
        return hit.group(1) if hit else None
    return str(m.group(1))


def _has_bot_word(ua: str) -> bool:
    """Whether any previewer or crawler word is in ``ua``: one RE2 pass over its UTF-8
    bytes. The RE2 binding maps character offsets for a ``str`` argument, which cost 4-5x
    the search itself (5.9 against 1.4 us per in-app agent); a yes/no needs no offsets."""
    return _ANY_BOT_WORD.search(ua.encode("utf-8", "surrogateescape")) is not None


def describe(ua: str) -> Agent:
    """User agent -> (device, os, browser, bot_reason or None). Not cached here: the click
    capture keeps the descriptions of recent agents (``capture.AgentMap``)."""
    if not ua.strip():
        return "unknown", "", "", "empty-user-agent"
    browser, os_, os_major, device_family = _parser.families(ua)
    device = device_class(ua, browser, os_, os_major, device_family)
    reason: str | None = None
    bot_word = _has_bot_word(ua)
    m = _PREVIEWERS.search(ua) if bot_word else None
    if m:
        reason = f"previewer:{m.group(1).lower().split('/')[0]}"
    elif device_family == "Spider":
        reason = "ua-parser:spider"
    elif bot_word:
        hit = crawler(ua)
        if hit is not None:
            reason = f"crawlerdetect:{hit}"[:64]
    return device, os_[:64], browser[:64], reason


#: Every ASCII digit -> "0": the shape of an agent (``Shapes``).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


class Shapes:
    """``describe`` with the descriptions of human agents kept per *shape*: the agent with
    every digit replaced by 0 (``Instagram 309.0.0.40.113 (iPhone14,3; iOS 17_1_2; ...)`` ->
    ``Instagram 000.0.0.00.000 (iPhone00,0; iOS 00_0_0; ...)``).

    What a click records (device class, OS family, browser family) does not depend on the
    digits of build numbers, ids, versions and screen sizes, which is nearly all an in-app
    agent changes from one shopper to the next; so an unseen agent of a known shape costs a
    ~1 us byte translation and a dictionary read instead of uap-core's regexes (~25-45 us).
    Bot rules are never taken from the shape: an agent with any previewer or crawler word is
    described in full every time (the one RE2 pass that finds such words, ~1.4 us, runs
    first). ``tests/clicks/test_agents.py`` checks that the shape's description equals the
    full one for every real agent of the fixtures under many digit variations.
    """

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._known: dict[bytes, Agent] = {}
        self.hits = 0

    def describe(self, ua: str) -> Agent:
        if not ua.strip() or _has_bot_word(ua):
            return describe(ua)
        key = ua.encode("latin-1", "replace").translate(_DIGITS_TO_ZERO)
        agent = self._known.get(key)
        if agent is not None:
            self.hits += 1
            return agent
        agent = describe(ua)
        if len(self._known) >= self._size:
            del self._known[next(iter(self._known))]  # the oldest shape
        self._known[key] = agent
        return agent
