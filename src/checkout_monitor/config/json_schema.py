"""The config's JSON Schema, made from the models that validate it, so the two cannot drift.

Editors (yaml-language-server) use it for completion and inline errors, CI for a lint.
pydantic writes the schema of ``Config``; this module adds what the loader accepts beyond
the models: a ``${ENV}`` reference in any value, a storefront that ``extends:`` a
built-in profile (so it need not repeat the required keys), and the YAML 1.1 spellings of
booleans and numbers (``yes``, ``1_000``) that an editor's YAML 1.2 reads as text. Checks
across fields (``cross_checks.py``) and the limits of durations have no JSON Schema form:
``validate`` is the full check.
"""

from __future__ import annotations

import json
from typing import Any

from checkout_monitor.config.fields import DURATION_SCHEMA
from checkout_monitor.config.loader import builtin_profiles
from checkout_monitor.config.model import Config
from checkout_monitor.text.durations import format_duration

SCHEMA_FILE = "schema/config.schema.json"
SCHEMA_ID = (
    "https://raw.githubusercontent.com/checkout-monitor/checkout-monitor/main/" + SCHEMA_FILE
)
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENV_REF_DEF = "EnvReference"
ENV_REF_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*\}",
    "description": "holds a ${ENV_VAR} reference: checked once the variable is substituted",
}
_ENV_REF = {"$ref": f"#/$defs/{ENV_REF_DEF}"}
# The loader reads YAML 1.1 (PyYAML), editors YAML 1.2: these spellings are a boolean or a
# number to the loader but text to the editor, so a leaf of that type also takes them as text.
YAML11_BOOLEANS = [
    *("yes", "Yes", "YES", "no", "No", "NO"),
    *("on", "On", "ON", "off", "Off", "OFF"),
]
# PyYAML's int and float spellings (yaml/resolver.py) that YAML 1.2 reads as text: binary,
# base 60 (1:30), "_" between digits, a signed hex number
_EXP = r"(?:[eE][-+][0-9]+)?"
_YAML11_INT = (
    r"[-+]?0b[01_]+|[-+]?0[0-7_]*_[0-7_]*|[-+]?[1-9][0-9_]*_[0-9_]*"
    r"|[-+]0x[0-9a-fA-F_]+|[-+]?0x[0-9a-fA-F_]*_[0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
)
_YAML11_FLOAT = (
    rf"[-+]?[0-9][0-9_]*_[0-9_]*\.[0-9_]*{_EXP}|[-+]?[0-9][0-9_]*\.[0-9_]*_[0-9_]*{_EXP}"
    rf"|\.[0-9][0-9_]*_[0-9_]*{_EXP}|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
)
YAML11_DEFS: dict[str, dict[str, Any]] = {
    "boolean": {
        "type": "string",
        "enum": YAML11_BOOLEANS,
        "description": "a boolean written as YAML 1.1 allows (yes/no, on/off)",
    },
    "integer": {
        "type": "string",
        "pattern": rf"^(?:{_YAML11_INT})$",
        "description": "an integer written as YAML 1.1 allows (1_000, 0b1010, 1:30)",
    },
    "number": {
        "type": "string",
        "pattern": rf"^(?:{_YAML11_INT}|{_YAML11_FLOAT})$",
        "description": "a number written as YAML 1.1 allows (1_000.5)",
    },
}
_YAML11_REFS = {kind: {"$ref": f"#/$defs/Yaml11{kind.title()}"} for kind in YAML11_DEFS}
_ANNOTATIONS = ("title", "description", "default", "examples")
_LEAF_CONSTRAINTS = frozenset(
    {"pattern", "format", "enum", "const", "minLength", "maxLength"}
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)
# keys whose values are not schemas of values: keys (never substituted), data, a condition
_NOT_SCHEMAS = frozenset({"propertyNames", "if", "default", "enum", "const", "examples"})
STOREFRONT = "StorefrontProfile"
EXTENDING = "ExtendingStorefrontProfile"
_PARTIAL = "Partial"


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a config file as the loader reads it."""
    schema = Config.model_json_schema(mode="validation")
    schema = _walk(schema, _durations_as_text)
    schema = _walk(schema, _named_keys)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    _add_extending_storefront(schema, defs)
    schema = _accept_env(schema)
    schema["$defs"][ENV_REF_DEF] = ENV_REF_SCHEMA
    for kind, definition in YAML11_DEFS.items():
        schema["$defs"][f"Yaml11{kind.title()}"] = definition
    head = {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "checkout-monitor config",
    }
    return {**head, **{k: v for k, v in schema.items() if k != "title"}}


def render_schema() -> str:
    """The schema as the committed ``schema/config.schema.json`` holds it."""
    return json.dumps(config_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _walk(node: Any, change: Any) -> Any:
    """``change`` applied to every schema object in ``node``, innermost first."""
    if isinstance(node, dict):
        return change({k: _walk(v, change) for k, v in node.items()})
    if isinstance(node, list):
        return [_walk(v, change) for v in node]
    return node


def _durations_as_text(node: dict[str, Any]) -> dict[str, Any]:
    """A duration's default as it is written in the file (15s), not in seconds (15.0)."""
    default = node.get("default")
    if node.get("pattern") == DURATION_SCHEMA["pattern"] and isinstance(default, int | float):
        return {**node, "default": format_duration(default)}
    return node


def _named_keys(node: dict[str, Any]) -> dict[str, Any]:
    """``dict[Name, X]``: every key must be a name (patternProperties alone lets others by)."""
    patterns = node.get("patternProperties")
    if not isinstance(patterns, dict) or len(patterns) != 1 or "additionalProperties" in node:
        return node
    ((pattern, values),) = patterns.items()
    rest = {k: v for k, v in node.items() if k != "patternProperties"}
    return {**rest, "propertyNames": {"pattern": pattern}, "additionalProperties": values}


# --- a storefront that extends a built-in profile ----------------------------------------


def _add_extending_storefront(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """With ``extends:``, the built-in profile is deep-merged under the storefront's keys, so
    no key is required there (in mappings; a list replaces the profile's whole)."""
    names = list(builtin_profiles())
    extending = _partial(STOREFRONT, defs)
    extending["properties"] = {
        "extends": {
            "description": "a built-in profile this storefront starts from",
            "enum": names,
        },
        **extending["properties"],
    }
    extending["required"] = ["extends"]
    defs[EXTENDING] = extending
    defs[STOREFRONT]["properties"]["extends"] = extending["properties"]["extends"]
    schema["properties"]["storefronts"]["additionalProperties"] = {
        "if": {"type": "object", "required": ["extends"]},
        "then": {"$ref": f"#/$defs/{EXTENDING}"},
        "else": {"$ref": f"#/$defs/{STOREFRONT}"},
    }


def _partial(name: str, defs: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``defs[name]`` with no required keys, down through its mapping properties."""
    copy = {k: v for k, v in defs[name].items() if k != "required"}
    copy["properties"] = {
        key: _partial_ref(value, defs) for key, value in copy.get("properties", {}).items()
    }
    return copy


def _partial_ref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A property pointing at a model points at its partial copy instead."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = ref.removeprefix("#/$defs/")
        partial = _PARTIAL + target
        if partial not in defs:
            defs[partial] = {}  # reserved first: a model that contains itself ends here
            defs[partial] = _partial(target, defs)
        return {**node, "$ref": f"#/$defs/{partial}"}
    if "anyOf" in node:
        return {**node, "anyOf": [_partial_ref(option, defs) for option in node["anyOf"]]}
    return node


# --- ${ENV} references --------------------------------------------------------------------


def _is_checked_leaf(node: dict[str, Any]) -> bool:
    """A value that a ``${ENV}`` reference would not pass as written: a number, a boolean,
    or text with a pattern, a length or a list of choices."""
    if node.get("type") in ("number", "integer", "boolean"):
        return True
    return node.get("type") in ("string", None) and bool(_LEAF_CONSTRAINTS & node.keys())


def _accept_env(node: Any, wrap: bool = True) -> Any:
    """Every checked value also takes text holding a ``${ENV}`` reference: the loader
    substitutes before it validates, in values of any type (``port: ${SMTP_PORT}``)."""
    if isinstance(node, list):
        return [_accept_env(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "anyOf" in node:
        options = node["anyOf"]
        changed = {**node, "anyOf": [_accept_env(option, wrap=False) for option in options]}
        changed["anyOf"] += [ref for o in options for ref in _yaml11_spellings(o)]
        if any(isinstance(o, dict) and _is_checked_leaf(o) for o in options):
            changed["anyOf"].append(_ENV_REF)
        return changed
    changed = {
        key: (
            value
            if key in _NOT_SCHEMAS
            else {k: _accept_env(v) for k, v in value.items()}
            if key in ("properties", "$defs")
            else _accept_env(value)
        )
        for key, value in node.items()
    }
    if not (wrap and _is_checked_leaf(node)):
        return changed
    annotations = {k: node[k] for k in _ANNOTATIONS if k in node}
    value = {k: v for k, v in changed.items() if k not in _ANNOTATIONS}
    return {**annotations, "anyOf": [value, *_yaml11_spellings(node), _ENV_REF]}


def _yaml11_spellings(node: Any) -> list[dict[str, str]]:
    """A boolean or number leaf also takes what the loader's YAML 1.1 reads as one and an
    editor's YAML 1.2 reads as text (``headless: yes``, ``max_megabytes: 1_000``)."""
    kind = node.get("type") if isinstance(node, dict) else None
    return [_YAML11_REFS[kind]] if kind in _YAML11_REFS else []
