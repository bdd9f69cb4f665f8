# Data stage: fetch the four IDX .gz files (verified), parse them into 8-bit pixels (what
# the jobs read), and write beside training, off its path, the normalised float32 .npz
# and the evaluation set (the images in blocks without their blank pixels).


# Downloads run where Snakemake runs: cluster compute nodes often have no internet.
localrules:
    download,


rule download:
    output:
        "results/data/{dataset}/{filename}",
    log:
        "results/data/logs/{dataset}/download_{filename}.log",
    wildcard_constraints:
        filename=r"[^/]+\.gz",
    priority: 10
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=15,
    params:
        sha256=file_sha256,
        mirrors=MIRROR_ARGS,
    shell:
        "python -m scratchnet download --filename {wildcards.filename} --sha256 {params.sha256} "
        "{params.mirrors} --out {output} > {log} 2>&1"


rule prepare:
    input:
        train_images=raw_file("train_images"),
        train_labels=raw_file("train_labels"),
        test_images=raw_file("test_images"),
        test_labels=raw_file("test_labels"),
        code=package_files("idx", "dataset", "atomic"),
    output:
        pixels="results/data/{dataset}/pixels.npy",
        labels="results/data/{dataset}/labels.npz",
    log:
        "results/data/logs/{dataset}/prepare.log",
    priority: 10
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        num_classes=DATASET_SPEC["num_classes"],
        sha256=prepare_checksum_args(),
    shell:
        "python -m scratchnet prepare --train-images {input.train_images} "
        "--train-labels {input.train_labels} --test-images {input.test_images} "
        "--test-labels {input.test_labels} --num-classes {params.num_classes} {params.sha256} "
        "--pixels {output.pixels} --labels {output.labels} > {log} 2>&1"


rule normalize:
    input:
        pixels="results/data/{dataset}/pixels.npy",
        labels="results/data/{dataset}/labels.npz",
        code=package_files("dataset", "atomic"),
    output:
        "results/data/{dataset}.npz",
    log:
        "results/data/logs/{dataset}/normalize.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=5,
    shell:
        "python -m scratchnet normalize --pixels {input.pixels} --labels {input.labels} "
        "--out {output} > {log} 2>&1"


rule pack_evaluation:
    input:
        pixels="results/data/{dataset}/pixels.npy",
        labels="results/data/{dataset}/labels.npz",
        code=package_files("evalset", "dataset", "atomic"),
    output:
        pixels="results/data/{dataset}/evaluation_pixels.npy",
        index="results/data/{dataset}/evaluation_index.npz",
    log:
        "results/data/logs/{dataset}/pack_evaluation.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    shell:
        "python -m scratchnet pack-evaluation --pixels {input.pixels} --labels {input.labels} "
        "--out-pixels {output.pixels} --out-index {output.index} > {log} 2>&1"
