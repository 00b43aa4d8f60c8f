"""YAML as an editor reads it: the YAML 1.2 core schema of yaml-language-server.

The loader reads YAML 1.1 (PyYAML), where ``yes`` is a boolean and ``1_000`` a number; in
YAML 1.2 both are text. The schema is checked against a config as the editor sees it, so
this loader keeps PyYAML's parser and swaps in the 1.2 core schema's resolvers (spec
10.3.2): only ``true``/``false`` are booleans, only these are numbers.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class Yaml12Loader(yaml.SafeLoader):
    """A safe loader that types plain scalars by the YAML 1.2 core schema."""


Yaml12Loader.yaml_implicit_resolvers = {}
_CORE = {
    "null": (r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    "bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    "int": (r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    "float": (
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
}
for _tag, (_pattern, _first) in _CORE.items():
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)


def _int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text)  # 010 is ten in YAML 1.2


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int)


def load_yaml12(text: str) -> Any:
    """``text`` as an editor reads it."""
    return yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass
