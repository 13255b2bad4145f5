"""Reading attention as graphs: a head as a word graph and its pruning (``graph``), tokens or words, sinks or not
(``view_options``), per-head statistics and patterns (``head_stats``), attention rollout and flow (``rollout``), a
layer recomputed as message passing (``transformer_gnn``), the network on pruned, hard graphs (``hard_attention``),
heads switched off and how far the output moves (``ablation``), which words drive it by integrated gradients beside
rollout (``attribution``), a map of all heads by the distance between their attention (``head_map``), the static
bag-of-words graph (``bag_of_words``), the sentences analysed in bulk (``corpus``) and how much an RNN remembers
(``rnn_memory``)."""
