"""The lock files pin every dependency of pyproject.toml, each with hashes (issue 15)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) from a pip-compile --generate-hashes file."""
    out: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        m = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", block)
        if m:
            out[canonicalize_name(m.group(1))] = (m.group(2), block.count("--hash=sha256:"))
    return out


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))],
)
def test_lock_pins_every_dependency_with_hashes(lock: str, extras: tuple[str, ...]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    pinned = pins(ROOT / lock)
    assert pinned and all(n >= 1 for _, n in pinned.values()), "every pin has a hash"
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{lock} lacks {req.name}: run pip-compile again (README)"
        assert req.specifier.contains(pinned[name][0], prereleases=True), (req, pinned[name])


def test_docker_and_ci_install_from_the_locks() -> None:
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "LOCKED=1" in (ROOT / ".ci" / "run").read_text()
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / "Makefile").read_text()
