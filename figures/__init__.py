"""Pure figure builders (HTML graphs and plotly figures) for the attention views; no Streamlit here."""
