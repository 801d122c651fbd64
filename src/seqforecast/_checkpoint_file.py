"""The checkpoint file format: one safetensors file, tensors plus JSON, never pickle.

A checkpoint file is a safetensors file whose metadata holds the format
marker and version, the content as JSON (plain data in which every tensor is
replaced by a reference to one of the file's tensors) and a SHA-256 digest
over that content and every tensor's bytes, which detects corruption.

Reading never runs code from the file: the header is checked (its length,
then its JSON metadata) before the rest is read, tensors are read by
safetensors, and the digest is verified before the content is parsed.
Writing is atomic: a temporary file in the same folder is written, flushed
to disk and renamed over the target, so a crash mid-save leaves the previous
file intact. The target keeps its permissions, a symbolic link is written
through, and the temporary files of writers killed mid-save are removed by
the next save to the same path.

What a checkpoint holds (a model, its transforms, a trainer's state) is
the concern of ``seqforecast.checkpoint``; this module knows only files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import stat
import struct
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqforecast._checks import check_path, describe

__all__ = ["FORMAT_VERSION", "CheckpointError", "read_file", "write_file"]

FORMAT = "seqforecast"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A file is not a valid seqforecast checkpoint (or cannot be written as one)."""

    __module__ = "seqforecast.checkpoint"  # its public home, as tracebacks and pickles name it


# -- plain data <-> (JSON, tensors) -------------------------------------------------------
def _encode(value: Any, key: str, tensors: dict[str, Tensor]) -> Any:
    """Replace tensors by references and make ``value`` strict JSON."""
    if isinstance(value, Tensor):
        name = f"{len(tensors)}:{key}"  # the counter keeps names unique whatever the keys hold
        tensors[name] = value.detach().to("cpu").contiguous().clone()
        return {"__tensor__": name}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, f"{key}.{k}", tensors) for k, v in value.items()}
        return {
            "__items__": [
                [_encode(k, f"{key}.k{i}", tensors), _encode(v, f"{key}.{i}", tensors)]
                for i, (k, v) in enumerate(value.items())
            ]
        }
    msg = f"cannot store {describe(value)} at {key!r} in a checkpoint: only tensors, numbers, strings, lists and dicts"
    raise CheckpointError(msg)


def _decode(value: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        name = value["__tensor__"]
        if name not in tensors:
            msg = f"the checkpoint refers to a tensor {name!r} that it does not contain"
            raise CheckpointError(msg)
        return tensors[name]
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__items__"]}
    return {k: _decode(v, tensors) for k, v in value.items()}


def _digest(metadata: dict[str, str], tensors: dict[str, Tensor]) -> str:
    """SHA-256 over the metadata (but its digest) and every tensor's name, dtype, shape and bytes."""
    sha = hashlib.sha256(json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name]
        sha.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        sha.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return sha.hexdigest()


_STALE_SECONDS = 60.0  # a dead writer's temporary file untouched this long is removed


def _temporary_name(target: Path) -> str:
    """``.NAME.PID.RANDOM.tmp``: hidden, beside the target, naming the writing process."""
    return f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (when unsure: yes)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files of earlier saves to ``target`` whose writer died.

    A temporary file is removed only if the process named in it is no longer
    running and the file has not been modified for ``_STALE_SECONDS``, so a
    save in progress (in this or another process) is never disturbed.
    """
    prefix, now = f".{target.name}.", time.time()
    try:
        candidates = [entry for entry in os.scandir(target.parent) if entry.name.startswith(prefix)]
    except OSError:
        return
    for entry in candidates:
        parts = entry.name[len(prefix) :].split(".")
        if len(parts) != 3 or parts[2] != "tmp" or not parts[0].isdigit():
            continue
        try:
            stale = now - entry.stat(follow_symlinks=False).st_mtime > _STALE_SECONDS
            if stale and entry.is_file(follow_symlinks=False) and not _running(int(parts[0])):
                Path(entry.path).unlink()
        except OSError:
            continue


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, rename over ``path``.

    A symbolic link is written through (its target is replaced, the link
    stays); an existing file keeps its permission bits; temporary files left
    by writers that were killed mid-save are removed.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    folder = target.parent
    if not folder.is_dir():
        msg = f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist"
        raise FileNotFoundError(msg)
    if target.is_dir():
        msg = f"cannot write {str(path)!r}: it is a folder"
        raise IsADirectoryError(msg)
    if target.exists() and not target.is_file():
        msg = f"cannot write {str(path)!r}: it is not a regular file (a device, a pipe or a socket?)"
        raise CheckpointError(msg)
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None  # a new file: permissions from the umask
    _remove_stale_temporaries(target)
    temporary = folder / _temporary_name(target)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if mode is not None:
                temporary.chmod(mode)  # the file replaced keeps its permissions
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_file(path: str | os.PathLike[str], content: dict[str, Any], tensors: dict[str, Tensor]) -> None:
    """Write ``content`` (JSON-ready) and ``tensors`` as a checkpoint file, atomically."""
    from safetensors.torch import save as to_bytes

    text = json.dumps(content, sort_keys=True, allow_nan=False)
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "content": text}
    metadata["sha256"] = _digest(metadata, tensors)
    _write_atomic(Path(path), to_bytes(tensors, metadata=metadata))


def _regular_file_size(file: Path) -> int:
    """The size of ``file``; a folder, a device or a pipe is refused before anything is read."""
    try:
        info = file.stat()
    except FileNotFoundError:
        msg = f"no checkpoint at {str(file)!r} (no such file)"
        raise FileNotFoundError(msg) from None
    if stat.S_ISDIR(info.st_mode):
        msg = f"{str(file)!r} is a folder, not a checkpoint file"
        raise CheckpointError(msg)
    if not stat.S_ISREG(info.st_mode):
        msg = f"{str(file)!r} is not a regular file (a device, a pipe or a socket?), so not a checkpoint"
        raise CheckpointError(msg)
    return info.st_size


def read_file(
    path: str | os.PathLike[str], device: torch.device | str = "cpu"
) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Validate and read a checkpoint file; return its JSON content and tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load as from_bytes

    file = Path(check_path("path", path))
    where = f"{file} is not a seqforecast checkpoint"
    try:
        size = _regular_file_size(file)
        with file.open("rb") as handle:  # the header is checked before the rest is read
            prefix = handle.read(8)
            if len(prefix) < 8:
                msg = f"{where}: the file is {len(prefix)} bytes long, too short for a safetensors header"
                raise CheckpointError(msg)
            (header_length,) = struct.unpack("<Q", prefix)
            if header_length > size - 8:
                msg = (
                    f"{where}: no safetensors header (its first 8 bytes declare a {header_length}-byte header "
                    f"in a {size}-byte file; a pickle or a truncated file?)"
                )
                raise CheckpointError(msg)
            if header_length > _MAX_HEADER:
                msg = f"{where}: its header is {header_length} bytes long, more than the {_MAX_HEADER} accepted"
                raise CheckpointError(msg)
            header_bytes = handle.read(header_length)
            try:
                header = json.loads(header_bytes)
                metadata = header["__metadata__"]
                marker, version = metadata["format"], int(metadata["format_version"])
            except (ValueError, KeyError, TypeError, RecursionError):
                msg = f"{where}: its header is not seqforecast JSON metadata"
                raise CheckpointError(msg) from None
            if marker != FORMAT:
                msg = f"{where}: its format is {marker!r}"
                raise CheckpointError(msg)
            if version < 1:
                msg = f"{where}: its format_version is {version}, expected an integer from 1 to {FORMAT_VERSION}"
                raise CheckpointError(msg)
            if version > FORMAT_VERSION:
                msg = f"{file} has checkpoint format version {version}, newer than this seqforecast reads ({FORMAT_VERSION}): upgrade seqforecast"
                raise CheckpointError(msg)
            data = prefix + header_bytes + handle.read()
    except (IsADirectoryError, PermissionError) as error:
        msg = f"cannot read the checkpoint {str(file)!r}: {error.strerror}"
        raise CheckpointError(msg) from None
    try:
        tensors = from_bytes(data)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as error:
        msg = f"{file} is corrupt: {error}"
        raise CheckpointError(msg) from None
    if _digest(metadata, tensors) != metadata.get("sha256"):  # checked before anything else is read
        msg = f"{file} is corrupt: its content does not match its SHA-256 digest"
        raise CheckpointError(msg)
    try:
        content = json.loads(metadata["content"])
    except RecursionError:
        msg = f"{file} is not a valid seqforecast checkpoint: its content is nested too deeply"
        raise CheckpointError(msg) from None
    except (KeyError, TypeError, ValueError) as error:
        msg = f"{file} is corrupt: {error}"
        raise CheckpointError(msg) from None
    return content, {name: tensor.to(device) for name, tensor in tensors.items()}
