"""scratchnet: the two-layer network of "Deep Learning from Scratch" (ch. 4) in plain NumPy.

One idea per module: ``idx`` (IDX files), ``download`` (verified mirror
downloads), ``dataset`` (normalised arrays), ``functions``/``layers``/``net``
(the network), ``train``, ``checkpoint``, ``evalset`` (the images in blocks without
blank pixels), ``evaluate``, ``gradcheck``,
``aggregate`` (CSV/JSON tables), ``plots``. ``cli`` is the command line the
Snakemake rules call; ``worker`` runs those commands forked from a warm process;
``bench`` times it all. Nothing here imports Snakemake.
"""

__version__ = "0.1.0"
