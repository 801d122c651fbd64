"""Running :class:`~seqforecast.Trainer` under ``torchrun``: one process per rank.

seqforecast uses PyTorch's own machinery: ``torch.distributed`` (gloo on the
CPU, NCCL on CUDA) and :class:`~torch.nn.parallel.DistributedDataParallel`.
Each rank trains on its own lanes of the stream and carries its own state;
gradients are averaged across ranks, so with equal lanes per rank the
result matches one process training on all lanes (to float tolerance).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import torch
from torch import Tensor, distributed, nn

from seqforecast.data import Stream

__all__ = ["Distribution", "setup"]

TIMEOUT = datetime.timedelta(minutes=5)
_TORCHRUN = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class Distribution:
    """The process group a trainer works in (a single process: rank 0 of 1)."""

    def __init__(self, rank: int = 0, world_size: int = 1) -> None:
        self.rank = rank
        self.world_size = world_size

    @property
    def enabled(self) -> bool:
        """True when there is more than this process to agree with."""
        return self.world_size > 1 or distributed.is_initialized()

    @property
    def is_main(self) -> bool:
        """True in rank 0, the process that logs, shows progress and writes checkpoints."""
        return self.rank == 0

    def wrap(self, module: nn.Module, device: torch.device) -> Any:
        """The module to call in training: DDP-wrapped when distributed."""
        if not self.enabled:
            return module
        device_ids = [device.index] if device.type == "cuda" and device.index is not None else None
        return nn.parallel.DistributedDataParallel(module, device_ids=device_ids)

    def shard(self, stream: Stream) -> Stream:
        """This rank's lanes of ``stream`` (the stream itself in one process)."""
        return stream.shard(self.rank, self.world_size) if self.enabled else stream

    def mean(self, values: Tensor) -> Tensor:
        """The element-wise mean of ``values`` over ranks (one collective)."""
        if not self.enabled:
            return values
        values = values.clone()
        distributed.all_reduce(values, op=distributed.ReduceOp.SUM)
        return values / self.world_size

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if ``flag`` is true on any (one collective)."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        distributed.all_reduce(value, op=distributed.ReduceOp.MAX)
        return bool(value.item())

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (picklable, exchanged between the ranks only), in rank order."""
        if not self.enabled:
            return [value]
        values: list[Any] = [None] * self.world_size
        distributed.all_gather_object(values, value)
        return values


def setup(flag: bool | None, device: torch.device | str) -> tuple[Distribution, torch.device | str]:
    """Find (or, with ``flag=True``, start from the ``torchrun`` environment) the process group.

    Returns the distribution and the device, where ``"auto"`` becomes this
    rank's GPU (``LOCAL_RANK``) when CUDA is used.
    """
    if flag is False or not distributed.is_available():
        if flag:
            msg = "`distributed=True` but this torch build has no torch.distributed"
            raise ValueError(msg)
        return Distribution(), device
    if not distributed.is_initialized():
        if flag is None:
            return Distribution(), device
        missing = [name for name in _TORCHRUN if name not in os.environ]
        if missing:
            msg = f"`distributed=True` needs the torchrun environment (launch with torchrun); missing {', '.join(missing)}"
            raise ValueError(msg)
        use_cuda = torch.cuda.is_available() and str(device) in ("auto", "cuda")
        distributed.init_process_group(backend="nccl" if use_cuda else "gloo", timeout=TIMEOUT)
    if str(device) in ("auto", "cuda") and torch.cuda.is_available() and distributed.get_backend() == "nccl":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    elif str(device) == "auto":
        device = "cpu" if distributed.get_backend() == "gloo" else device
    return Distribution(distributed.get_rank(), distributed.get_world_size()), device
