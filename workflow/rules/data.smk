# Data stage: fetch the four IDX .gz files (verified), parse them into 8-bit pixels (what
# the jobs read) and dataset.json (where the data came from), and write beside training,
# off its path, the normalised float32 .npz and the evaluation set (the images in blocks
# without their blank pixels).


# Downloads run where Snakemake runs: cluster compute nodes often have no internet.
localrules:
    download,


# A download is fixed by its file name and SHA-256 alone, so no code edit replans it; and
# as it may not be fetchable again (offline, a mirror gone), every verified file is also
# kept in DATA.verified, tried before the mirrors: a forced rerun never loses it.
rule download:
    output:
        f"{DATA.folder}/{{filename}}",
    log:
        f"{DATA.logs}/download_{{filename}}.log",
    wildcard_constraints:
        filename=r"[^/]+\.gz",
    priority: PRIORITY["data"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=plan.BASE_MB,
        runtime=30,
    params:
        sha256=file_sha256,
        keep=DATA.verified,
    shell:
        "python -m scratchnet download --filename {wildcards.filename} --sha256 {params.sha256} "
        '--mirrors "$SCRATCHNET_MIRRORS" --keep {params.keep} --out {output} > {log} 2>&1'


rule prepare:
    input:
        train_images=raw_file("train_images"),
        train_labels=raw_file("train_labels"),
        test_images=raw_file("test_images"),
        test_labels=raw_file("test_labels"),
    output:
        **PREPARED,
        about=DATA.about,
    log:
        f"{DATA.logs}/prepare.log",
    priority: PRIORITY["data"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=unpacking_mem_mb,
        runtime=10,
    params:
        dataset=DATASET,
        num_classes=DATASET_SPEC["num_classes"],
        sha256=prepare_checksum_args(),
        code=code_digest("prepare"),
    shell:
        "python -m scratchnet prepare --dataset {params.dataset} "
        "--train-images {input.train_images} --train-labels {input.train_labels} "
        "--test-images {input.test_images} --test-labels {input.test_labels} "
        "--num-classes {params.num_classes} {params.sha256} --pixels {output.pixels} "
        "--labels {output.labels} --about {output.about} --code {params.code} > {log} 2>&1"


rule normalize:
    input:
        **PREPARED,
    output:
        DATA.npz,
    log:
        f"{DATA.logs}/normalize.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=reading_mem_mb,
        runtime=10,
    params:
        code=code_digest("normalize"),
    shell:
        "python -m scratchnet normalize --pixels {input.pixels} --labels {input.labels} "
        "--out {output} --code {params.code} > {log} 2>&1"


rule pack_evaluation:
    input:
        **PREPARED,
    output:
        **EVALUATION_SET,
    log:
        f"{DATA.logs}/pack_evaluation.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=reading_mem_mb,
        runtime=10,
    params:
        code=code_digest("pack-evaluation"),
    shell:
        "python -m scratchnet pack-evaluation --pixels {input.pixels} --labels {input.labels} "
        "--out-pixels {output.pixels} --out-index {output.index} --code {params.code} > {log} 2>&1"


# The class names (config: datasets.<name>.class_names, else the class numbers): renaming
# redraws what shows them, nothing is retrained.
localrules:
    classes,


rule classes:
    output:
        DATA.classes,
    log:
        f"{DATA.logs}/classes.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=plan.BASE_MB,
        runtime=5,
    params:
        names=json.dumps(CLASS_NAMES),
        code=code_digest("classes"),
    shell:
        "python -m scratchnet classes --names {params.names:q} --out {output} --code {params.code} > {log} 2>&1"


# The training images held out for validation (config `validation`): the same for every
# run; no file when none are.
rule split:
    input:
        labels=PREPARED["labels"],
    output:
        SPLIT,
    log:
        f"{DATA.logs}/split.log",
    priority: PRIORITY["data"]
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=plan.BASE_MB,
        runtime=5,
    params:
        validation=VALIDATION,
        seed=config["validation_seed"],
        code=code_digest("split"),
    shell:
        "python -m scratchnet split --labels {input.labels} --validation {params.validation} "
        "--seed {params.seed} --out {output} --code {params.code} > {log} 2>&1"
