# Across the runs of this configuration: the summary (ranked, best first), the dataset's
# page and, with two runs or more, the comparison figures. It owns results/figures/: any
# file there it did not write is removed, so the folder always shows exactly these runs.


localrules:
    summary,


rule summary:
    input:
        metrics=all_runs("metrics.json"),
        accuracy=all_runs("accuracy.csv"),
        loss=all_runs("loss.csv"),
        about=DATASET_JSON,
    output:
        csv="results/summary.csv",
        table=report(
            "results/summary.html",
            caption="../report/summary.rst",
            category=SECTION["summary"],
            labels={"result": summary_label()},
        ),
        dataset=report(
            f"{DATA_DIR}/dataset.html",
            caption="../report/dataset.rst",
            category=SECTION["data"],
            labels={"result": f"{DATASET}: files, checksums, classes"},
        ),
        figures=comparison_figures(),
        by_setting=spread_table(),
    log:
        "results/logs/summary.log",
    priority: PRIORITY["results"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=BASE_MB + 300,
        runtime=30,
    params:
        runs=runs_json(),
        folders=run_folders(),
        formats=FORMATS,
        repeats=repeats_args(),
        code=code_digest("summary"),
    shell:
        "python -m scratchnet summary --runs {params.runs:q} --run-folders {params.folders:q} "
        "--dataset-json {input.about} --out results --formats {params.formats} {params.repeats} > {log} 2>&1"
