"""Creatorlink: tracking-link redirector and promo-code attribution server."""

__version__ = "0.3.0"
