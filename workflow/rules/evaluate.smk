# Evaluation: every checkpoint on the full train and test sets, one job per training
# job's checkpoints, beside the next training job when cores allow.


rule evaluate:
    input:
        **EVALUATION_SET,
        checkpoints=evaluated_checkpoints,
        split=SPLIT,
    output:
        "results/{run}/evaluation/epochs_{epochs}.json",
    log:
        "results/{run}/logs/evaluate_{epochs}.log",
    priority: PRIORITY["evaluate"]
    group:
        RUN_GROUP
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=evaluation_mem_mb,
        runtime=10,
    params:
        split=SPLIT_ARG,
        code=code_digest("evaluate"),
    shell:
        "python -m scratchnet evaluate {input.checkpoints} --pixels {input.pixels} "
        "--index {input.index} {params.split} --out {output} --code {params.code} > {log} 2>&1"
