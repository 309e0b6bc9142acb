"""Text showcases on the bundled all-MiniLM-L6-v2 transformer: ``finetune`` (classify customer feedback in
German and English) and ``embed`` (batch sentence embeddings); single process on a CPU, DDP under torchrun."""
