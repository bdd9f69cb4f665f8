# Figures of a run: the book's loss and accuracy plots, in every configured format.
# Two jobs, so the loss figure is drawn while the last checkpoint is still evaluated.


# Quick (well under a second) and after the tables: drawn where Snakemake runs.
localrules:
    plot_loss,
    plot_accuracy,


rule plot_loss:
    input:
        loss="results/{run}/loss.csv",
        code=package_files("plots"),
    output:
        figure_outputs(
            "results/{run}/figures/loss", "../report/loss.rst", "Runs", "{run}"
        ),
    log:
        "results/{run}/logs/plot_loss.log",
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
        "python -m scratchnet loss-figure {input.loss} "
        "--out-stem results/{wildcards.run}/figures/loss --formats {params.formats} "
        "--title {params.title:q} > {log} 2>&1"


rule plot_accuracy:
    input:
        accuracy="results/{run}/accuracy.csv",
        code=package_files("plots"),
    output:
        figure_outputs(
            "results/{run}/figures/accuracy", "../report/accuracy.rst", "Runs", "{run}"
        ),
    log:
        "results/{run}/logs/plot_accuracy.log",
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
        "python -m scratchnet accuracy-figure {input.accuracy} "
        "--out-stem results/{wildcards.run}/figures/accuracy --formats {params.formats} "
        "--title {params.title:q} > {log} 2>&1"
