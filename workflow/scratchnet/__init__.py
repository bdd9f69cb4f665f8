"""scratchnet: the two-layer network of "Deep Learning from Scratch" (ch. 4) in plain NumPy.

One idea per module. The data: ``idx`` (IDX files), ``download`` (verified mirror
downloads), ``dataset`` (the arrays jobs read), ``evalset`` (the images in blocks
without blank pixels), ``holdout`` (the validation split). The network: ``functions``,
``layers``, ``net``, ``train``, ``checkpoint``, ``evaluate``, ``gradcheck``. The results:
``tables``, ``results``, ``compare``, ``spread`` (settings over seeds: their spread, and
what a ranking may claim), ``choosing`` (the book's figures of a search), ``names`` (run
names and titles), ``learned``, ``plots``, ``chapter``, ``show``, ``predict`` (your own
images through a trained network). The plan, which Snakemake's rules ask: ``settings``
(the config as people write it, its mistakes in one line), ``plan`` (the runs and their
training jobs), ``layout`` (where their files land). Around them: ``cli`` (the command
line the Snakemake rules call; ``__main__`` its entry), ``errors`` (failures shown as one
line), ``worker`` (jobs forked from a warm process), ``provenance`` (which modules a
command runs), ``atomic`` (whole files or none). Nothing here imports Snakemake.
"""

__version__ = "0.1.0"
