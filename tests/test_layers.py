"""The layout holds: each layer imports only those below it (the import-linter contracts in
pyproject.toml), and no module grows past what a reader can hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rules", "storage", "messaging", "handlers", "workplace", "bot")
MOST_LINES = 400


def test_every_layer_imports_only_those_below_it() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text("utf-8").splitlines())) > MOST_LINES
    }
    assert long == {}, f"split these by responsibility: {long}"
