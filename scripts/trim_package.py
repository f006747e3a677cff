#!/usr/bin/env python3
"""Trim a Lambda `deployment.zip` of what its dependencies ship but the plug never loads, and say what takes the space.

    scripts/trim_package.py build/package/deployment.zip [more.zip ...]   # trim in place (`make package` does)
    scripts/trim_package.py --sizes build/package/deployment.zip          # what takes the space (`make package-size`)

Chalice's packager has no exclusion setting (its config has none; `chalice package` zips every installed
requirement whole), so the zip is rewritten after it. What is dropped is listed in TRIMMED, each with why the
plug never needs it. Powertools is the bulk: the plug uses its CloudWatch EMF provider, which imports the
package's `__init__` (Logger, Metrics, Tracer, `shared`, `utilities.jmespath_utils`), never its event handler
(its `openapi` alone is 0.48 MB zipped) nor its other utilities (idempotency, parser, batch...), but
Parameters, which reads the `ssm:` variables (docs/deploying.md).

Nothing the runtime imports is dropped: `tests/integration/test_package.py` unpacks the trimmed zip, imports
every module of `dispatcher` and sends a lead through the Lambda handler with the package alone on the path.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

# (pattern on the path inside the zip, why the plug never loads it); fnmatch's `*` also matches `/`.
TRIMMED: tuple[tuple[str, str], ...] = (
    ("aws_lambda_powertools/event_handler/*",
     "Powertools' API Gateway/AppSync/Bedrock routers and their OpenAPI models: Chalice routes our requests"),
    *((f"aws_lambda_powertools/utilities/{name}/*", "a Powertools utility the plug does not use") for name in (
        "auth_alpha", "batch", "circuit_breaker", "data_classes", "data_masking", "feature_flags", "idempotency",
        "kafka", "metadata", "parser", "streaming", "validation")),
    ("aws_lambda_powertools/utilities/serialization.py", "a Powertools utility the plug does not use"),
    ("aws_lambda_powertools/metrics/provider/datadog/*", "Powertools' Datadog provider: our metrics are EMF"),
    ("transitions/extensions/*", "diagrams, nesting, asyncio machines: the plug's machine is transitions.core's"),
    ("transitions/experimental/*", "transitions' typing experiments, never imported by transitions.core"),
    ("*.pyi", "type stubs: read by type checkers, never by the interpreter"),
    *((f"{name}/*", "a dependency's own tests or benchmarks, never imported by the dependency itself") for name in (
        "jsonschema/tests", "jsonschema/benchmarks", "referencing/tests", "jsonschema_specifications/tests",
        "certifi/tests")),
    ("phonenumbers/shortdata/region_*", "short numbers' metadata (emergency and service numbers), loaded one region "
     "at a time by phonenumbers' shortnumberinfo functions only: the webhook's phone transforms parse and format "
     "full numbers (its __init__, the region list, stays)"),
    ("urllib3/contrib/emscripten/*", "urllib3 in a browser (Pyodide): imported only where sys.platform is emscripten"),
    ("urllib3/contrib/socks.py", "SOCKS proxies need PySocks, which the package does not carry: requests' adapters "
     "fall back on the ImportError, as they did when this module raised it for the missing PySocks"),
    ("urllib3/contrib/pyopenssl.py", "requests injects it only into a Python whose ssl module lacks SNI; Lambda's "
     "has it"),
    ("*.dist-info/RECORD", "pip's list of the files it installed, for uninstalling: importlib.metadata's version() "
     "reads METADATA, and nothing in the package lists a distribution's files"),
)


def trimmed_by(name: str) -> str | None:
    """The TRIMMED pattern that drops `name` (a path inside the zip), or None when it stays."""
    for pattern, _ in TRIMMED:
        if fnmatch.fnmatch(name, pattern):
            return pattern
    return None


def trim(archive: Path) -> tuple[int, int, Counter[str]]:
    """Rewrite `archive` without the TRIMMED entries (same compression, same order); its sizes before and
    after, and the bytes saved per pattern."""
    before = archive.stat().st_size
    saved: Counter[str] = Counter()
    handle, temporary = tempfile.mkstemp(suffix=".zip", dir=archive.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(archive) as source, \
                zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                pattern = trimmed_by(info.filename)
                if pattern is not None:
                    saved[pattern] += info.compress_size
                    continue
                with source.open(info) as data, target.open(info, "w") as copy:  # keeps names, dates, modes
                    shutil.copyfileobj(data, copy)
        shutil.copymode(archive, temporary)
        os.replace(temporary, archive)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return before, archive.stat().st_size, saved


def sizes(archive: Path, top: int = 25) -> list[tuple[str, int, int]]:
    """(part, compressed bytes, files) by top-level package, Powertools by sub-package, largest first."""
    compressed: Counter[str] = Counter()
    files: Counter[str] = Counter()
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            depth = 2 if parts[0] == "aws_lambda_powertools" and len(parts) > 2 else 1
            part = "/".join(parts[:depth]) if len(parts) > depth else info.filename
            compressed[part] += info.compress_size
            files[part] += 1
    return [(part, size, files[part]) for part, size in compressed.most_common(top)]


def print_sizes(archive: Path) -> None:
    total = archive.stat().st_size
    print(f"{archive}: {total:,} bytes ({total / 1024 / 1024:.2f} MiB), the largest parts (compressed):")
    for part, size, count in sizes(archive):
        print(f"  {size / 1024:8.1f} KiB {size / total:6.1%}  {part} ({count} files)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archives", nargs="+", type=Path, metavar="ZIP", help="a deployment.zip")
    parser.add_argument("--sizes", action="store_true", help="print what takes the space; change nothing")
    args = parser.parse_args()
    for archive in args.archives:
        if not archive.is_file():
            parser.error(f"{archive}: no such file (make package builds it)")
        if args.sizes:
            print_sizes(archive)
            continue
        before, after, saved = trim(archive)
        print(f"{archive}: {before:,} -> {after:,} bytes ({(before - after) / 1024:.0f} KiB trimmed: "
              + ", ".join(f"{pattern} {size / 1024:.0f} KiB" for pattern, size in saved.most_common(4)) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
