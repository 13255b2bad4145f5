"""Streamlit glue shared by the pages: cached model and results, and how errors are shown."""
