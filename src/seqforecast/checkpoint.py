"""Checkpoints: one safetensors file, tensors plus JSON, never pickle.

A checkpoint holds the model's weights, its class and configuration, the
library and format versions, optional :class:`~seqforecast.Scaler` and
:class:`~seqforecast.Differencer` state, your own JSON ``metadata`` and,
with a trainer, everything needed to resume training bit-identically on
the CPU: optimizer state, the carried state, the stream position, the
history and the random number generator states.

Opening a checkpoint never runs code from the file: the header is parsed as
JSON, tensors are read by safetensors, and a SHA-256 digest over the JSON
content and every tensor's bytes detects corruption. Writing is atomic: a
temporary file in the same folder is written, flushed to disk and renamed
over the target, so a crash mid-save leaves the previous file intact.

This is the only module that reads or writes model or trainer state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
import struct
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from seqforecast._checks import describe
from seqforecast._version import __version__
from seqforecast.base import BaseForecaster, check_forecaster
from seqforecast.models import model_from_config
from seqforecast.transforms import Differencer, Scaler

__all__ = ["FORMAT_VERSION", "Checkpoint", "CheckpointError", "load", "save"]

FORMAT = "seqforecast"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A file is not a valid seqforecast checkpoint (or cannot be written as one)."""


class SupportsTrainerState(Protocol):
    """Anything that hands its training state over as plain data (a ``Trainer``)."""

    def state_dict(self) -> dict[str, Any]:
        """Tensors, numbers, strings, lists and dicts only."""
        ...


@dataclasses.dataclass
class Checkpoint:
    """What :func:`load` returns.

    Attributes:
        model: The forecaster, weights loaded, in evaluation mode.
        scaler: The saved :class:`~seqforecast.Scaler`, or None.
        differencer: The saved :class:`~seqforecast.Differencer`, or None.
        trainer_state: The trainer's state (for ``Trainer.resume``), or None.
        metadata: Your JSON metadata (``{}`` if none).
        library_version: The seqforecast version that wrote the file.
        format_version: The checkpoint format version.
    """

    model: BaseForecaster
    scaler: Scaler | None
    differencer: Differencer | None
    trainer_state: dict[str, Any] | None
    metadata: dict[str, Any]
    library_version: str
    format_version: int


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


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, rename over ``path``."""
    folder = path.parent
    if not folder.is_dir():
        msg = f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist"
        raise FileNotFoundError(msg)
    temporary = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
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


def read_file(
    path: str | os.PathLike[str], device: torch.device | str = "cpu"
) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Validate and read a checkpoint file; return its JSON content and tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load as from_bytes

    file = Path(path)
    if not file.is_file():
        msg = f"no checkpoint at {str(file)!r} (no such file)"
        raise FileNotFoundError(msg)
    data = file.read_bytes()
    where = f"{file} is not a seqforecast checkpoint"
    if len(data) < 8:
        msg = f"{where}: the file is {len(data)} bytes long, too short for a safetensors header"
        raise CheckpointError(msg)
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > min(_MAX_HEADER, len(data) - 8):
        msg = f"{where}: no safetensors header (a pickle or a truncated file?)"
        raise CheckpointError(msg)
    try:
        header = json.loads(data[8 : 8 + header_length])
        metadata = header["__metadata__"]
        marker, version = metadata["format"], int(metadata["format_version"])
    except (ValueError, KeyError, TypeError):
        msg = f"{where}: its header is not seqforecast JSON metadata"
        raise CheckpointError(msg) from None
    if marker != FORMAT:
        msg = f"{where}: its format is {marker!r}"
        raise CheckpointError(msg)
    if version > FORMAT_VERSION:
        msg = f"{file} has checkpoint format version {version}, newer than this seqforecast reads ({FORMAT_VERSION}): upgrade seqforecast"
        raise CheckpointError(msg)
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
    except (KeyError, TypeError, ValueError) as error:
        msg = f"{file} is corrupt: {error}"
        raise CheckpointError(msg) from None
    return content, {name: tensor.to(device) for name, tensor in tensors.items()}


# -- public API -------------------------------------------------------------------------
def save(
    path: str | os.PathLike[str],
    model: BaseForecaster,
    *,
    trainer: SupportsTrainerState | None = None,
    scaler: Scaler | None = None,
    differencer: Differencer | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save ``model`` (and optionally its trainer, transforms, metadata) to ``path``.

    Args:
        path: Destination file (conventionally ``*.safetensors``); its folder must exist.
        model: One of the library's forecasters.
        trainer: A :class:`~seqforecast.Trainer` to resume later.
        scaler: The :class:`~seqforecast.Scaler` the model's data went through.
        differencer: The :class:`~seqforecast.Differencer` likewise.
        metadata: Your own JSON-serialisable information.

    Raises:
        TypeError: ``model`` is not a library forecaster, or bad transforms.
        CheckpointError: ``metadata`` is not JSON-serialisable.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rnn.safetensors"
        >>> sf.save(path, sf.RecurrentForecaster(), metadata={"units": "degrees"})
        >>> sf.load(path).metadata
        {'units': 'degrees'}
    """
    given: dict[str, object] = {"model": model, "metadata": metadata}
    check_forecaster(model)
    if not isinstance(given["model"], BaseForecaster):
        msg = f"`model` must be one of seqforecast's forecasters to be saved, got {describe(model)}"
        raise TypeError(msg)
    for name, value, kind in (("scaler", scaler, Scaler), ("differencer", differencer, Differencer)):
        if value is not None and not isinstance(value, kind):
            msg = f"`{name}` must be a {kind.__name__} or None, got {describe(value)}"
            raise TypeError(msg)
    if metadata is not None and not isinstance(given["metadata"], dict):
        msg = f"`metadata` must be a dict of JSON values or None, got {describe(metadata)}"
        raise TypeError(msg)

    tensors: dict[str, Tensor] = {}
    content = {
        "library_version": __version__,
        "model": {"class": type(model).__name__, "config": model.config.to_dict()},
        "weights": _encode(dict(model.state_dict()), "model", tensors),
        "scaler": None if scaler is None else scaler.state_dict(),
        "differencer": None if differencer is None else differencer.state_dict(),
        "trainer": None if trainer is None else _encode(trainer.state_dict(), "trainer", tensors),
        "metadata": _encode(metadata or {}, "metadata", tensors),
    }
    write_file(path, content, tensors)


def load(path: str | os.PathLike[str], *, device: torch.device | str = "cpu") -> Checkpoint:
    """Load a checkpoint written by :func:`save`.

    Args:
        path: The checkpoint file.
        device: Where to put the model and the trainer's tensors.

    Returns:
        A :class:`Checkpoint` whose model is in evaluation mode.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: The file is not a seqforecast checkpoint, is
            corrupt, names an unknown model class or was written by a newer
            format version. Nothing in the file is ever executed.

    Example:
        >>> import pathlib, tempfile, torch, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "conv.safetensors"
        >>> model = sf.ConvForecaster(channels=8, head_hidden=8)
        >>> sf.save(path, model)
        >>> loaded = sf.load(path).model
        >>> x = torch.randn(1, 12, 1)
        >>> torch.equal(loaded(x)[0], model(x)[0])
        True
    """
    content, tensors = read_file(path, device)
    try:
        spec = content["model"]
        model = model_from_config(spec["class"], spec["config"])
        weights = _decode(content["weights"], tensors)
        model.load_state_dict(weights, strict=True)
        scaler = None if content["scaler"] is None else Scaler.from_state_dict(content["scaler"])
        differencer = None if content["differencer"] is None else Differencer.from_state_dict(content["differencer"])
        trainer_state = None if content["trainer"] is None else _decode(content["trainer"], tensors)
        metadata = _decode(content["metadata"], tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        msg = f"{path} is not a valid seqforecast checkpoint: {error}"
        raise CheckpointError(msg) from None
    model.to(device).eval()
    return Checkpoint(
        model=model,
        scaler=scaler,
        differencer=differencer,
        trainer_state=trainer_state,
        metadata=metadata,
        library_version=str(content.get("library_version", "unknown")),
        format_version=FORMAT_VERSION,
    )
