# The configuration, read as people write it and checked before any job runs, and the runs
# it plans (workflow/scratchnet/settings.py, plan.py): a mistake stops the call with one
# line naming the key (or the line of a YAML error) and the fix.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# This workflow's own package, before any installed copy (another clone's, or a
# `pip install .` made before an edit): the rules plan with the code the jobs run.
CODE_DIR = Path(workflow.basedir) / "workflow"
sys.path.insert(0, str(CODE_DIR))

from scratchnet import plan, settings

CONFIG_FILE = "config.yaml"
SCHEMA_FILE = CODE_DIR / "schemas" / "config.schema.yaml"
SCHEMA = settings.load_schema(SCHEMA_FILE)


def checked(step, *args):
    """``step(*args)``; a config mistake it finds ends the call in its one line."""
    try:
        return step(*args)
    except settings.ConfigError as error:
        raise WorkflowError(str(error)) from None


checked(settings.require_readable_yaml, CONFIG_FILE)


configfile: CONFIG_FILE


checked(settings.read_numbers, config, SCHEMA)
try:
    validate(
        config, str(SCHEMA_FILE)
    )  # Snakemake's check; fills in the schema's defaults
except WorkflowError:
    raise WorkflowError(
        settings.first_error(config, SCHEMA) or "config: invalid"
    ) from None
checked(settings.require_known_dataset, config)
RUNS = checked(plan.runs, config, SCHEMA)
VALIDATION = checked(plan.validation, config)
