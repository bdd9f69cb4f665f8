# What a run's results are, in one job once its last evaluation is done: the gradient
# check of its initial network, its accuracy and loss tables, headline metrics and the
# book's two figures (what the network learned is learned.smk's).


# Quick, and reading what the run's jobs wrote: done where Snakemake runs.
localrules:
    run_results,


rule run_results:
    input:
        unpack(run_result_inputs),
    output:
        gradcheck="results/{run}/gradcheck.csv",
        gradcheck_table=report(
            "results/{run}/gradcheck.html",
            caption="../report/gradcheck.rst",
            category=SECTION["runs"],
            subcategory=run_section,
            labels={"result": "4 gradient check (table)"},
        ),
        accuracy="results/{run}/accuracy.csv",
        table=report(
            "results/{run}/accuracy.html",
            caption="../report/accuracy_table.rst",
            category=SECTION["runs"],
            subcategory=run_section,
            labels={"result": "1 accuracy per epoch (table)"},
        ),
        loss="results/{run}/loss.csv",
        metrics="results/{run}/metrics.json",
        loss_figure=run_figure("loss", "runs", "3 mini-batch loss (figure)"),
        accuracy_figure=run_figure("accuracy", "runs", "2 accuracy per epoch (figure)"),
    log:
        "results/{run}/logs/run_results.log",
    priority: PRIORITY["results"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=reading_mem_mb,
        runtime=10,
    params:
        check=gradcheck_args(),
        title=run_title,
        formats=FORMATS,
        code=code_digest("run-results"),
    shell:
        "python -m scratchnet run-results --pixels {input.pixels} --labels {input.labels} "
        "{params.check} --evaluations {input.evaluations} --checkpoints {input.checkpoints} "
        "--timing {input.timing} "
        "--title {params.title:q} --out results/{wildcards.run} --formats {params.formats} "
        "--code {params.code} > {log} 2>&1"
