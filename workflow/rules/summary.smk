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
        about=DATA.about,
        classes=DATA.classes,
    output:
        csv=layout.SUMMARY,
        table=report(
            "results/summary.html",
            caption="../report/summary.rst",
            category=SECTION["summary"],
            labels={"result": "1 settings and runs, ranked (table)"},
        ),
        dataset=report(
            f"{DATA.folder}/dataset.html",
            caption="../report/dataset.rst",
            category=SECTION["data"],
            labels={"result": f"{DATASET}: files, checksums, classes"},
        ),
        by_setting=layout.SUMMARY_BY_SETTING,
        described=layout.SUMMARY_JSON,
        figures=figure_group("comparison"),
    log:
        f"results/{layout.LOGS}/summary.log",
    priority: PRIORITY["results"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=plan.BASE_MB + 300,
        runtime=30,
    params:
        plan=SUMMARY_ARGS,
        formats=FORMATS,
        code=code_digest("summary"),
    shell:
        "python -m scratchnet summary --plan {params.plan:q} --dataset-json {input.about} "
        "--classes {input.classes} --out results --formats {params.formats} --code {params.code} > {log} 2>&1"
