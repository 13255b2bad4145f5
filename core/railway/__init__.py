"""Station congestion on a real railway network: the network as a graph (``network``), the seeded congestion
simulator (``simulator``), the GCN, MLP and ridge that predict crowding (``congestion_models``), their training and
evaluation (``training``), and the station page's explorations beside them (``exploration``)."""
