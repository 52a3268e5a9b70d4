"""Which of a tenant's contact points a message goes to: a pure choice."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reachable:
    contact_point_id: int | None  # None: an address we do not know
    channel: str
    address: str
    verified: bool
    # Also listed for another tenant (a family's one phone): reminders still go, but say
    # nothing personal until the writer proves who they are.
    shared: bool = False


class _Point(Protocol):
    id: int
    channel: str
    address: str
    verified: bool
    shared: bool

    @property
    def usable(self) -> bool: ...


def reachable(points: Iterable[_Point]) -> list[Reachable]:
    """A tenant's usable contact points, oldest first (the order they were recorded)."""
    return [
        Reachable(point.id, point.channel, point.address, point.verified, point.shared)
        for point in sorted(points, key=lambda point: point.id)
        if point.usable
    ]


def routes(
    preference: Sequence[str],
    contact_points: Iterable[Reachable],
    available: Collection[str],
    exclude: Collection[str] = (),
) -> list[Reachable]:
    """The tenant's usable contact points in order of preference, one per channel.

    Only verified contact points qualify: a reminder reveals that a debt exists.
    """
    by_channel: dict[str, Reachable] = {}
    for point in contact_points:
        if point.verified and point.channel not in by_channel:
            by_channel[point.channel] = point
    return [
        by_channel[channel]
        for channel in preference
        if channel in by_channel and channel in available and channel not in exclude
    ]
