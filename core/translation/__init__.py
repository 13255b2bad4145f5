"""A small encoder–decoder Transformer (Vaswani et al. 2017), trained here to translate simple Japanese into English,
so that its attention graph can be watched being learned: the generated parallel corpus with gold word alignments
and its segmenter (``corpus``), the model on core's attention kernel with greedy decoding (``model``), alignment
from cross-attention and its error rate (``alignment``), training with attention snapshots and evaluation
(``training``), saving and loading as safetensors + JSON (``checkpoint``), and the encoder behind the attention
page's model interface (``attention_model``). The command line is ``core.translate``."""
