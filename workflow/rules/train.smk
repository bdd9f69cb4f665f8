# Training: epoch 0 is the seeded initial network; each later epoch is one job that
# continues from the previous checkpoint, so runs resume and extend epoch by epoch.
# Priority 10: the epoch chain is the critical path, so it gets a free core first.


rule init_network:
    input:
        **PREPARED,
        code=NETWORK_CODE + package_files("train"),
    output:
        "results/{run}/checkpoints/epoch_000.npz",
    log:
        "results/{run}/logs/init_network.log",
    priority: 10
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    params:
        model=model_args,
        num_classes=DATASET_SPEC["num_classes"],
    shell:
        "python -m scratchnet init --pixels {input.pixels} --labels {input.labels} --out {output} {params.model} "
        "--num-classes {params.num_classes} > {log} 2>&1"


rule train_epoch:
    input:
        **PREPARED,
        previous=previous_checkpoint,
        code=NETWORK_CODE + package_files("train", "dataset"),
    output:
        checkpoint="results/{run}/checkpoints/epoch_{epoch}.npz",
        losses="results/{run}/losses/epoch_{epoch}.csv",
    log:
        "results/{run}/logs/train_epoch_{epoch}.log",
    benchmark:
        "results/{run}/benchmarks/train_epoch_{epoch}.tsv"
    wildcard_constraints:
        epoch=r"(?!000)\d{3}",
    priority: 10
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=10,
    params:
        model=model_args,
        training=training_args,
    shell:
        "python -m scratchnet train-epoch {input.previous} --pixels {input.pixels} --labels {input.labels} "
        "--out {output.checkpoint} --losses {output.losses} "
        "{params.model} {params.training} > {log} 2>&1"
