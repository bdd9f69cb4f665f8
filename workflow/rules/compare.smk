# Across runs: one summary row per run, and the runs' curves side by side (when a
# sweep or named runs give more than one).


localrules:
    summary,
    compare_runs,


rule summary:
    input:
        metrics=all_runs("metrics.json"),
        code=package_files("aggregate"),
    output:
        report(
            "results/summary.csv", caption="../report/summary.rst", category="Summary"
        ),
    log:
        "results/logs/summary.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=2,
    params:
        settings=runs_json(),
    shell:
        "python -m scratchnet summary {input.metrics} --settings {params.settings:q} "
        "--out {output} > {log} 2>&1"


rule compare_runs:
    input:
        accuracy=all_runs("accuracy.csv"),
        loss=all_runs("loss.csv"),
        code=package_files("plots"),
    output:
        accuracy=figure_outputs(
            "results/figures/compare_accuracy",
            "../report/compare_accuracy.rst",
            "Summary",
        ),
        loss=figure_outputs(
            "results/figures/compare_loss", "../report/compare_loss.rst", "Summary"
        ),
    log:
        "results/logs/compare_runs.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        names=" ".join(RUNS),
        formats=" ".join(config["figure_formats"]),
    shell:
        "python -m scratchnet compare --names {params.names} --accuracy {input.accuracy} "
        "--loss {input.loss} --out-dir results/figures --formats {params.formats} > {log} 2>&1"
