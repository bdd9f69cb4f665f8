# The configuration: config.yaml, checked before any job runs. A mistake stops the run
# with one line naming the key (or the line of a YAML error) and the fix.
import re
from pathlib import Path

import jsonschema
import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

CONFIG_FILE = "config.yaml"
SCHEMA_FILE = Path(workflow.current_basedir) / ".." / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_FILE.read_text())
RUN_SCHEMA = SCHEMA["$defs"]["run_settings"]
RUN_KEYS = list(RUN_SCHEMA["properties"])  # every setting a run is made of
HELP = "README 'Configuration', workflow/schemas/config.schema.yaml"


def require_readable_yaml(path):
    """Snakemake's own message for a YAML mistake names no line: find it first."""
    if not Path(path).is_file():
        return
    try:
        yaml.safe_load(Path(path).read_text())
    except yaml.MarkedYAMLError as error:
        mark, context = error.problem_mark, error.context_mark
        began = ""
        if error.context and context is not None:
            began = f" ({error.context} at line {context.line + 1}, column {context.column + 1})"
        raise WorkflowError(
            f"{path}, line {mark.line + 1}, column {mark.column + 1}: {error.problem}{began}; "
            "fix the YAML there (indent with spaces, put a space after each colon)"
        ) from None


require_readable_yaml(CONFIG_FILE)


configfile: CONFIG_FILE


# --- numbers as people write them ---------------------------------------------------------
# PyYAML reads YAML 1.1, where 1e-3 (no dot) is a string, and values inside --config
# dictionaries arrive as strings: read such strings as numbers (or null) where the schema
# expects one; and an integer written as 1e6 (a float) as the integer it is.
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def as_schema_type(value, schema):
    types = schema.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    if isinstance(value, float) and "integer" in types and value.is_integer():
        return int(
            value
        )  # 1e6 is an integer; 1.5 stays a float, which the schema refuses
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "null" in types and text in ("null", "~", "None"):
        return None
    if types & {"number", "integer"} and NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if "integer" in types and number.is_integer() else number
    return value


def numbers_read(config):
    """Read numeric strings in ``config`` as numbers (in place), where the schema wants one."""
    settings = RUN_SCHEMA["properties"]
    for key, schema in settings.items():
        if key in config:
            config[key] = as_schema_type(config[key], schema)
    gradcheck = SCHEMA["properties"]["gradcheck"]["properties"]
    for key, value in (config.get("gradcheck") or {}).items():
        if key in gradcheck:
            config["gradcheck"][key] = as_schema_type(value, gradcheck[key])
    repeats = config.get("repeats")
    integer = {"type": "integer"}
    if isinstance(repeats, list):
        config["repeats"] = [as_schema_type(seed, integer) for seed in repeats]
    elif repeats is not None:
        config["repeats"] = as_schema_type(repeats, integer)
    for key, values in (config.get("sweep") or {}).items():
        if key in settings and isinstance(values, list):
            config["sweep"][key] = [as_schema_type(v, settings[key]) for v in values]
    for overrides in (config.get("runs") or {}).values():
        for key, value in (
            (overrides or {}).items() if isinstance(overrides, dict) else ()
        ):
            if key in settings:
                overrides[key] = as_schema_type(value, settings[key])


# --- validation ------------------------------------------------------------------------------


def one_line(error, where=""):
    """A jsonschema error as one line: where in the config, what, and where to look."""
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


def first_error(instance, schema, where=""):
    """The most relevant schema error of ``instance``, as one line, or None.

    A wrong run setting also makes the settings' block fail as a whole, which reports every
    run setting as an unknown key: such reports count only when nothing else is wrong.
    """
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    specific = [e for e in errors if e.validator != "unevaluatedProperties"]
    error = jsonschema.exceptions.best_match(specific or errors)
    return None if error is None else one_line(error, where)


numbers_read(config)
try:
    validate(config, str(SCHEMA_FILE))  # fills in the schema's defaults
except WorkflowError:
    raise WorkflowError(first_error(config, SCHEMA) or "config: invalid") from None

if config["dataset"] not in config["datasets"]:
    raise WorkflowError(
        f"config: dataset {config['dataset']!r} is not an entry of 'datasets' "
        f"(known: {', '.join(sorted(config['datasets']))}); "
        "pick one of those or add an entry under 'datasets'"
    )

_names = config["datasets"][config["dataset"]].get("class_names")
if (
    _names is not None
    and len(_names) != config["datasets"][config["dataset"]]["num_classes"]
):
    raise WorkflowError(
        f"config: datasets.{config['dataset']}.class_names: {len(_names)} names for "
        f"num_classes {config['datasets'][config['dataset']]['num_classes']}; give one name "
        "per class, in label order, or leave class_names out"
    )
