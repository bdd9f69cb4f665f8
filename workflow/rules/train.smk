# Training: epoch 0 is the seeded initial network; each later epoch is one job that
# continues from the previous checkpoint, so runs resume and extend epoch by epoch.


rule init_network:
    input:
        data=DATASET_NPZ,
        code=NETWORK_CODE + package_files("train"),
    output:
        "results/{run}/checkpoints/epoch_000.npz",
    log:
        "results/{run}/logs/init_network.log",
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
        "python -m scratchnet init --data {input.data} --out {output} {params.model} "
        "--num-classes {params.num_classes} > {log} 2>&1"


rule train_epoch:
    input:
        previous=previous_checkpoint,
        data=DATASET_NPZ,
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
        "python -m scratchnet train-epoch {input.previous} --data {input.data} "
        "--out {output.checkpoint} --losses {output.losses} "
        "{params.model} {params.training} > {log} 2>&1"
