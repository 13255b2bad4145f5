"""Serving many sessions from one process: work shared across them and a bound on how much runs at once.

- ``shared_cache``: a bounded (entries and bytes), least-recently-used cache in which concurrent callers of the same
  key wait for one computation instead of repeating it.
- ``run_queue``: at most ``slots`` model runs at a time, the others waiting in arrival order, each told how many
  runs are ahead of it.
"""
