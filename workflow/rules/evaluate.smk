# Evaluation: every checkpoint on the full train and test sets, two consecutive
# checkpoints per job (common.smk: CHECKPOINTS_PER_EVALUATION), beside training when
# cores allow; and the gradient check of the configured network.


rule evaluate:
    input:
        **EVALUATION_SET,
        checkpoints=evaluated_checkpoints,
        code=NETWORK_CODE + package_files("evaluate", "evalset", "dataset"),
    output:
        "results/{run}/evaluation/epochs_{epochs}.json",
    log:
        "results/{run}/logs/evaluate_{epochs}.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    shell:
        "python -m scratchnet evaluate {input.checkpoints} --pixels {input.pixels} --index {input.index} "
        "--out {output} > {log} 2>&1"


rule gradcheck:
    input:
        **PREPARED,
        initial="results/{run}/checkpoints/epoch_000.npz",
        code=NETWORK_CODE + package_files("gradcheck"),
    output:
        "results/{run}/gradcheck.csv",
    log:
        "results/{run}/logs/gradcheck.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    params:
        check=gradcheck_args,
    shell:
        "python -m scratchnet gradcheck {input.initial} --pixels {input.pixels} "
        "--labels {input.labels} --out {output} {params.check} > {log} 2>&1"
