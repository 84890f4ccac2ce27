"""Password hashing with scrypt (stdlib ``hashlib.scrypt``), a memory-hard KDF.

Parameters follow OWASP's password storage guidance for scrypt: N=2**17, r=8, p=1, i.e.
128 MiB and ~0.4 s per hash on this class of machine, which makes each offline guess
expensive on GPUs as well as CPUs. They are stored with every hash
(``scrypt$N$r$p$salt$key``), so raising them later only needs ``needs_rehash`` at login.
Hashing runs in a worker thread, at most ``MAX_CONCURRENT`` at once, so logins neither
block the event loop nor let a burst of attempts allocate unbounded memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os

N, R, P = 2**17, 8, 1
KEY_BYTES = 32
MAX_PASSWORD = 1024
MIN_PASSWORD = 12
MAX_CONCURRENT = 2
#: One semaphore per event loop (a semaphore is bound to the loop it first waits on; tests,
#: and anything else that runs several loops in one process, would otherwise share one).
_SEMS: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogateescape")[:MAX_PASSWORD],
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=129 * n * r * p + 2**20,
        dklen=KEY_BYTES,
    )


def check_new_password(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters"
    return None


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        actual = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${N}${R}${P}$")


#: Verified against when the e-mail is unknown, so a login takes as long either way and
#: response time does not reveal which accounts exist.
_DUMMY = f"scrypt${N}${R}${P}${_b64(b'0' * 16)}${_b64(b'0' * KEY_BYTES)}"


async def verify_async(password: str, stored: str | None) -> bool:
    loop = asyncio.get_running_loop()
    sem = _SEMS.get(loop)
    if sem is None:
        for old in [lp for lp in _SEMS if lp.is_closed()]:
            del _SEMS[old]
        sem = _SEMS[loop] = asyncio.Semaphore(MAX_CONCURRENT)
    async with sem:
        ok = await asyncio.to_thread(verify_password, password, stored or _DUMMY)
    return ok and stored is not None
