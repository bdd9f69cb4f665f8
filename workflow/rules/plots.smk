# Figures of a run: the book's loss and accuracy plots, in every configured format.


rule plot_run:
    input:
        accuracy="results/{run}/accuracy.csv",
        loss="results/{run}/loss.csv",
        code=package_files("plots"),
    output:
        expand(
            "results/{{run}}/figures/{name}.{fmt}",
            name=("loss", "accuracy"),
            fmt=config["figure_formats"],
        ),
    log:
        "results/{run}/logs/plot_run.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        formats=" ".join(config["figure_formats"]),
        title=figure_title,
    shell:
        "python -m scratchnet plot --accuracy {input.accuracy} --loss {input.loss} "
        "--out-dir results/{wildcards.run}/figures --formats {params.formats} "
        "--title {params.title:q} > {log} 2>&1"
