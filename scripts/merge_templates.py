#!/usr/bin/env python3
"""Join CloudFormation merge templates into one, for `chalice package --merge-template` (which takes one).

    scripts/merge_templates.py OUT IN [IN ...]

Each top-level section (Parameters, Resources, Outputs, ...) is joined key by key; the same key in two
inputs is a mistake and stops with one line naming it, rather than one input silently winning.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def merged(templates: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for template in templates:
        for section, value in template.items():
            if isinstance(value, dict):
                target = out.setdefault(section, {})
                clash = sorted(set(target) & set(value))
                if clash:
                    raise SystemExit(f"merge_templates: {section}.{clash[0]} is in two templates")
                target.update(value)
            elif section in out and out[section] != value:
                raise SystemExit(f"merge_templates: {section} differs between templates")
            else:
                out[section] = value
    return out


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv[1:2]):
        print(__doc__.strip())
        return 0
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, *inputs = argv[1:]
    Path(out).write_text(json.dumps(merged([json.loads(Path(p).read_text(encoding="utf-8")) for p in inputs]),
                                    indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
