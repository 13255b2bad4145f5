"""Reformer's locality-sensitive hashing: LSH attention for one shared-QK head (``reformer``), what the LSH page shows
of one hashed head, its quality and the hash in 2-D (``inspection``), and how full and LSH attention scale with the
length, measured and read (``scaling``)."""
