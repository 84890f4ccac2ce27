"""Login and logout.

Every attempt is counted before the password is checked (``Sessions.begin_attempt``); one
refused with 429 (and Retry-After) is not checked at all, so a guesser learns nothing from
a correct guess made while throttled, and concurrent guesses cannot slip past the count.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from admin.passwords import MAX_PASSWORD, hash_password, needs_rehash, verify_async
from admin.web import admin, base, read_form, redirect, render, session


def _safe_next(request: Request, target: str) -> str:
    """Only a path inside the panel; never another host (open redirect), and never a value
    that cannot be a header (CR/LF, control or non-ASCII characters: the panel's root)."""
    prefix = base(request) + "/"
    printable = target.isascii() and all(" " < c < "\x7f" for c in target)
    if (
        printable
        and target.startswith(prefix)
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return prefix


async def login_form(request: Request) -> Response:
    nxt = _safe_next(request, request.query_params.get("next", ""))
    if session(request).user:
        return Response(status_code=303, headers={"location": nxt})
    return render(request, "login.html", next=nxt, email="")


async def login(request: Request) -> Response:
    a = admin(request)
    form = await read_form(request)
    email = str(form.get("email") or "").strip()[:254]
    password = str(form.get("password") or "")
    nxt = _safe_next(request, str(form.get("next") or ""))
    ip = a.state.capture.client_ip(
        request.scope, {k.lower(): v for k, v in request.scope["headers"]}
    )
    email_key = email.lower()
    await a.sessions.begin_attempt(email_key, ip)
    record = (
        await a.store_credentials(email_key) if email and len(password) <= MAX_PASSWORD else None
    )
    ok = await verify_async(password, record["password_hash"] if record else None)
    if not ok or record is None:  # already counted by begin_attempt
        return render(
            request,
            "login.html",
            status=401,
            next=nxt,
            email=email,
            error="Wrong e-mail or password.",
        )
    await a.sessions.record_success(email_key, ip)
    if needs_rehash(record["password_hash"]):  # cost parameters raised since it was set
        new_hash = await asyncio.to_thread(hash_password, password)
        await a.store.update_admin_user(record["id"], {"password_hash": new_hash})
    user = {k: v for k, v in record.items() if k != "password_hash"}
    await a.sessions.login(session(request), user)
    return Response(status_code=303, headers={"location": nxt})


async def logout(request: Request) -> Response:
    await admin(request).sessions.logout(session(request))
    return redirect(request, "/login", msg="logged_out")
