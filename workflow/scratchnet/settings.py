"""The configuration as people write it: YAML mistakes by line and column, numbers read as
numbers, and every mistake the schema finds as one line naming the key and the fix.

Snakemake reads the config file and checks it against the schema (filling in the
defaults, which the schema alone states); this module makes what goes wrong readable.
"""

import re
from pathlib import Path

import jsonschema
import yaml

from scratchnet.errors import KnownError

HELP = "README 'Configuration', workflow/schemas/config.schema.yaml"


class ConfigError(KnownError, ValueError):
    """A config mistake, in one line: the key, what is wrong, and the fix."""


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def run_schema(schema: dict) -> dict:
    """The settings a run is made of: the top level sets them; sweep, search and runs
    vary them."""
    return schema["$defs"]["run_settings"]


def run_keys(schema: dict) -> list[str]:
    return list(run_schema(schema)["properties"])


def require_readable_yaml(path: str | Path) -> None:
    """Snakemake's own message for a YAML mistake names no line: name it first."""
    if not Path(path).is_file():
        return
    try:
        yaml.safe_load(Path(path).read_text())
    except yaml.MarkedYAMLError as error:
        mark, context = error.problem_mark, error.context_mark
        began = ""
        if error.context and context is not None:
            began = f" ({error.context} at line {context.line + 1}, column {context.column + 1})"
        raise ConfigError(
            f"{path}, line {mark.line + 1}, column {mark.column + 1}: {error.problem}{began}; "
            "fix the YAML there (indent with spaces, put a space after each colon)"
        ) from None


# --- numbers as people write them ---------------------------------------------------------
# PyYAML reads YAML 1.1, where 1e-3 (no dot) is a string, and values inside --config
# dictionaries arrive as strings: such strings are read as numbers (or null) where the
# schema expects one, and an integer written as 1e6 (a float) as the integer it is.
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
INTEGER = {"type": "integer"}


def as_schema_type(value, schema: dict):
    """``value`` as the type ``schema`` expects, where people wrote it another way."""
    types = schema.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    if isinstance(value, float) and "integer" in types and value.is_integer():
        return int(value)  # 1e6 is an integer; 1.5 stays a float, which the schema refuses
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "null" in types and text in ("null", "~", "None"):
        return None
    if types & {"number", "integer"} and NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if "integer" in types and number.is_integer() else number
    return value


def _read(mapping: dict | None, schemas: dict) -> None:
    """The values of ``mapping`` (in place) as their ``schemas`` (key -> schema) expect."""
    for key, value in (mapping or {}).items() if isinstance(mapping, dict) else ():
        if key in schemas:
            mapping[key] = as_schema_type(value, schemas[key])


def read_numbers(config: dict, schema: dict) -> None:
    """Read numeric strings in ``config`` as numbers (in place), where the schema wants one."""
    settings, top = run_schema(schema)["properties"], schema["properties"]
    _read(config, settings)
    _read(config, {key: top[key] for key in ("validation", "validation_seed")})
    _read(config.get("gradcheck"), top["gradcheck"]["properties"])
    repeats = config.get("repeats")
    if isinstance(repeats, list):
        config["repeats"] = [as_schema_type(seed, INTEGER) for seed in repeats]
    elif repeats is not None:
        config["repeats"] = as_schema_type(repeats, INTEGER)
    for key, values in (config.get("sweep") or {}).items():
        if key in settings and isinstance(values, list):
            config["sweep"][key] = [as_schema_type(value, settings[key]) for value in values]
    for changes in (config.get("runs") or {}).values():
        _read(changes, settings)
    search = config.get("search")
    if isinstance(search, dict):
        _read(search, top["search"]["properties"])
        for key, distribution in search.items():
            if key in settings and isinstance(distribution, dict):
                _read_distribution(distribution, settings[key])


def _read_distribution(distribution: dict, setting: dict) -> None:
    """A searched setting's interval as numbers, its choices as the setting's type."""
    for kind, values in distribution.items():
        if isinstance(values, list):
            wanted = setting if kind == "choice" else {"type": "number"}
            distribution[kind] = [as_schema_type(value, wanted) for value in values]


# --- one line per mistake -------------------------------------------------------------------


def one_line(error: jsonschema.ValidationError, where: str = "") -> str:
    """A schema error as one line: where in the config, what, and where to look."""
    path = ".".join(map(str, [*([where] if where else []), *error.absolute_path]))
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        unknown = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        message = f"unknown key(s) {', '.join(map(repr, unknown))}"
    elif error.validator == "pattern" and path.endswith(".name"):
        message = (
            f"{error.instance!r} is not a gzipped IDX file name: the workflow reads gzipped "
            "IDX files (the MNIST format), named *.gz"
        )
    else:
        message = error.message
    return f"config: {path or 'top level'}: {message} (allowed keys, values and defaults: {HELP})"


def first_error(instance, schema: dict, where: str = "") -> str | None:
    """The most relevant schema error of ``instance``, as one line, or None.

    A wrong run setting also makes the settings' block fail as a whole, which reports every
    run setting as an unknown key: such reports count only when nothing else is wrong.
    """
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    specific = [e for e in errors if e.validator != "unevaluatedProperties"]
    error = jsonschema.exceptions.best_match(specific or errors)
    return None if error is None else one_line(error, where)


def require_valid_run(settings: dict, schema: dict, where: str) -> None:
    """One run's settings (top level changed by a sweep point, sample or named run)."""
    problem = first_error(settings, {**run_schema(schema), "unevaluatedProperties": False}, where)
    if problem:
        raise ConfigError(problem)


def require_known_dataset(config: dict) -> None:
    """The dataset chosen is declared, with a name per class if it names them."""
    name, datasets = config["dataset"], config["datasets"]
    if name not in datasets:
        raise ConfigError(
            f"config: dataset {name!r} is not an entry of 'datasets' (known: "
            f"{', '.join(sorted(datasets))}); pick one of those or add an entry under 'datasets'"
        )
    names, classes = datasets[name].get("class_names"), datasets[name]["num_classes"]
    if names is not None and len(names) != classes:
        raise ConfigError(
            f"config: datasets.{name}.class_names: {len(names)} names for num_classes "
            f"{classes}; give one name per class, in label order, or leave class_names out"
        )
