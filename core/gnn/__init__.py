"""Graph neural networks: one graph-convolution layer, the chapter's eq. 2.1, with its message-passing steps
(``gcn``)."""
