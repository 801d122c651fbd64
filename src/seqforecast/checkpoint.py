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
over the target, so a crash mid-save leaves the previous file intact. The
target keeps its permissions, a symbolic link is written through, and the
temporary files of writers killed mid-save are removed by the next save to
the same path.

This module decides what a checkpoint holds and rebuilds a model from it,
checking its weights against its configuration; the file format itself
(encoding, digest, atomic writes, validated reads) lives in
``seqforecast._checkpoint_file``. Together they are the only modules that
read or write model or trainer state.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Protocol

import torch
from torch import Tensor

from seqforecast._checkpoint_file import FORMAT_VERSION, CheckpointError, _decode, _encode, read_file, write_file
from seqforecast._checks import check_path, describe, resolve_device
from seqforecast._version import __version__
from seqforecast.base import BaseForecaster, check_forecaster
from seqforecast.models import model_from_config
from seqforecast.transforms import Differencer, Scaler

__all__ = ["FORMAT_VERSION", "Checkpoint", "CheckpointError", "load", "save"]


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


_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def _check_weights(class_name: object, config: object, weights: object) -> None:
    """Compare the weights in a file with those its configuration declares, building nothing.

    The model is laid out on the ``meta`` device (shapes without memory), so
    a small file whose configuration asks for a huge model is refused before
    any memory is allocated for it.
    """
    if not isinstance(class_name, str) or not isinstance(config, dict):
        msg = f"its model must have a class name and a configuration object, got {describe([class_name, config])}"
        raise CheckpointError(msg)
    if not isinstance(weights, dict) or not all(isinstance(t, Tensor) for t in weights.values()):
        msg = f"its weights must be a dict of tensors, got {describe(weights)}"
        raise CheckpointError(msg)
    layers, sizes = config.get("num_layers", 0), config.get("hidden_sizes", ())
    layers = max(layers if isinstance(layers, int) else 0, len(sizes) if isinstance(sizes, list) else 0)
    if layers > len(weights):  # every layer has weights: even the layout would be huge
        msg = f"its configuration declares {layers} layers, but the file holds only {len(weights)} weight tensors"
        raise CheckpointError(msg)
    with torch.device("meta"):
        skeleton = model_from_config(class_name, config)
    declared = {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    held = {name: tuple(t.shape) for name, t in weights.items()}
    if held != declared:
        diff = sorted(set(held.items()) ^ set(declared.items()))[:1]
        name = diff[0][0]
        msg = (
            f"its configuration declares weight {name!r} of shape {declared.get(name, 'none')}, "
            f"but the file holds {held.get(name, 'none')}"
        )
        raise CheckpointError(msg)
    for name, tensor in weights.items():
        if not tensor.is_floating_point():
            msg = f"its weight {name!r} has dtype {tensor.dtype}; weights must be floating point"
            raise CheckpointError(msg)


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

    The model's parameter dtype is recorded, and :func:`load` restores it.
    The write is atomic: see the Guarantees page of the documentation for
    what that promises (permissions, symbolic links, temporary files).

    Raises:
        TypeError: ``path`` is not a path, ``model`` is not a library
            forecaster, or bad transforms.
        CheckpointError: ``metadata`` is not JSON-serialisable.
        FileNotFoundError: The folder of ``path`` does not exist.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rnn.safetensors"
        >>> sf.save(path, sf.RecurrentForecaster(), metadata={"units": "degrees"})
        >>> sf.load(path).metadata
        {'units': 'degrees'}
    """
    given: dict[str, object] = {"model": model, "metadata": metadata}
    check_path("path", path)
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
        "model": {
            "class": type(model).__name__,
            "config": model.config.to_dict(),
            "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        },
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
        device: Where to put the model and the trainer's tensors (``"auto"``:
            CUDA when available).

    Returns:
        A :class:`Checkpoint` whose model is in evaluation mode, with the
        parameter dtype it was saved with.

    Raises:
        TypeError: ``path`` is not a path.
        ValueError: ``device`` is unknown or not available on this machine.
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: The file is a folder or not a regular file, is not
            a seqforecast checkpoint, is corrupt, names an unknown model
            class, holds weights that are not floating point or that do not
            match its configuration, or was written by a newer format
            version. Nothing in the file is ever executed, and the header is
            checked before the rest of the file is read.

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
    device = resolve_device(device)
    content, tensors = read_file(path, device)
    try:
        spec = content["model"]
        dtype_name = spec.get("dtype", "float32")  # files before the dtype was recorded: float32
        if dtype_name not in _DTYPES:
            msg = f"its model dtype is {dtype_name!r}, expected one of {sorted(_DTYPES)}"
            raise CheckpointError(msg)
        dtype = _DTYPES[dtype_name]
        weights = _decode(content["weights"], tensors)
        _check_weights(spec["class"], spec["config"], weights)  # before the model is built
        model = model_from_config(spec["class"], spec["config"]).to(dtype)
        model.load_state_dict(weights, strict=True)
        scaler = None if content["scaler"] is None else Scaler.from_state_dict(content["scaler"])
        differencer = None if content["differencer"] is None else Differencer.from_state_dict(content["differencer"])
        trainer_state = None if content["trainer"] is None else _decode(content["trainer"], tensors)
        metadata = _decode(content["metadata"], tensors)
    except RecursionError:
        msg = f"{path} is not a valid seqforecast checkpoint: its content is nested too deeply"
        raise CheckpointError(msg) from None
    except CheckpointError as error:
        msg = f"{path} is not a valid seqforecast checkpoint: {error}"
        raise CheckpointError(msg) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        msg = f"{path} is not a valid seqforecast checkpoint: {error!s}"
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
