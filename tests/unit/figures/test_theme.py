"""figures.theme: the plotly config every figure's chart uses, and labels that stay plain text."""

import pytest

from figures.theme import figure_config, plain


def test_png_downloads_at_three_times_the_size():
    config = figure_config("png", "heatmap")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "heatmap", "scale": 3}
    assert config["displaylogo"] is False
    assert {"select2d", "lasso2d"} <= set(config["modeBarButtonsToRemove"])


def test_svg_downloads_as_svg_and_other_formats_are_refused():
    assert figure_config("svg")["toImageButtonOptions"]["format"] == "svg"
    with pytest.raises(ValueError):
        figure_config("gif")


def test_labels_show_markup_literally():
    assert plain("<b>it</b> & co") == "&lt;b&gt;it&lt;/b&gt; &amp; co"
