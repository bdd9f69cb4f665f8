"""How runs are named, and their short names where a full one would not fit (the report's
menu, tables); and a dataset's classes, where it names none.

A sweep names its runs by their settings (``hidden_size=100+learning_rate=0.5``), a
search by its sample's number (``sample=7``), and a repeat adds its seed
(``default+seed=3``). On a dataset other than the default one, a sweep's or search's
names begin with it (``dataset=fashion-mnist+sample=7``): each dataset's runs keep their
own folders. Shortened, each ``key=value`` part is shown as ``initials value`` (``hs 100,
lr 0.5``; ``default, seed 3``), the dataset part left out (a summary has one dataset), and
a name still too long is cut.
"""

import re

# Between the parts of a made name, and between a part's key and value. Not a comma:
# Snakemake hands a cluster job its wildcards as `rule:run=VALUE,...` and splits that at
# every comma (a SLURM job would run another run's work).
SEPARATOR, ASSIGN = "+", "="
# A name people choose (`run`, the keys of `runs`): no separator, so that it can never be
# taken for a made name, nor split by Snakemake.
CHOSEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_LENGTH = 24
DATASET_KEY = "dataset"


def format_value(value) -> str:
    """A setting's value as a name shows it: floats in their shortest exact form."""
    return repr(value) if isinstance(value, float) else str(value)


def made_name(parts: dict) -> str:
    """``key=value`` parts joined: a sweep point's name, or a sample's."""
    return SEPARATOR.join(f"{key}{ASSIGN}{format_value(value)}" for key, value in parts.items())


def sample_name(index: int) -> str:
    """The setting of a random search's sample ``index`` (config `search`)."""
    return made_name({"sample": index})


def on_dataset(name: str, dataset: str) -> str:
    """A sweep's or search's ``name`` when it trains on another ``dataset`` than the
    default one."""
    return SEPARATOR.join((made_name({DATASET_KEY: dataset}), name))


def without_dataset(run: str) -> str:
    """``run`` without the dataset it begins with, if any (where the dataset is said)."""
    first, sep, rest = run.partition(SEPARATOR)
    return rest if sep and first.startswith(DATASET_KEY + ASSIGN) else run


def repeat_name(setting: str, seed: int) -> str:
    """The run that trains ``setting`` with another ``seed`` (config `repeats`)."""
    return f"{setting}{SEPARATOR}seed{ASSIGN}{seed}"


def run_title(run: str, dataset: str, settings: dict) -> str:
    """A run's figures' and tables' title: its name, dataset and main settings."""
    return (
        f"{without_dataset(run)} ({dataset}): hidden {settings['hidden_size']}, "
        f"lr {format_value(settings['learning_rate'])}, batch {settings['batch_size']}, "
        f"{settings['sampling']} sampling, seed {settings['seed']}"
    )


def short_name(run: str) -> str:
    """``run`` as people can read it in a narrow column or menu."""
    parts = []
    for part in without_dataset(run).split(SEPARATOR):
        key, sep, value = part.partition(ASSIGN)
        parts.append(f"{short_key(key)} {value}" if sep else part)
    name = ", ".join(parts)
    return name if len(name) <= MAX_LENGTH else name[: MAX_LENGTH - 1] + "…"


def class_numbers(classes: int) -> list[str]:
    """The names of a dataset's classes when it gives none: their numbers."""
    return [str(c) for c in range(classes)]


def short_key(key: str) -> str:
    """A setting's name shortened: several words by their initials (hidden_size: hs),
    one word as it is."""
    return "".join(word[0] for word in key.split("_")) if "_" in key else key
