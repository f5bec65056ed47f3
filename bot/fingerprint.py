"""Content fingerprints of input files, so a build step reruns only when what it reads has changed."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """SHA-256 over the relative names and bytes of every file under paths (sorted), plus extra."""
    digest = hashlib.sha256(extra.encode())
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            files.append(path)
    for file in sorted(set(files)):
        digest.update(str(file).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def is_current(stamp_file: Path, value: str) -> bool:
    return stamp_file.is_file() and stamp_file.read_text().strip() == value


def write_stamp(stamp_file: Path, value: str) -> None:
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(value + "\n")
