#!/usr/bin/env python3
"""Package a release stage for SAM and Terraform, from a clean copy, with bytecode for Lambda's Python.

    scripts/package.py STAGE OUT        (make package STAGE=salesforce-prod [OUT=build])

1. A clean copy of the project in OUT/src: app.py, requirements.txt, .chalice/config.json and its policy file,
   and real copies (not the vendor/ symlinks) of dispatcher/, contracts/, customers/, without any __pycache__
   or *.pyc: no stale bytecode of the developer's can enter. VERSION holds `git describe` (Rollbar's
   code_version). Chalice's dependency cache (.chalice/deployments) is shared with the project's.
2. `chalice package --stage STAGE` twice from that copy: OUT/package (SAM, with the stage's merge template of
   scripts/stage_templates.py) and OUT/terraform (chalice.tf.json, plus operations.tf.json, stage.tf.json and
   chalice_override.tf.json beside it).
3. Trimmed (scripts/trim_package.py: what the dependencies ship but the plug never loads), then bytecode
   (chalice package has no hook for it): each deployment.zip is unpacked, every module compiled by this
   interpreter, which must be the Python of the template's runtime (python3.13), with unchecked-hash pycs
   (Lambda's /var/task is read-only and its files' times are the zip's: the pyc is used as it is), and zipped
   again in a fixed order. Lambda then compiles nothing at a cold start.
4. What takes the space: the zip's size and its largest top-level entries, printed.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.stage_templates import (  # noqa: E402
    TERRAFORM_OPERATIONS,
    StageError,
    kind_of,
    sam_merge,
    stage_config,
    terraform_files,
)
from scripts.trim_package import trim  # noqa: E402

VENDORED = ("dispatcher", "contracts", "customers")
NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
CHALICE = str(Path(sys.executable).parent / "chalice")
TOP_ENTRIES = 8


def clean_copy(source: Path, stage: str) -> None:
    """The project as the package must hold it, without bytecode or anything else of the working tree."""
    if source.exists():
        shutil.rmtree(source)
    (source / ".chalice").mkdir(parents=True)
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, source / name)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    (source / ".chalice" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    policy = stage_config(stage, config).get("iam_policy_file")
    if policy:
        shutil.copy2(ROOT / ".chalice" / policy, source / ".chalice" / policy)
    cache = ROOT / ".chalice" / "deployments"
    cache.mkdir(exist_ok=True)
    (source / ".chalice" / "deployments").symlink_to(cache)
    for name in VENDORED:
        shutil.copytree(ROOT / name, source / "vendor" / name, ignore=NO_BYTECODE)
    (source / "VERSION").write_text(code_version() + "\n", encoding="utf-8")


def code_version() -> str:
    described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                               text=True, check=False)
    return described.stdout.strip() or "unknown"


def chalice_package(source: Path, stage: str, out: Path, *options: str) -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "eu-west-3"}
    built = subprocess.run([CHALICE, "--project-dir", str(source), "package", "--stage", stage, *options, str(out)],
                           env=env, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise StageError(f"chalice package failed:\n{built.stdout}{built.stderr}")


def with_bytecode(archive: Path) -> None:
    """Rewrite the zip with every module compiled by this interpreter (and no bytecode of any other)."""
    with tempfile.TemporaryDirectory(prefix="leadplug-zip-") as folder:
        unpacked = Path(folder) / "task"
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(unpacked)
        for stale in [*unpacked.rglob("__pycache__")]:
            shutil.rmtree(stale, ignore_errors=True)
        for stale in unpacked.rglob("*.pyc"):
            stale.unlink()
        # ddir: tracebacks name the files where Lambda unpacks them
        if not compileall.compile_dir(unpacked, quiet=1, ddir="/var/task", workers=1,
                                      invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
            raise StageError(f"a module of {archive.name} does not compile with {RUNTIME}")
        rebuilt = archive.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
            for path in sorted(unpacked.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(unpacked).as_posix())
        rebuilt.replace(archive)


def space(archive: Path) -> str:
    """The zip's size and what takes it, largest first (compressed bytes per top-level entry)."""
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            sizes[info.filename.split("/")[0]] += info.compress_size
    total = archive.stat().st_size
    lines = [f"{archive}: {total / 1024 / 1024:.2f} MiB ({total} bytes); largest entries:"]
    lines += [f"  {size / 1024:8.0f} KiB  {name}" for name, size in sizes.most_common(TOP_ENTRIES)]
    return "\n".join(lines)


def check_runtime(template_runtime: str) -> None:
    if template_runtime != RUNTIME:
        raise StageError(f"the template's runtime is {template_runtime}, this interpreter is {RUNTIME}: the "
                         f"bytecode would not load (run make package with the venv's python)")


def package(stage: str, out: Path) -> None:
    kind_of(stage)
    stage_config(stage)
    out.mkdir(parents=True, exist_ok=True)
    source = out / "src"
    clean_copy(source, stage)
    merge = out / f"sam-merge-{stage}.json"
    merge.write_text(json.dumps(sam_merge(stage), indent=2) + "\n", encoding="utf-8")
    for folder in (out / "package", out / "terraform"):
        if folder.exists():
            shutil.rmtree(folder)
    chalice_package(source, stage, out / "package", "--merge-template", str(merge))
    chalice_package(source, stage, out / "terraform", "--pkg-format", "terraform")
    shutil.copy2(TERRAFORM_OPERATIONS, out / "terraform" / TERRAFORM_OPERATIONS.name)
    for name, content in terraform_files(stage).items():
        (out / "terraform" / name).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    sam = json.loads((out / "package" / "sam.json").read_text(encoding="utf-8"))
    check_runtime(sam["Resources"]["APIHandler"]["Properties"]["Runtime"])
    trim(out / "package" / "deployment.zip")  # what the dependencies ship but the plug never loads
    with_bytecode(out / "package" / "deployment.zip")
    shutil.copy2(out / "package" / "deployment.zip", out / "terraform" / "deployment.zip")
    print(space(out / "package" / "deployment.zip"))
    print(f"{stage}: SAM in {out / 'package'}, Terraform in {out / 'terraform'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", help="a release stage: <customer>-testing or <customer>-prod")
    parser.add_argument("out", type=Path, help="the folder to write (package/, terraform/, src/)")
    args = parser.parse_args(argv)
    try:
        package(args.stage, args.out.resolve())
    except StageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
