# Train the two-layer network of "Deep Learning from Scratch" (ch. 4) on MNIST:
# download -> prepare -> init -> train epoch by epoch -> evaluate -> tables -> figures.
# README.md explains every stage, output and config key.


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    run="|".join(re.escape(name) for name in RUNS),
    dataset=re.escape(DATASET),
    epoch=r"\d{3}",
    epochs=r"\d{3}(-\d{3})?",


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/hooks.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
