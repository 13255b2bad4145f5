"""Entrypoint: page configuration, the shared sidebar (sentence, pair, model) and navigation over app_pages/."""

from pathlib import Path

import streamlit as st
import torch

from core.models import BUNDLED_MODEL
from ui.examples import EXAMPLES

ROOT = Path(__file__).parent
OTHER_MODEL = "Other (type a Hub id)…"
MODEL_CHOICES = [BUNDLED_MODEL, "bert-base-uncased", "distilbert-base-uncased", "roberta-base", OTHER_MODEL]

# One torch thread: sessions run as threads of one process, and on small shared CPUs a second intra-op thread makes
# small matrix work wait for a busy core (up to ten times slower in bench/gcn.py and bench/lsh.py).
torch.set_num_threads(1)
st.set_page_config(page_title="Transformer as a graph", page_icon="🕸️", layout="wide")
st.html("<style>.block-container {padding-top: 2.5rem; padding-bottom: 2rem}</style>")  # more room for the figures


SHARED_INPUTS = {"text": EXAMPLES[0]["text"], "pair": EXAMPLES[0]["pair"], "model_choice": BUNDLED_MODEL,
                 "layer": EXAMPLES[0]["layer"], "head": EXAMPLES[0]["head"]}


def use_example() -> None:
    """Copy the chosen example into the sentence boxes and select the head it is about."""
    example = next(e for e in EXAMPLES if e["title"] == st.session_state["example"])
    for key in ("text", "pair", "layer", "head"):
        st.session_state[key] = example[key]


for key, default in SHARED_INPUTS.items():
    st.session_state.setdefault(key, default)
with st.sidebar:
    st.selectbox("Example", [e["title"] for e in EXAMPLES], key="example", on_change=use_example)
    st.text_area("Sentence", key="text", height=110, max_chars=20_000)
    st.text_input("Second sentence (optional)", key="pair",
                  help="BERT reads two sentences as a pair: [CLS] A [SEP] B [SEP].")
    choice = st.selectbox("Model", MODEL_CHOICES, key="model_choice",
                          help="The bundled MiniLM (6 layers × 12 heads) runs offline; the others are fetched from "
                               "the Hugging Face Hub when the machine is online.")
    if choice == OTHER_MODEL:
        choice = st.text_input("Hugging Face model id", key="custom_model", placeholder="e.g. bert-base-cased")
    st.session_state["model"] = choice or BUNDLED_MODEL  # what the pages run

# The page scripts live in app_pages/, not pages/: a folder named pages/ beside the entrypoint makes Streamlit run
# the first script run in its legacy multipage mode, which gives the sidebar widgets other ids and drops the
# first change a user makes.
pages = [
    st.Page(str(ROOT / "app_pages" / "attention.py"), title="Attention as a graph", icon="🕸️", default=True),
    st.Page(str(ROOT / "app_pages" / "stations.py"), title="Station congestion (GCN)", icon="🚉"),
    st.Page(str(ROOT / "app_pages" / "lsh.py"), title="Reformer: LSH buckets", icon="🪣"),
    st.Page(str(ROOT / "app_pages" / "gnn.py"), title="Transformer = GNN", icon="🔗"),
]
st.navigation(pages).run()
