"""The Transformer itself: tokenization with word spans (``tokens``), scaled dot-product attention (``attention``),
the BERT-family encoder on it (``encoder``), finding and loading models safely (``models``) and counting their
parameters from a config (``model_size``), and small random GPT-2 / Llama / Qwen2 checkpoints written as the Hub
holds them, for offline tests and benchmarks (``random_checkpoints``)."""
