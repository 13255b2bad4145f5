"""The running app driven from outside: a Streamlit server on a free port and Debian's Chromium through Playwright with
the waits that tell when a page is drawn (``browser``), sessions that speak Streamlit's own protocol without a browser
(``streamlit_client``), and replicas behind Debian's nginx (``replicas``). Shared by the tests, the benchmarks (bench/)
and the screenshots (docs/screenshots.py), none of which imports another."""
