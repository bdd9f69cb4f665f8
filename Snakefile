# Train the two-layer network of "Deep Learning from Scratch" (ch. 4) on MNIST:
# download -> prepare -> train (a few epochs per job) -> evaluate -> run results (and what
# the network learned) -> summary; and the chapter's own figures. README.md explains
# every stage, output and config key.
from snakemake.utils import min_version

min_version("9.0")


# config.yaml, read and checked (YAML, numbers, the schema): workflow/rules/config.smk
include: "workflow/rules/config.smk"
include: "workflow/rules/common.smk"


report: "workflow/report/workflow.rst"


wildcard_constraints:
    run=run_pattern(RUNS),
    epochs=r"\d{3}(-\d{3})?",


include: "workflow/rules/chapter.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/results.smk"
include: "workflow/rules/learned.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/hooks.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
