"""requirements.txt is what Streamlit Community Cloud installs: pinned, CPU-only torch, no test-only packages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CPU_TORCH = "https://download.pytorch.org/whl/cpu/torch/"

# Runtime requirements allowed a bounded range instead of ==: pure-Python or ABI-stable helpers that transformers and
# streamlit constrain themselves. Everything else is pinned exactly.
RANGE_ALLOWED = {"tokenizers", "safetensors", "networkx", "numpy"}
TEST_ONLY = {"pytest", "playwright", "hypothesis", "torch-geometric"}  # and every pytest-* plugin


def parse(text: str) -> tuple[list[str], list[Requirement]]:
    """(option lines such as ``--extra-index-url …`` or ``-r file``, requirements), comments and blanks dropped."""
    options, requirements = [], []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            options.append(line)
        else:
            requirements.append(Requirement(line))
    return options, requirements


def unpinned(requirements: list[Requirement], allowed: set[str] = RANGE_ALLOWED) -> list[str]:
    """Names not pinned with a single ``==`` (and not allowed a range), or allowed a range without a lower bound."""
    bad = []
    for req in requirements:
        name = canonicalize_name(req.name)
        ops = [spec.operator for spec in req.specifier]
        if name in allowed:
            if not any(op in {">=", "~=", "=="} for op in ops):
                bad.append(req.name)
        elif ops != ["=="] or "*" in str(req.specifier):
            bad.append(req.name)
    return bad


def find_test_only(requirements: list[Requirement]) -> list[str]:
    names = {canonicalize_name(req.name) for req in requirements}
    return sorted(n for n in names if n in TEST_ONLY or n.startswith("pytest"))


@pytest.fixture(scope="module")
def runtime() -> tuple[list[str], list[Requirement]]:
    return parse((ROOT / "requirements.txt").read_text())


def test_every_runtime_requirement_is_pinned(runtime):
    _, requirements = runtime
    assert requirements, "requirements.txt lists no requirement"
    assert unpinned(requirements) == []


def test_the_range_allow_list_is_not_stale(runtime):
    names = {canonicalize_name(req.name) for req in runtime[1]}
    assert RANGE_ALLOWED <= names, f"allowed a range but not in requirements.txt: {sorted(RANGE_ALLOWED - names)}"


def test_torch_is_exactly_2_13_0_without_a_local_label(runtime):
    torch = [req for req in runtime[1] if canonicalize_name(req.name) == "torch"]
    assert len(torch) == 1
    # No "+cpu": a local label would not match PyPI's 2.13.0 where the CPU index is unreachable.
    assert str(torch[0].specifier) == "==2.13.0"
    assert not torch[0].marker and not torch[0].url


def torch_source_problems(options: list[str]) -> list[str]:
    """What is wrong with where the options make pip and uv look for torch: the CPU page of torch wheels missing, or
    an index. --index-url would replace PyPI, which the other requirements come from; --extra-index-url would make uv
    take every package PyTorch's index mirrors from that index alone."""
    problems = [] if f"--find-links {CPU_TORCH}" in options else ["no --find-links to the CPU torch wheels"]
    return problems + [option for option in options if re.match(r"^(--index-url|-i|--extra-index-url)\b", option)]


def test_cpu_torch_comes_from_a_page_of_torch_wheels_only(runtime):
    options, _ = runtime
    assert torch_source_problems(options) == []


def test_no_test_only_package_at_runtime(runtime):
    assert find_test_only(runtime[1]) == []


def test_dev_requirements_include_the_runtime_ones():
    options, requirements = parse((ROOT / "requirements-dev.txt").read_text())
    assert "-r requirements.txt" in options
    runtime_names = {canonicalize_name(req.name) for req in parse((ROOT / "requirements.txt").read_text())[1]}
    # Not restated with another (conflicting) specifier.
    assert not runtime_names & {canonicalize_name(req.name) for req in requirements}


def test_the_checks_reject_what_they_should():
    """The checks above can fail: a range, a bare name, a wildcard, a test-only package, an unbounded allowed one, and
    torch from an index instead of the page of CPU wheels."""
    _, requirements = parse(
        "torch>=2.13\nstreamlit\nplotly==7.*\nnumpy<3\npyvis==0.3.2  # fine\npytest-timeout==2.4\nPlaywright==1.50\n"
    )
    assert unpinned(requirements) == ["torch", "streamlit", "plotly", "numpy"]
    assert find_test_only(requirements) == ["playwright", "pytest-timeout"]
    options, _ = parse("--extra-index-url https://download.pytorch.org/whl/cpu\n-r requirements.txt\n")
    assert torch_source_problems(options) == [
        "no --find-links to the CPU torch wheels",
        "--extra-index-url https://download.pytorch.org/whl/cpu",
    ]
