"""The Transformer itself: tokenization with word spans (``tokens``), scaled dot-product attention (``attention``),
the BERT-family encoder on it (``encoder``), finding and loading models safely (``models``) and counting their
parameters from a config (``model_size``)."""
