"""A template's text laid out once per shape of its context, filled in per message.

The tenant's own strings, which the templates only print or test for being empty, leave a
place in the text that each message fills in; everything else in the context (the channel,
whether the address is private, the greeting, a plan, an invite…) is the shape. The tick
writes thousands of reminders a second, and Jinja would otherwise run each template and its
imported macros anew for every one (50-70 µs; a filled layout takes 7-10 µs). The text is
the same to the byte: tests/test_tick_render_layout.py holds every template to plain Jinja.

A template whose text a string could reshape (a filter, a comparison, a block kept in a
variable, a macro's text used other than printed) is rendered by Jinja each time; so is a
shape whose first layout did not give Jinja's own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, nodes


def _plain(env: Environment, name: str, values: dict[str, Any]) -> str:
    return env.get_template(name).render(values)


def laid_out(env: Environment, name: str, values: dict[str, Any]) -> str:
    """The template's text for these values: from its layout for their shape, or from
    Jinja when the template or the values do not allow one."""
    reads = _reads(env, name)
    if reads is not None:
        shape = _shape(reads, values)
        if shape is not None:
            key, holes = shape
            if (name, key) not in LAYOUTS:
                if len(LAYOUTS) >= _MAXLAYOUTS:
                    LAYOUTS.clear()
                LAYOUTS[name, key] = _Layout.make(env, name, values, holes)
            layout = LAYOUTS[name, key]
            if layout is not None:
                return layout.fill([values[hole] for hole in holes])
    return _plain(env, name, values)


_MARK = "\x00"  # around a place's number in the laid-out text; in no template
# Shapes are few (template, channel, private or not, greeting, plan, invite…); the bound
# only guards against a caller whose context varies in something other than strings.
_MAXLAYOUTS = 4096
LAYOUTS: dict[tuple[str, tuple[Any, ...]], _Layout | None] = {}


class _Refused(Exception):
    """A template used a place-holder other than by printing it or testing it."""


class _Place:
    """Stands in for one of the tenant's strings while a text is laid out: printed, it
    leaves its mark; tested, it is as true as the string; anything else is refused (the
    template check in ``_reads`` already keeps such templates out)."""

    __slots__ = ("_mark", "_truth")

    def __init__(self, number: int, truth: bool) -> None:
        self._mark = f"{_MARK}{number}{_MARK}"
        self._truth = truth

    def __str__(self) -> str:
        return self._mark

    def __bool__(self) -> bool:
        return self._truth

    def __eq__(self, other: object) -> bool:
        raise _Refused

    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        raise _Refused

    def __len__(self) -> int:
        raise _Refused

    def __iter__(self) -> Any:
        raise _Refused

    def __getitem__(self, key: Any) -> Any:
        raise _Refused


@dataclass(frozen=True, slots=True)
class _Layout:
    pieces: list[str]  # the text between the places, and a place's number where it goes
    places: tuple[tuple[int, int], ...]  # (index in pieces, which hole)

    @classmethod
    def make(
        cls, env: Environment, name: str, values: dict[str, Any], holes: list[str]
    ) -> _Layout | None:
        """None: this shape is rendered by Jinja each time (it raised or refused a place,
        or the laid-out text did not give Jinja's own; Jinja then answers, error and all)."""
        placed = {hole: _Place(number, bool(values[hole])) for number, hole in enumerate(holes)}
        try:
            text = _plain(env, name, {**values, **placed})
            pieces = text.split(_MARK)
            places = tuple((index, int(pieces[index])) for index in range(1, len(pieces), 2))
            layout = cls(pieces, places)
            # Held to Jinja's text for the values at hand: a mark that came out of something
            # else (a value of the shape holding one) shows here.
            same = layout.fill([values[hole] for hole in holes]) == _plain(env, name, values)
        except Exception:  # any failure: no layout, and Jinja answers each time
            return None
        return layout if same else None

    def fill(self, strings: list[str]) -> str:
        text = self.pieces.copy()
        for index, hole in self.places:
            text[index] = strings[hole]
        return "".join(text)


@dataclass(frozen=True)
class _Reads:
    """How a template and what it imports read the context."""

    other: frozenset[str]  # names read other than printed or tested for truth


def _shape(reads: _Reads, values: dict[str, Any]) -> tuple[tuple[Any, ...], list[str]] | None:
    """The context's shape (every value but the tenant's strings, which only their truth),
    and the names whose strings fill the places; None when a value cannot be a key."""
    key: list[Any] = []
    holes: list[str] = []
    for name, value in values.items():
        if type(value) is str and name not in reads.other:
            holes.append(name)
            key.append((name, value != ""))
        else:
            # The type too: 1 == True, but Jinja prints them apart.
            key.append((name, type(value), value))
    shape = tuple(key)
    try:
        hash(shape)
    except TypeError:
        return None
    return shape, holes


# Statements that capture or reshape text (a block kept in a variable, a filter over it,
# template inheritance): a place inside them would not come out where it went in.
_RESHAPING = (nodes.AssignBlock, nodes.FilterBlock, nodes.CallBlock, nodes.Block, nodes.Extends)


@lru_cache(maxsize=512)
def _reads(env: Environment, name: str) -> _Reads | None:
    """How ``name`` and the templates it imports read their context; None when its text
    cannot be laid out once (see ``_RESHAPING``, a computed import, a macro's text used
    other than printed)."""
    other: set[str] = set()
    pending, seen = [name], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
        if _MARK in source:
            return None
        tree = env.parse(source, current)
        parents = {
            id(child): node
            for node in tree.find_all(nodes.Node)
            for child in node.iter_child_nodes()
        }
        for child in tree.iter_child_nodes():
            parents[id(child)] = tree
        for node in tree.find_all(nodes.Node):
            if isinstance(node, _RESHAPING):
                return None
            if isinstance(node, nodes.Import | nodes.FromImport | nodes.Include):
                if not isinstance(node.template, nodes.Const):
                    return None
                pending.append(node.template.value)
            elif isinstance(node, nodes.Name) and node.ctx == "load":
                if not _printed(node, parents, tested=True):
                    other.add(node.name)
            elif isinstance(node, nodes.Call) and not _printed(node, parents, tested=False):
                return None  # a macro's text (it may hold places) filtered, tested, passed on
    return _Reads(frozenset(other))


def _printed(node: nodes.Node, parents: dict[int, nodes.Node], *, tested: bool) -> bool:
    """Whether the node's value is only printed (perhaps as a branch of ``a if b else c``,
    ``a or b``), or, with ``tested``, tested for truth."""
    while True:
        parent = parents.get(id(node))
        if isinstance(parent, nodes.Output):
            return True
        if isinstance(parent, nodes.If | nodes.CondExpr) and node is parent.test:
            return tested
        if isinstance(parent, nodes.Not):
            return tested
        if isinstance(parent, nodes.CondExpr) or (
            tested and isinstance(parent, nodes.And | nodes.Or)
        ):
            node = parent
            continue
        return False


def forget() -> None:
    """Drop every layout and what was learnt of the templates (tests that change them)."""
    LAYOUTS.clear()
    _reads.cache_clear()
