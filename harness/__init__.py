"""The running app driven in a real headless Chromium: a Streamlit server on a free port, Debian's Chromium through
Playwright, and the waits that tell when a page is drawn. Shared by the browser tests (tests/e2e), the benchmarks
(bench/) and the screenshots (docs/screenshots.py), none of which imports another."""
