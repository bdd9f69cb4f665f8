# Figures of a run: the book's loss and accuracy plots, in every configured format.


# Quick (under a second) and after the tables: drawn where Snakemake runs, no cluster job.
localrules:
    plot_run,


rule plot_run:
    input:
        accuracy="results/{run}/accuracy.csv",
        loss="results/{run}/loss.csv",
        code=package_files("plots"),
    output:
        loss=figure_outputs(
            "results/{run}/figures/loss", "../report/loss.rst", "Runs", "{run}"
        ),
        accuracy=figure_outputs(
            "results/{run}/figures/accuracy", "../report/accuracy.rst", "Runs", "{run}"
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
