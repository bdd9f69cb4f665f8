# Training: one job per span of up to plan.EPOCHS_PER_JOB epochs, writing per epoch its
# checkpoint (with the epoch's mini-batch losses) and its seconds; the first also writes
# epoch 0 (the seeded initial network), each later one continues from the previous job's
# last checkpoint, so a run resumes and extends job by job. One rule per span
# (train_epochs_000_008, train_epochs_009_016, ...), as each job writes its own fixed
# set of files.


for (first, last), runs in plan.spans(RUNS).items():

    rule:
        name:
            f"train_epochs_{layout.epoch_name(first)}_{layout.epoch_name(last)}"
        input:
            **PREPARED,
            previous=previous_checkpoint(first),
            split=SPLIT,
        output:
            checkpoints=layout.checkpoints("{run}", first, last),
            timing=layout.timings("{run}", first, last),
        log:
            f"results/{{run}}/logs/train_epochs_{layout.span_name(first, last)}.log",
        wildcard_constraints:
            run=run_pattern(runs),
        priority: training_priority(first)
        group:
            RUN_GROUP
        conda:
            "../envs/scratchnet.yaml"
        threads: 1
        resources:
            mem_mb=training_mem_mb,
            runtime=training_runtime,
        params:
            settings=run_args,
            start=training_start(first),
            split=SPLIT_ARG,
            num_classes=DATASET_SPEC["num_classes"],
            code=code_digest("train"),
        shell:
            "python -m scratchnet train {params.start} --pixels {input.pixels} "
            "--labels {input.labels} --checkpoints {output.checkpoints} "
            "--timing {output.timing} {params.split} "
            "--num-classes {params.num_classes} {params.settings} --code {params.code} > {log} 2>&1"
