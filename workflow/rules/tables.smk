# Tables of a run: accuracy per checkpoint, every mini-batch loss, and the headline metrics.


localrules:
    accuracy_table,
    loss_table,
    metrics,


rule accuracy_table:
    input:
        evaluations=evaluations,
        code=package_files("aggregate"),
    output:
        report(
            "results/{run}/accuracy.csv",
            caption="../report/accuracy_table.rst",
            category="Runs",
            subcategory="{run}",
        ),
    log:
        "results/{run}/logs/accuracy_table.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=2,
    shell:
        "python -m scratchnet accuracy-table {input.evaluations} --out {output} > {log} 2>&1"


rule loss_table:
    input:
        losses=epoch_losses,
        code=package_files("aggregate"),
    output:
        "results/{run}/loss.csv",
    log:
        "results/{run}/logs/loss_table.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=2,
    shell:
        "python -m scratchnet loss-table {input.losses} --out {output} > {log} 2>&1"


rule metrics:
    input:
        accuracy="results/{run}/accuracy.csv",
        benchmarks=training_benchmarks,
        code=package_files("aggregate"),
    output:
        "results/{run}/metrics.json",
    log:
        "results/{run}/logs/metrics.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=2,
    shell:
        "python -m scratchnet metrics --accuracy {input.accuracy} --benchmarks {input.benchmarks} "
        "--out {output} > {log} 2>&1"
