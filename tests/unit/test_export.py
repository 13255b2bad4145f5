"""`python -m core.export` prints the attention that transformers computes, to 1e-5."""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from core.export import head_csv
from tests.conftest import ROOT


def export(*args):
    return subprocess.run(
        [sys.executable, "-m", "core.export", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_json_equals_transformers_attention(hf_bundled, bundled_model):
    text, pair = "The animal didn't cross the street because it was too tired.", "It was late."
    completed = export(text, "--pair", pair)
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)

    reference_inputs = bundled_model.tokenizer(text, pair, return_tensors="pt")
    with torch.no_grad():
        reference = torch.stack(hf_bundled(**reference_inputs, output_attentions=True).attentions)[:, 0].numpy()
    assert document["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert document["engine"] == "core" and document["causal"] is False
    assert document["tokens"] == bundled_model.tokenizer.convert_ids_to_tokens(reference_inputs["input_ids"][0])
    attention = np.array(document["attention"])
    assert attention.shape == (6, 12, len(document["tokens"]), len(document["tokens"]))
    assert np.abs(attention - reference).max() <= 1e-5


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_cli_exports_a_local_decoder_folder_computed_by_the_core_equal_to_transformers(decoder_folders, family):
    """A folder holding config.json, safetensors and tokenizer files: the core decoder's attention, causal, within
    1e-5 of transformers' eager attention; a second sentence is read appended to the first."""
    folder = decoder_folders[family]
    text, pair = "The animal didn't cross the street.", "It was tired."
    completed = export(text, "--pair", pair, "--model", str(folder))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["engine"] == "core" and document["causal"] is True

    tokenizer = AutoTokenizer.from_pretrained(folder)
    input_ids = tokenizer(f"{text} {pair}", return_tensors="pt")["input_ids"]
    reference_model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        reference = torch.stack(reference_model(input_ids, output_attentions=True).attentions)[:, 0].numpy()
    assert document["tokens"] == tokenizer.convert_ids_to_tokens(input_ids[0])
    attention = np.array(document["attention"])
    assert attention.shape == reference.shape
    assert np.abs(attention - reference).max() <= 1e-5
    assert np.all(np.triu(attention, k=1) == 0)


def test_cli_refuses_a_local_folder_when_hosted(decoder_folders):
    """With TRANSFORMER_GRAPH_HOSTED set, as in the hosted app, the command line loads no folder from the disk."""
    completed = subprocess.run(
        [sys.executable, "-m", "core.export", "hi", "--model", str(decoder_folders["gpt2"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TRANSFORMER_GRAPH_HOSTED": "1"},
    )
    assert completed.returncode == 2 and "loads no folders from its disk" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_words_merges_subwords_and_keeps_rows_stochastic():
    completed = export("Tokenization is unbelievable", "--words")
    document = json.loads(completed.stdout)
    assert document["tokens"] == ["[CLS]", "Tokenization", "is", "unbelievable", "[SEP]"]
    assert np.allclose(np.array(document["attention"]).sum(axis=-1), 1.0, atol=1e-5)


def test_cli_reports_bad_input_without_a_traceback():
    empty = export("   ")
    assert empty.returncode == 2 and "no text" in empty.stderr and "Traceback" not in empty.stderr
    offline = export("hi", "--model", "no-such-org/no-such-model")
    assert offline.returncode == 2 and "Traceback" not in offline.stderr
    assert "bundled model" in offline.stderr


def test_head_csv_lists_every_edge_with_its_tokens():
    attention = np.array([[0.25, 0.75], [1.0, 0.0]])
    rows = list(csv.DictReader(io.StringIO(head_csv(["a", "=b"], attention, layer=2, head=None))))
    assert len(rows) == 4
    assert rows[1] == {
        "layer": "3",
        "head": "mean",
        "from_index": "0",
        "from_token": "a",
        "to_index": "1",
        "to_token": "=b",
        "weight": "0.75",
    }
