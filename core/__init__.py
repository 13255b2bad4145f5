"""Pure kernels and models, no Streamlit: one subpackage per topic, and the command-line fronts beside them.

- ``core.transformer``: tokens, the attention kernel, the BERT-family encoder, loading models, their sizes.
- ``core.analysis``: what attention means: word graphs and pruning, view options, head statistics, rollout and flow,
  the encoder recomputed as message passing, hard (pruned) attention, bag of words, the corpus, RNN memory.
- ``core.gnn``: the graph convolution of the chapter's eq. 2.1.
- ``core.lsh``: Reformer's LSH attention, what one hashed head shows, and how full and LSH attention scale.
- ``core.railway``: the railway network, the congestion simulator, the congestion models and their training.
- ``core.translation``: a small encoder–decoder Transformer trained here, Japanese → English (``core.translate``).
- ``core.export``: the command line ``python -m core.export "TEXT"``, attention as JSON or CSV.
"""
