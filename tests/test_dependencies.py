"""Dependencies: the production lock file matches pyproject.toml, and no floor admits a
release with a known advisory. No network: it reads the two files only.

Refresh the lock as docs/OPERATIONS.md ("Production install") says when this fails.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"

# First release free of every advisory we know of, per package. Direct dependencies
# (runtime and dev) must have a pyproject floor at least this high; every package in the
# lock, direct or transitive, must be pinned at least this high.
SECURITY_FLOORS = {
    # CVE-2024-22195, CVE-2024-34064, CVE-2024-56201, CVE-2024-56326, CVE-2025-27516
    "jinja2": "3.1.6",
    # CVE-2024-23334, CVE-2024-30251, CVE-2024-52304, CVE-2025-53643, GHSA-6mq8-rvhq-8wgg
    # (3.13.3), CVE-2026-22815 and CVE-2026-34513..34525 (3.13.4), CVE-2026-34993 and
    # CVE-2026-47265 (3.14.0), CVE-2026-54273..54280 (3.14.1), CVE-2026-59881 and
    # CVE-2026-69243 (3.14.2), CVE-2026-69244 (3.14.3)
    "aiohttp": "3.14.3",
    # CVE-2026-53533 (5.1.1), CVE-2026-55558 / PYSEC-2026-2338 (5.1.2)
    "aiosmtplib": "5.1.2",
    # CVE-2020-17446
    "asyncpg": "0.21.0",
    # CVE-2019-7164, CVE-2019-7548
    "sqlalchemy": "1.3.0",
    # Transitive, pinned by the lock:
    # CVE-2024-37891, CVE-2025-50181/50182, CVE-2025-66418/66471, CVE-2026-21441,
    # CVE-2026-44431, CVE-2026-44432 (2.7.0)
    "urllib3": "2.7.0",
    # CVE-2024-35195, CVE-2024-47081, CVE-2026-25645 (2.33.0)
    "requests": "2.33.0",
    # CVE-2024-3651, CVE-2026-45409 (3.15)
    "idna": "3.15",
    # CVE-2024-39689 (GLOBALTRUST removed)
    "certifi": "2024.7.4",
    # CVE-2026-32597 (2.12.0), CVE-2026-48522..48526 (2.13.0)
    "pyjwt": "2.13.0",
    # CVE-2026-28684
    "python-dotenv": "1.2.2",
    # CVE-2026-41205, CVE-2026-44307 (alembic's templates)
    "mako": "1.3.12",
    # CVE-2026-4539
    "pygments": "2.20.0",
    # CVE-2023-26302, CVE-2023-26303
    "markdown-it-py": "2.2.0",
    # CVE-2024-3772
    "pydantic": "2.4.0",
    # Dev only:
    # CVE-2025-71176 (tmpdir)
    "pytest": "9.0.3",
    # CVE-2024-27305, CVE-2024-34083
    "aiosmtpd": "1.4.6",
    # CVE-2025-59288 (browser download without TLS checks; we use Debian's Chromium)
    "playwright": "1.55.1",
}


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _runtime() -> list[Requirement]:
    return [Requirement(line) for line in _project()["dependencies"]]


def _dev() -> list[Requirement]:
    return [Requirement(line) for line in _project()["optional-dependencies"]["dev"]]


def _locked() -> dict[str, list[tuple[Version, Requirement]]]:
    """Every pin in the lock, by canonical name (a universal lock may pin one twice)."""
    pins: dict[str, list[tuple[Version, Requirement]]] = {}
    entry = ""
    for raw in [*LOCK.read_text().splitlines(), ""]:
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            entry += line[:-1] + " "
            continue
        entry += line
        text = entry.strip()
        entry = ""
        if not text or text.startswith("-"):
            continue
        spec, _, hashes = text.partition(" --hash=")
        assert hashes, f"no hash for {spec!r}: the lock must be made with --generate-hashes"
        req = Requirement(spec.strip())
        (clause,) = req.specifier
        assert clause.operator == "==", f"{spec!r} is not an exact pin"
        pins.setdefault(canonicalize_name(req.name), []).append((Version(clause.version), req))
    return pins


def _floor(req: Requirement) -> Version | None:
    floors = [Version(s.version) for s in req.specifier if s.operator in (">=", ">", "==", "~=")]
    return max(floors, default=None)


def test_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = _locked()
    for req in _runtime():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock"
        for version, _ in pins[name]:
            assert req.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {name}=={version}, outside pyproject's {req}"
            )


def test_lock_holds_no_dev_only_tools() -> None:
    runtime = {canonicalize_name(r.name) for r in _runtime()}
    pins = _locked()
    for req in _dev():
        name = canonicalize_name(req.name)
        if name not in runtime:
            assert name not in pins, f"dev-only {name} is in the production lock"


@pytest.mark.parametrize(
    "req",
    [r for r in [*_runtime(), *_dev()] if canonicalize_name(r.name) in SECURITY_FLOORS],
    ids=lambda r: r.name,
)
def test_pyproject_floor_is_not_below_the_security_floor(req: Requirement) -> None:
    fixed = SECURITY_FLOORS[canonicalize_name(req.name)]
    floor = _floor(req)
    assert floor is not None and floor >= Version(fixed), (
        f"pyproject.toml's {req} admits releases before {fixed} with known advisories"
    )


def test_lock_pins_nothing_below_a_security_floor() -> None:
    for name, entries in _locked().items():
        fixed = SECURITY_FLOORS.get(name)
        for version, _ in entries:
            assert fixed is None or version >= Version(fixed), (
                f"requirements.lock pins {name}=={version}; {fixed} fixes known advisories"
            )
