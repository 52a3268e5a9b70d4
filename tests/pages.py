"""Reading values out of rendered pages in web tests."""

from __future__ import annotations

import re


def hidden(page: str, name: str) -> str:
    """The value of a form's hidden field (the CSRF token, mostly)."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)
