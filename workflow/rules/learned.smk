# What a run's network learned, from its initial and final checkpoints: the weights of
# each hidden unit as images, the test set's confusion matrix (and confusion.csv), and
# its most confident mistakes. It needs no evaluation, so it runs beside them.


# Quick (one pass over the test images): done where Snakemake runs.
localrules:
    learned,


rule learned:
    input:
        **PREPARED,
        eval_pixels=EVALUATION_SET["pixels"],
        eval_index=EVALUATION_SET["index"],
        initial=layout.checkpoint("{run}", 0),
        final=final_checkpoint,
        classes=DATA.classes,
    output:
        confusion="results/{run}/confusion.csv",
        weights=run_figure(
            "weights", "learned", "1 input weights of each hidden unit (figure)"
        ),
        confusion_figure=run_figure(
            "confusion", "learned", "2 test-set confusion matrix (figure)"
        ),
        misclassified=run_figure(
            "misclassified", "learned", "3 most confident mistakes (figure)"
        ),
    log:
        "results/{run}/logs/learned.log",
    priority: PRIORITY["evaluate"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=evaluation_mem_mb,
        runtime=10,
    params:
        title=run_title,
        formats=FORMATS,
        code=code_digest("learned"),
    shell:
        "python -m scratchnet learned --pixels {input.pixels} --labels {input.labels} "
        "--initial {input.initial} --final {input.final} "
        "--eval-pixels {input.eval_pixels} --eval-index {input.eval_index} "
        "--classes {input.classes} "
        "--title {params.title:q} --out results/{wildcards.run} --formats {params.formats} "
        "--code {params.code} > {log} 2>&1"
