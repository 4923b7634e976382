"""Parameterised registry objects written as text: ``name`` or ``name:param=value,param=value``.

Strategies (``majority,early_majority:lead=2,k_max=64``) and cost models
(``paper,kinetics:intensity=300``) are frozen dataclasses whose fields are their parameters;
this module turns such text into instances for any registry. Several objects are separated by
commas; a ``param=value`` word without a colon belongs to the object before it. A value is
converted to its field's type (the first of a union that accepts it; an ``int`` field takes
only whole numbers). A bare name is the class's ``defaults`` instance where it has one.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from scaling.errors import ArgumentError

T = TypeVar("T")


def parse_specs(
    spec: str | Iterable[str | T],
    lookup: Callable[[str, str], type[T]],
    base: type,
    argument: str,
    what: str,
) -> list[T]:
    """Instances from ``"a,b:p=1,q=2"``, from a list of such words, or from instances of
    ``base`` (kept as they are); duplicates are dropped, order kept. ``lookup(name, argument)``
    returns the registered class called ``name``; ``what`` names the kind in errors."""
    words: Sequence[str | T] = spec.split(",") if isinstance(spec, str) else list(spec)
    specs: list[str | T] = []
    for word in words:
        if isinstance(word, base):
            specs.append(word)
        elif "=" in word and ":" not in word and specs and isinstance(specs[-1], str):
            specs[-1] += "," + word
        elif word.strip():
            specs.append(word.strip())
    out = [s if isinstance(s, base) else parse_one(s, lookup, argument) for s in specs]
    if not out:
        raise ArgumentError(argument, spec, f"name at least one {what}")
    return list(dict.fromkeys(out))


def parse_one(spec: str, lookup: Callable[[str, str], type[T]], argument: str) -> T:
    """One instance from ``name`` or ``name:param=value,param=value``."""
    name, _, rest = spec.partition(":")
    cls = lookup(name.strip(), argument)
    values = {}
    for word in filter(None, (w.strip() for w in rest.split(","))):
        key, eq, text = word.partition("=")
        if not eq:
            raise ArgumentError(argument, spec, f"write parameters as name=value, not {word!r}")
        values[key.strip()] = convert(cls, key.strip(), text.strip(), spec, argument)
    defaults = getattr(cls, "defaults", None)
    if not values and defaults:  # a bare name is the default instance
        values = dict(defaults)
    return build(cls, values, spec, argument)


def build(cls: type[T], values: dict[str, object], spec: object, argument: str) -> T:
    """``cls(**values)``, or an ``ArgumentError`` naming the parameters left to set."""
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        example = ",".join(f"{m}=VALUE" for m in missing)
        name = getattr(cls, "name", cls.__name__)
        raise ArgumentError(argument, spec, f"set {', '.join(missing)}: {name}:{example}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise ArgumentError(argument, spec, str(e)) from None


def convert(cls: type, name: str, text: str, spec: object, argument: str) -> object:
    """``text`` as the value of ``cls``'s field ``name``."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    label = getattr(cls, "name", cls.__name__)
    if name not in fields:
        known = ", ".join(sorted(fields)) or "none"
        raise ArgumentError(argument, spec, f"{label} has no parameter {name!r} (has: {known})")
    kinds = [t for t in typing.get_args(hints[name]) or (hints[name],) if t is not type(None)]
    for kind in kinds:
        try:
            value = kind(text)
        except ValueError:
            continue
        if kind is int and float(text) != value:
            continue
        return value
    want = " or ".join(k.__name__ for k in kinds)
    raise ArgumentError(argument, spec, f"parameter {name} must be {want}, got {text!r}")


def changed_params(obj: object) -> dict[str, object]:
    """A spec dataclass's parameters that are required or differ from their defaults."""
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)  # type: ignore[arg-type]
        if f.default is dataclasses.MISSING or getattr(obj, f.name) != f.default
    }


def write_spec(name: str, params: dict[str, object]) -> str:
    """The text ``parse_one`` reads back: ``name`` or ``name:p=v,q=w`` (whole floats as ints)."""
    if not params:
        return name
    return f"{name}:" + ",".join(f"{k}={_show(v)}" for k, v in params.items())


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)
