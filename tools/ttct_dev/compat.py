"""Does a new JSON schema of an event version still accept every event the old one did?

`breaking_changes(old, new)` compares two schemas of the same event version (the published snapshot and the
current model's `model_json_schema()`) from the reader's side: an event stored or sent under `old` must still
validate under `new` and mean the same. It reports, one sentence each, a removed or renamed property, a changed
type (narrower type set, enum values removed, format or pattern changed), a new required property, a property
that became required, a changed default, and tightened constraints. Widening is never reported.

`validate(instance, schema)` checks an instance against a schema of the kind pydantic writes; the tests use it
to prove that a stored sample really is an event of an old version. It refuses keywords it does not know
rather than pass them silently.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

Schema = dict[str, Any]

_BOUNDS = (  # (keyword, the stricter direction): a new value further that way rejects old instances
    ("maxLength", "lower"), ("minLength", "higher"), ("maxItems", "lower"), ("minItems", "higher"),
    ("maxProperties", "lower"), ("minProperties", "higher"),
)


def _resolve(schema: Schema, root: Schema) -> Schema:
    """`schema` with its `$ref`s followed (local ones: `#/$defs/…`, `#/components/schemas/…`)."""
    seen: set[str] = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _alternatives(schema: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            return [{**rest, **alt} for alt in schema[key]]
    return [schema]


def _types(schema: Schema) -> set[str] | None:
    if "type" not in schema:
        return None
    return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])


def _label(where: str) -> str:
    return f"`{where}`" if where else "the event"


def _show_values(values: list[Any]) -> str:
    return ", ".join(repr(v) for v in values)


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root

    def compare(self, old: Schema, new: Schema, where: str, pairs: frozenset = frozenset()) -> list[str]:
        key = (old.get("$ref"), new.get("$ref"))
        if key != (None, None):
            if key in pairs:  # a recursive schema: this pair is being compared further up
                return []
            pairs = pairs | {key}
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        old_alts, new_alts = _alternatives(old), _alternatives(new)
        if len(old_alts) == 1 and len(new_alts) == 1:
            return self._compare_one(old, new, where, pairs)
        found: list[str] = []
        for alt in old_alts:
            candidates = [self.compare(alt, n, where, pairs) for n in new_alts]
            if any(not c for c in candidates):
                continue
            old_types = _types(_resolve(alt, self.old_root)) or set()
            overlapping = [c for c, n in zip(candidates, new_alts, strict=True)
                           if old_types & (_types(_resolve(n, self.new_root)) or set())]
            if old_types == {"null"} and not overlapping:
                found.append(f"{_label(where)} is no longer nullable")
            else:
                found.extend(min(overlapping or candidates, key=len))
        return found

    def _compare_one(self, old: Schema, new: Schema, where: str, pairs: frozenset) -> list[str]:
        found: list[str] = []
        label = _label(where)
        old_types, new_types = _types(old), _types(new)
        if new_types is not None:
            if old_types is None:
                found.append(f"{label} is now restricted to type {'/'.join(sorted(new_types))}")
            else:
                lost = old_types - new_types - ({"integer"} if "number" in new_types else set())
                if lost:
                    found.append(f"{label} changed type from {'/'.join(sorted(old_types))} to "
                                 f"{'/'.join(sorted(new_types))}")
        found += self._values(old, new, label)
        found += self._constraints(old, new, label)
        found += self._object(old, new, where, pairs)
        if "items" in new and isinstance(new["items"], dict):
            if isinstance(old.get("items"), dict):
                found += self.compare(old["items"], new["items"], f"{where}[]", pairs)
            elif "items" not in old:
                found.append(f"{label}: its items are now restricted")
        return found

    def _values(self, old: Schema, new: Schema, label: str) -> list[str]:
        found = []
        old_enum = old.get("enum", [old["const"]] if "const" in old else None)
        new_enum = new.get("enum", [new["const"]] if "const" in new else None)
        if new_enum is not None:
            if old_enum is None:
                found.append(f"{label} is now restricted to the values {_show_values(new_enum)}")
            elif removed := [v for v in old_enum if v not in new_enum]:
                found.append(f"{label} no longer accepts the value(s) {_show_values(removed)}")
        if "format" in new and new["format"] != old.get("format"):
            was = f"from {old['format']} " if "format" in old else ""
            found.append(f"{label} changed format {was}to {new['format']}")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            was = f"from {old['pattern']!r} " if "pattern" in old else ""
            found.append(f"{label} changed pattern {was}to {new['pattern']!r}")
        return found

    def _constraints(self, old: Schema, new: Schema, label: str) -> list[str]:
        found = []
        for keyword, stricter in _BOUNDS:
            if keyword in new and (keyword not in old or (
                    new[keyword] < old[keyword] if stricter == "lower" else new[keyword] > old[keyword])):
                was = f"from {old[keyword]} " if keyword in old else ""
                verb = "lowered" if stricter == "lower" else "raised"
                found.append(f"{label}: {keyword} {verb} {was}to {new[keyword]}" if was
                             else f"{label}: {keyword} {new[keyword]} added")
        for side, verb in (("minimum", "raised"), ("maximum", "lowered")):
            old_bound, new_bound = _bound(old, side), _bound(new, side)
            if new_bound is not None and (old_bound is None or _stricter(new_bound, old_bound, side)):
                was = f" from {_show(old_bound, side)}" if old_bound else ""
                found.append(f"{label}: {side} {verb}{was} to {_show(new_bound, side)}")
        if "multipleOf" in new and ("multipleOf" not in old
                                    or not _is_multiple(old["multipleOf"], new["multipleOf"])):
            found.append(f"{label} must now be a multiple of {new['multipleOf']}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            found.append(f"{label}: its items must now be unique")
        return found

    def _object(self, old: Schema, new: Schema, where: str, pairs: frozenset) -> list[str]:
        found: list[str] = []
        prefix = f"{where}." if where else ""
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        added = [name for name in new_props if name not in old_props]
        for name, schema in old_props.items():
            if name in new_props:
                continue
            twins = [a for a in added if not self.compare(schema, new_props[a], f"{prefix}{a}", pairs)]
            hint = f", or renamed to `{prefix}{twins[0]}`" if twins else ""
            found.append(f"property `{prefix}{name}` was removed{hint}")
        for name in added:
            if name in new_required:
                found.append(f"new required property `{prefix}{name}`: events without it no longer validate")
        for name in (n for n in old_props if n in new_props):
            if name in new_required and name not in old_required:
                found.append(f"property `{prefix}{name}` became required")
            found += self.compare(old_props[name], new_props[name], f"{prefix}{name}", pairs)
            old_default = _resolve(old_props[name], self.old_root).get("default")
            new_default = _resolve(new_props[name], self.new_root).get("default")
            if name not in old_required and name not in new_required and old_default != new_default:
                found.append(f"property `{prefix}{name}`: default changed from {old_default!r} to "
                             f"{new_default!r}, so an event without it reads differently")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            found.append(f"{_label(where)} no longer accepts additional properties")
        elif isinstance(new_extra, dict):
            if isinstance(old_extra, dict):
                found += self.compare(old_extra, new_extra, f"{prefix}*", pairs)
            elif old_extra is not False:
                found.append(f"{_label(where)}: its additional properties are now restricted")
        return found


def _bound(schema: Schema, side: str) -> tuple[float, bool] | None:
    """The effective (value, exclusive) lower or upper bound."""
    inclusive, exclusive = schema.get(side), schema.get("exclusiveM" + side[1:])
    candidates = [(v, e) for v, e in ((inclusive, False), (exclusive, True)) if v is not None]
    if not candidates:
        return None
    pick = max if side == "minimum" else min
    return pick(candidates, key=lambda c: (c[0], c[1]) if side == "minimum" else (c[0], not c[1]))


def _stricter(new: tuple[float, bool], old: tuple[float, bool], side: str) -> bool:
    if new[0] != old[0]:
        return new[0] > old[0] if side == "minimum" else new[0] < old[0]
    return new[1] and not old[1]


def _show(bound: tuple[float, bool], side: str) -> str:
    value, exclusive = bound
    return f"{'>' if side == 'minimum' else '<'} {value}" if exclusive else str(value)


def _is_multiple(old: float, new: float) -> bool:
    """Every multiple of `old` is a multiple of `new` (so `new` is no stricter)."""
    ratio = old / new
    return math.isclose(ratio, round(ratio))


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Why an event valid under `old` may no longer validate, or mean the same, under `new`; [] if none."""
    return _Comparison(old, new).compare(old, new, "")


_ANNOTATIONS = {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs",
                "$schema", "$id", "$comment", "discriminator"}
_FORMATS = {
    "date": date.fromisoformat,
    "date-time": datetime.fromisoformat,
    "time": time.fromisoformat,
    "uuid": UUID,
}
_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def validate(instance: Any, schema: Schema, root: Schema | None = None, where: str = "") -> list[str]:
    """What is wrong with `instance` under `schema` (pydantic's subset of JSON Schema); [] if it is valid."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    label = _label(where)
    unknown = set(schema) - _ANNOTATIONS - _KNOWN
    if unknown:
        raise NotImplementedError(f"validate() does not know the keyword(s) {sorted(unknown)} at {label}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            passing = [a for a in schema[key] if not validate(instance, {**rest, **a}, root, where)]
            if not passing or (key == "oneOf" and len(passing) > 1):
                return [f"{label} matches {len(passing)} of the alternatives in {key}"]
            return []
    for sub in schema.get("allOf", ()):
        if errors := validate(instance, sub, root, where):
            return errors
    types = _types(schema)
    if types is not None and not any(_TYPES[t](instance) for t in types):
        return [f"{label} is not of type {'/'.join(sorted(types))}: {instance!r}"]
    errors: list[str] = []
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{label} is not one of {_show_values(schema['enum'])}")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{label} is not {schema['const']!r}")
    if isinstance(instance, str):
        errors += _validate_string(instance, schema, label)
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        for side in ("minimum", "maximum"):
            bound = _bound(schema, side)
            if bound and not _within(instance, bound, side):
                errors.append(f"{label} is out of bounds: {instance} (must be {'≥' if side == 'minimum' else '≤'}"
                              f"{' (exclusive)' if bound[1] else ''} {bound[0]})")
        if "multipleOf" in schema and not _is_multiple(instance, schema["multipleOf"]):
            errors.append(f"{label} is not a multiple of {schema['multipleOf']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0) or len(instance) > schema.get("maxItems", math.inf):
            errors.append(f"{label} has {len(instance)} items")
        if schema.get("uniqueItems") and len({repr(i) for i in instance}) != len(instance):
            errors.append(f"{label} has duplicate items")
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(instance):
                errors += validate(item, schema["items"], root, f"{where}[{i}]")
    if isinstance(instance, dict):
        errors += _validate_object(instance, schema, root, where)
    return errors


_KNOWN = {"$ref", "anyOf", "oneOf", "allOf", "type", "enum", "const", "format", "pattern", "minLength",
          "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "items",
          "minItems", "maxItems", "uniqueItems", "properties", "required", "additionalProperties",
          "minProperties", "maxProperties"}


def _within(value: float, bound: tuple[float, bool], side: str) -> bool:
    limit, exclusive = bound
    if side == "minimum":
        return value > limit if exclusive else value >= limit
    return value < limit if exclusive else value <= limit


def _validate_string(instance: str, schema: Schema, label: str) -> list[str]:
    errors = []
    if not schema.get("minLength", 0) <= len(instance) <= schema.get("maxLength", math.inf):
        errors.append(f"{label} has length {len(instance)}, outside its bounds")
    if "pattern" in schema and not re.search(schema["pattern"], instance):
        errors.append(f"{label} does not match {schema['pattern']!r}")
    if "format" in schema:
        parse = _FORMATS.get(schema["format"])
        if parse is None:
            raise NotImplementedError(f"validate() does not know the format {schema['format']!r} at {label}")
        try:
            parse(instance)
        except ValueError:
            errors.append(f"{label} is not a valid {schema['format']}: {instance!r}")
    return errors


def _validate_object(instance: dict, schema: Schema, root: Schema, where: str) -> list[str]:
    prefix = f"{where}." if where else ""
    errors = [f"`{prefix}{name}` is required" for name in schema.get("required", ()) if name not in instance]
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, value in instance.items():
        if name in props:
            errors += validate(value, props[name], root, f"{prefix}{name}")
        elif extra is False:
            errors.append(f"`{prefix}{name}` is not allowed (no additional properties)")
        elif isinstance(extra, dict):
            errors += validate(value, extra, root, f"{prefix}{name}")
    if not schema.get("minProperties", 0) <= len(instance) <= schema.get("maxProperties", math.inf):
        errors.append(f"{_label(where)} has {len(instance)} properties, outside its bounds")
    return errors
