"""The text showcases: the shipped data, the split, a tiny fine-tune and the embeddings — all offline."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from aifactory.showcase.params import parse_options
from aifactory.showcase.text import common
from aifactory.showcase.text.common import read_rows, shipped_data, stratified_split


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"network use: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_shipped_data_is_balanced_across_labels_and_languages() -> None:
    rows = read_rows(shipped_data())
    assert len(rows) == 240 and set(rows[0]) == {"text", "label", "lang"}
    assert Counter((r["label"], r["lang"]) for r in rows) == {
        (label, lang): 40 for label in ("positive", "negative", "question") for lang in ("de", "en")
    }
    assert len({r["text"] for r in rows}) == 240 and all(r["text"].strip() for r in rows)
    assert (shipped_data().parent / "README.md").read_text().count("Apache-2.0") == 1


def test_the_split_is_stratified_disjoint_and_deterministic() -> None:
    rows = read_rows(shipped_data())
    train, test = stratified_split(rows, 0.2, seed=0)
    assert (train, test) == stratified_split(rows, 0.2, seed=0)
    assert stratified_split(rows, 0.2, seed=1)[1] != test
    assert not set(train) & set(test) and sorted(train + test) == list(range(240))
    assert Counter((rows[i]["label"], rows[i]["lang"]) for i in test) == {
        (label, lang): 8 for label in ("positive", "negative", "question") for lang in ("de", "en")
    }


def test_options_come_from_the_environment_and_the_command_line_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from aifactory.showcase.text.finetune import OPTIONS

    monkeypatch.setenv("AIF_PARAM_epochs", "3.0")  # a JSON number from a template
    monkeypatch.setenv("AIF_PARAM_lr", "0.001")
    opts = parse_options("x", None, OPTIONS, ["--lr", "0.01"])
    assert (opts["epochs"], opts["lr"], opts["batch_size"]) == (3, 0.01, 16)
    monkeypatch.setenv("AIF_PARAM_epochs", "two")
    with pytest.raises(SystemExit):
        parse_options("x", None, OPTIONS, [])


def test_the_model_comes_from_the_installed_package() -> None:
    folder = common.model_dir()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()


@pytest.mark.slow
def test_a_tiny_finetune_learns_and_writes_its_outputs(tmp_path: Path, no_network, capsys) -> None:
    from safetensors.torch import load_file

    from aifactory.showcase.text.finetune import main

    argv = ["--epochs", "3", "--limit", "20", "--train-layers", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/3 loss" in printed and "epoch 3/3 loss" in printed
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["rows"] == {"train": 96, "test": 24} and metrics["device"] == "cpu"
    losses = metrics["loss_per_epoch"]
    assert losses[-1] < losses[0] * 0.9  # it learns
    assert metrics["accuracy"] > metrics["chance"] + 0.1  # measured: 0.54 (seed 0), 0.67, 0.71 (seeds 1, 2) on 24
    assert set(metrics["accuracy_by_language"]) == {"de", "en"}
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert labels["labels"] == ["positive", "negative", "question"]
    tensors = load_file(str(tmp_path / "model.safetensors"))
    assert tensors["head.weight"].shape == (3, 384)
    assert any(".layer.5." in name for name in tensors) and not any(".layer.4." in name for name in tensors)
    assert main([*argv[:-1], str(tmp_path / "again")]) == 0  # same seed, same figures
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert (again["loss_per_epoch"], again["accuracy"]) == (losses, metrics["accuracy"])


@pytest.mark.slow
def test_embeddings_are_normalized_and_put_paraphrases_close(no_network) -> None:
    import numpy as np

    from aifactory.showcase.text.embed import Embedder

    vectors = Embedder().encode(
        [
            "The bread was stale and hard.",
            "This loaf was old and rock hard.",
            "When does the train to the airport leave?",
            "Wann öffnet die Bäckerei am Sonntag?",
            "Um wie viel Uhr macht die Bäckerei sonntags auf?",
        ],
        batch_size=2,
    )
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sim = vectors @ vectors.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[3, 4] > sim[3, 0] and sim[3, 4] > sim[3, 2]


@pytest.mark.slow
def test_embed_writes_vectors_ids_and_metrics_in_input_order(tmp_path: Path, no_network) -> None:
    import numpy as np

    from aifactory.showcase.text.embed import Embedder, main

    source = tmp_path / "in.csv"
    texts = ["a short one", "a considerably longer sentence about fresh bread rolls", "mittel lang", ""]
    with source.open("w", newline="") as fh:
        csv.writer(fh).writerows([("id", "body"), *((f"doc-{i}", t) for i, t in enumerate(texts))])
    assert main(["--input", str(source), "--text-col", "body", "--batch-size", "3", "--out", str(tmp_path / "o")]) == 0
    out = tmp_path / "o"
    vectors = np.load(out / "embeddings.npy")
    assert vectors.shape == (4, 384)
    assert np.allclose(vectors[:3], Embedder().encode(texts[:3], batch_size=1), atol=1e-5)  # order kept
    assert (out / "ids.csv").read_text().splitlines() == ["row,id", "0,doc-0", "1,doc-1", "2,doc-2", "3,doc-3"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["rows"], metrics["dim"], metrics["device"]) == (4, 384, "cpu") and metrics["rows_per_second"] > 0
    assert main(["--input", str(source), "--out", str(tmp_path / "p")]) == 2  # no 'text' column: a clear error
