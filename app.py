"""Entrypoint: page configuration, the shared sidebar (sentence, pair, model) and navigation over app_pages/."""

from pathlib import Path

import streamlit as st
import torch

from core.transformer.models import BUNDLED_MODEL
from core.translation.attention_model import TRANSLATOR_NAME
from ui.analysis import model_changed
from ui.bound_widgets import always_drawn
from ui.examples import EXAMPLES, example_for
from ui.presentation import presenting
from ui.serving import leave_imports_out_of_garbage_collection

ROOT = Path(__file__).parent
PRESENTATION_CSS = (ROOT / "ui" / "presentation.css").read_text(encoding="utf-8")
EXAMPLE_TITLES = [example["title"] for example in EXAMPLES]
SHORT_TITLES = {example["title"]: example["short"] for example in EXAMPLES}  # presentation mode: one row of pills
OTHER_MODEL = "Other (type a Hub id)…"
MODEL_CHOICES = [
    BUNDLED_MODEL,
    TRANSLATOR_NAME,
    "bert-base-uncased",
    "distilbert-base-uncased",
    "roberta-base",
    "gpt2",
    "distilgpt2",
    "HuggingFaceTB/SmolLM2-135M",
    "Qwen/Qwen2.5-0.5B",
    OTHER_MODEL,
]

leave_imports_out_of_garbage_collection()  # once per process: ui/serving.py, "Garbage collection"
# One torch thread: sessions run as threads of one process, and on small shared CPUs a second intra-op thread makes
# small matrix work wait for a busy core (up to ten times slower in bench/gcn.py and bench/lsh.py).
torch.set_num_threads(1)
opened_presenting = st.query_params.get("present") == "true"  # before the toggle: a presentation opens without sidebar
st.set_page_config(
    page_title="Transformer as a graph",
    page_icon="🕸️",
    layout="wide",
    initial_sidebar_state="collapsed" if opened_presenting else "auto",
)
st.html("<style>.block-container {padding-top: 2.5rem; padding-bottom: 2rem}</style>")  # more room for the figures


SHARED_INPUTS = {
    "text": EXAMPLES[0]["text"],
    "pair": EXAMPLES[0]["pair"],
    "model_choice": BUNDLED_MODEL,
    "layer": EXAMPLES[0]["layer"],
    "head": EXAMPLES[0]["head"],
}


def use_example(widget: str) -> None:
    """Copy the example chosen in ``widget`` into the sentence boxes and select the head it is about."""
    example = next((e for e in EXAMPLES if e["title"] == st.session_state[widget]), None)
    if example is not None:
        for key in ("text", "pair", "layer", "head"):
            st.session_state[key] = example[key]


for key, default in SHARED_INPUTS.items():
    st.session_state.setdefault(key, default)
# Every input that shapes a view is bound to the URL (bind="query-params"), so the address bar is a permalink.
# Streamlit validates what it reads back: an unknown option, an out-of-range number or a malformed value is
# dropped from the URL and the widget keeps its default.
# Optional elements above a bound widget sit in a container that is always drawn (ui/bound_widgets.py, rule 1).
with st.sidebar:
    example_slot = st.container()  # above the sentence, filled once the sentence is read (from the URL, maybe)
    st.text_area("Sentence", key="text", height=110, max_chars=20_000, bind="query-params")
    st.text_input(
        "Second sentence (optional)",
        key="pair",
        bind="query-params",
        help="BERT reads two sentences as a pair: [CLS] A [SEP] B [SEP]. A decoder (GPT-2, Llama, Qwen) reads one "
        "text: the second sentence is appended to the first.",
    )
    shown = example_for(st.session_state["text"], st.session_state["pair"])  # the box names the example shown
    st.session_state["example"] = st.session_state["example_pick"] = shown["title"] if shown else None
    example_slot.selectbox(
        "Example",
        EXAMPLE_TITLES,
        key="example",
        on_change=use_example,
        args=("example",),
        placeholder="Your own — pick an example",
    )
    choice = st.selectbox(
        "Model",
        MODEL_CHOICES,
        key="model_choice",
        bind="query-params",
        on_change=model_changed,
        help="The bundled MiniLM (6 layers × 12 heads) and the small Transformer trained in this app (Japanese → "
        "English) run offline; the others, encoders (BERT, RoBERTa) and decoders (GPT-2, SmolLM2, Qwen2.5), are "
        "fetched from the Hugging Face Hub when the machine is online. Any BERT-family, GPT-2 or Llama-family id "
        "can be typed under “Other”.",
    )
    with always_drawn():  # the toggle below keeps its place
        if choice == OTHER_MODEL:
            choice = st.text_input(
                "Hugging Face model id", key="custom_model", placeholder="e.g. bert-base-cased", bind="query-params"
            )
    st.session_state["model"] = choice or BUNDLED_MODEL  # what the pages run
    st.toggle(
        "Presentation mode",
        key="present",
        bind="query-params",
        help="Larger type and figures, no toolbar, the examples one click away above the page. The link keeps "
        "it: share the address and it opens the same way.",
    )

# The page scripts live in app_pages/, not pages/: a folder named pages/ beside the entrypoint makes Streamlit run
# the first script run in its legacy multipage mode, which gives the sidebar widgets other ids and drops the
# first change a user makes.
stations = st.Page(str(ROOT / "app_pages" / "stations.py"), title="Station congestion (GCN)", icon="🚉")
translator = st.Page(str(ROOT / "app_pages" / "translator.py"), title="Small Transformer, trained here", icon="🗼")
page = st.navigation(
    [
        st.Page(str(ROOT / "app_pages" / "attention.py"), title="Attention as a graph", icon="🕸️", default=True),
        translator,
        stations,
        st.Page(str(ROOT / "app_pages" / "lsh.py"), title="Reformer: LSH buckets", icon="🪣"),
        st.Page(str(ROOT / "app_pages" / "gnn.py"), title="Transformer = GNN", icon="🔗"),
    ]
)
with always_drawn():  # presenting or not: the page's widgets keep their place
    if presenting():
        st.html(f"<style>{PRESENTATION_CSS}</style>")
        if page.url_path not in (stations.url_path, translator.url_path):  # pages that read the sidebar sentence
            st.pills(
                "Examples",
                EXAMPLE_TITLES,
                key="example_pick",
                on_change=use_example,
                args=("example_pick",),
                format_func=SHORT_TITLES.get,
                label_visibility="collapsed",
            )
page.run()
