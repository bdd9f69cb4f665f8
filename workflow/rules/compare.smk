# Across runs: one summary row per run, and the runs' curves side by side (when a
# sweep or named runs give more than one).


localrules:
    summary,
    compare_accuracy,
    compare_loss,


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


rule compare_accuracy:
    input:
        accuracy=all_runs("accuracy.csv"),
        code=package_files("plots"),
    output:
        figure_outputs(
            "results/figures/compare_accuracy",
            "../report/compare_accuracy.rst",
            "Summary",
        ),
    log:
        "results/logs/compare_accuracy.log",
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
        "python -m scratchnet compare-accuracy {input.accuracy} --names {params.names} "
        "--out-stem results/figures/compare_accuracy --formats {params.formats} > {log} 2>&1"


rule compare_loss:
    input:
        loss=all_runs("loss.csv"),
        code=package_files("plots"),
    output:
        figure_outputs(
            "results/figures/compare_loss", "../report/compare_loss.rst", "Summary"
        ),
    log:
        "results/logs/compare_loss.log",
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
        "python -m scratchnet compare-loss {input.loss} --names {params.names} "
        "--out-stem results/figures/compare_loss --formats {params.formats} > {log} 2>&1"
