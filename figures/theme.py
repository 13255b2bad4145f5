"""The figures' one theme: type, colours, safe labels and the plotly settings that every figure shares.

Labels are user text. Plotly renders tick labels, hover labels and titles with a subset of HTML (``<b>``, ``<br>``,
``<a href>``…) and decodes entities, so every piece of user text goes through ``plain`` (``&``, ``<``, ``>`` as
entities): it shows literally and can never be read as markup.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

FONT_FAMILY = 'system-ui, "Helvetica Neue", Arial, sans-serif'
FONT_PX = 14
INK = "#212529"  # text
FONT = dict(family=FONT_FAMILY, size=FONT_PX, color=INK)
WHITE = "#ffffff"  # plot and paper background
GRID = "#e9ecef"  # grid lines
PRIMARY_RGB = (209, 73, 91)  # the app's primary colour (.streamlit/config.toml): the focus word, the text's shading
PRIMARY = "#d1495b"
GRAPH_BLUE_RGB = (47, 95, 208)  # the attention graphs' edges, and LSH attention wherever it is compared with full
GRAPH_BLUE = "#2f5fd0"
SELECTION = "#f76707"  # a selected tile: orange stands out on the blue scale
IMAGE_FORMATS = ("png", "svg")


def plain(text: str) -> str:
    """``text`` escaped for plotly's HTML-like labels, so that it shows literally (``<b>`` stays "<b>")."""
    return html.escape(str(text), quote=False)


def scaled_font(text_scale: float = 1.0) -> dict:
    """The figures' font, its size multiplied by ``text_scale`` (presentation mode: 1.25)."""
    return {**FONT, "size": FONT_PX * text_scale}


def scaled_margin(margin: dict, text_scale: float) -> dict:
    """A figure margin whose sides (px) grow with the text they hold (presentation mode: 1.25)."""
    return {side: value * text_scale if side in "lrtb" else value for side, value in margin.items()}


def base_layout(text_scale: float = 1.0) -> dict:
    """The layout every figure shares: the theme's font (scaled) on a white plot and paper."""
    return dict(font=scaled_font(text_scale), plot_bgcolor=WHITE, paper_bgcolor=WHITE)


def themed(
    figure: go.Figure, height: float | None = None, text_scale: float = 1.0, *, margin: dict | None = None, **layout
) -> go.Figure:
    """Give ``figure`` the shared look: the theme's font and white plot and paper, with ``height`` (px) and ``margin``
    (default 10 px a side) given for text scale 1 and grown with the text; ``layout`` adds or overrides settings."""
    shared = {**base_layout(text_scale), "margin": scaled_margin(margin or dict(l=10, r=10, t=10, b=10), text_scale)}
    if height is not None:
        shared["height"] = round(height * text_scale)
    figure.update_layout({**shared, **layout})
    return figure


def figure_config(image_format: str = "png", filename: str = "figure") -> dict:
    """Plotly config for ``st.plotly_chart``: the modebar (shown on hover) has a camera button that downloads
    ``filename`` as PNG (3× scale) or SVG; no plotly logo, no box/lasso selection, no scroll zoom."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format {image_format!r}; expected one of {IMAGE_FORMATS}")
    return {
        "displaylogo": False,
        "scrollZoom": False,
        "toImageButtonOptions": {
            "format": image_format,
            "filename": filename,
            "scale": 3 if image_format == "png" else 1,
        },
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    }
