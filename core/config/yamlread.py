"""Reading YAML with line numbers: the node tree the org file and the form files are read from.

`yaml.compose` keeps where every value starts, so each problem can name the
file and line to fix. libyaml's composer is ten times faster than PyYAML's own
and keeps the same marks; an error is worded by PyYAML's own loader (libyaml's
messages say less), so a problem reads the same with or without libyaml.
"""
from __future__ import annotations

import yaml
from yaml.nodes import Node

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str) -> Node | None:
    """The node tree of a YAML text, with line marks; YAMLError as PyYAML words it."""
    try:
        return yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)
