"""Run names: how a sweep's and a repeat's runs are named, and short names where a
full name would not fit (the report's menu, tables).

A sweep names its runs by their settings (``hidden_size=100+learning_rate=0.5``) and a
repeat adds its seed (``default+seed=3``). Shortened, each ``key=value`` part is shown
as ``initials value`` (``hs 100, lr 0.5``; ``default, seed 3``), and a name still too
long is cut.
"""

# Between the parts of a name. Not a comma: Snakemake hands a cluster job its wildcards
# as `rule:run=VALUE,...` and splits that at every comma (a SLURM job would run another
# run's work).
SEPARATOR = "+"
MAX_LENGTH = 24


def short_name(run: str) -> str:
    """``run`` as people can read it in a narrow column or menu."""
    parts = []
    for part in run.split(SEPARATOR):
        key, sep, value = part.partition("=")
        parts.append(f"{_initials(key)} {value}" if sep else part)
    name = ", ".join(parts)
    return name if len(name) <= MAX_LENGTH else name[: MAX_LENGTH - 1] + "…"


def _initials(key: str) -> str:
    """A key of several words by its initials (hidden_size: hs), one word as it is."""
    return "".join(word[0] for word in key.split("_")) if "_" in key else key
