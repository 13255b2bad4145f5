"""Entrypoint: page configuration, the shared sidebar (sentence, pair, model) and navigation over pages/."""

from pathlib import Path

import streamlit as st

from core.models import BUNDLED_MODEL
from ui.examples import EXAMPLES

ROOT = Path(__file__).parent
MODEL_CHOICES = [BUNDLED_MODEL, "bert-base-uncased", "distilbert-base-uncased", "roberta-base"]

st.set_page_config(page_title="Transformer as a graph", page_icon="🕸️", layout="wide")


SHARED_INPUTS = {"text": EXAMPLES[0]["text"], "pair": EXAMPLES[0]["pair"], "model": BUNDLED_MODEL}


def keep(key: str) -> None:
    """Copy a sidebar widget's value to its plain session key, which every page reads and which outlives the widget."""
    st.session_state[key] = st.session_state[f"_{key}"]


def use_example() -> None:
    """Copy the chosen example into the sentence boxes and select the head it is about."""
    example = next(e for e in EXAMPLES if e["title"] == st.session_state["example"])
    for key in ("text", "pair"):
        st.session_state[key] = st.session_state[f"_{key}"] = example[key]
    st.session_state["layer"], st.session_state["head"] = example["layer"], example["head"]


st.session_state.setdefault("layer", EXAMPLES[0]["layer"])
st.session_state.setdefault("head", EXAMPLES[0]["head"])
for key, default in SHARED_INPUTS.items():
    st.session_state.setdefault(key, default)
    st.session_state.setdefault(f"_{key}", st.session_state[key])
with st.sidebar:
    st.selectbox("Example", [e["title"] for e in EXAMPLES], key="example", on_change=use_example)
    st.text_area("Sentence", key="_text", on_change=keep, args=("text",), height=110, max_chars=20_000)
    st.text_input("Second sentence (optional)", key="_pair", on_change=keep, args=("pair",),
                  help="BERT reads two sentences as a pair: [CLS] A [SEP] B [SEP].")
    st.selectbox(
        "Model",
        MODEL_CHOICES,
        key="_model",
        on_change=keep,
        args=("model",),
        accept_new_options=True,
        help="The bundled MiniLM (6 layers × 12 heads) runs offline. Type any BERT-family Hugging Face id to fetch it "
        "when online.",
    )

pages = [st.Page(str(ROOT / "pages" / "attention.py"), title="Attention as a graph", icon="🕸️", default=True)]
st.navigation(pages).run()
