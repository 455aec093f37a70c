"""OpenAPI post-processing shared by every app.

Several apps have fields of the same name with different choices (`status` of a lead, an order,
a service; `type` of a document, an integration, a service). drf-spectacular then names the enums
with a hash (`Status8bdEnum`) and warns. Here such a choice set is named after the first component
that uses it (`LeadStatusEnum`), and a choice set used under several field names gets one name, so
the schema is readable and generation stays free of warnings without a settings entry per field.
"""

import re
from collections import defaultdict
from collections.abc import MutableMapping

from drf_spectacular import hooks
from drf_spectacular.plumbing import list_hash
from drf_spectacular.settings import spectacular_settings
from inflection import camelize


def _component_name(name: str) -> str:
    if spectacular_settings.COMPONENT_SPLIT_PATCH:
        name = re.sub("^Patched(.+)", r"\1", name)
    if spectacular_settings.COMPONENT_SPLIT_REQUEST:
        name = re.sub("(.+)Request$", r"\1", name)
    return name


def _property_containers(schema, component: str):
    """(component, properties) pairs, the way drf-spectacular's enum hook walks them."""
    if isinstance(schema, list):
        for item in schema:
            yield from _property_containers(item, component)
    elif isinstance(schema, dict):
        if schema.get("properties"):
            yield component, schema["properties"]
        for key in ("oneOf", "allOf", "anyOf"):
            yield from _property_containers(schema.get(key, []), component)


def _enum_hash(schema: dict) -> str:
    if "x-spec-enum-id" in schema:
        return schema["x-spec-enum-id"]
    return list_hash([(item, item) for item in schema["enum"] if item not in ("", None)])


def enum_names(result: dict) -> dict[str, str]:
    """{choice-set hash: name} for the choice sets drf-spectacular could only name with a warning."""
    used_by: dict[str, set[tuple[str, str]]] = defaultdict(set)  # hash -> {(component, property)}
    hashes_of: dict[str, set[str]] = defaultdict(set)  # property -> {hash}
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        for component, properties in _property_containers(schema, _component_name(name)):
            for prop, prop_schema in properties.items():
                if prop_schema.get("type") == "array":
                    prop_schema = prop_schema.get("items")
                if isinstance(prop_schema, MutableMapping) and "enum" in prop_schema:
                    choice_hash = _enum_hash(prop_schema)
                    used_by[choice_hash].add((component, prop))
                    hashes_of[prop].add(choice_hash)

    suffix = spectacular_settings.ENUM_SUFFIX
    names: dict[str, str] = {}
    for choice_hash, users in used_by.items():
        props = {prop for _, prop in users}
        components = {component for component, _ in users}
        exclusive = sorted(prop for prop in props if hashes_of[prop] == {choice_hash})
        if len(props) == 1 and len(hashes_of[next(iter(props))]) == 1:
            continue  # drf-spectacular's own name (<Property>Enum) is fine
        if len(props) == 1 and len(components) == 1:
            continue  # drf-spectacular names it <Component><Property>Enum itself, without a warning
        if exclusive:
            names[choice_hash] = f"{camelize(exclusive[0])}{suffix}"
        else:
            component, prop = min(users)
            names[choice_hash] = f"{camelize(component)}{camelize(prop)}{suffix}"
    # Two choice sets must never share a name: fall back to a hash suffix for the later one.
    seen: dict[str, str] = {}
    for choice_hash in sorted(names):
        name = names[choice_hash]
        if name in seen:
            names[choice_hash] = f"{name[: -len(suffix) or None]}{choice_hash[:3].capitalize()}{suffix}"
        seen[names[choice_hash]] = choice_hash
    return names


def postprocess_schema_enums(result, generator, **kwargs):
    """drf-spectacular's enum hook with the names above added to ENUM_NAME_OVERRIDES for this run."""
    generated = enum_names(result)
    original = hooks.load_enum_name_overrides
    hooks.load_enum_name_overrides = lambda: {**generated, **original()}
    try:
        return hooks.postprocess_schema_enums(result, generator, **kwargs)
    finally:
        hooks.load_enum_name_overrides = original


# A time of day in the API is local wall-clock time ("09:30" or "09:30:00"), without an offset;
# OpenAPI's `format: time` is RFC 3339's full-time, which requires one. Said with a pattern instead.
LOCAL_TIME = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
              "example": "09:30:00"}


def _local_times(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update({key: value for key, value in LOCAL_TIME.items() if key not in node})
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def postprocess_local_times(result, generator, **kwargs):
    _local_times(result)
    return result
