# The chapter's own worked examples and pictures (loss functions, the numerical
# derivative, the gradient, gradient descent, simpleNet), computed with the package's
# functions: a few seconds, rebuilt only when that code or the figure formats change.


localrules:
    chapter,


rule chapter:
    output:
        examples="results/chapter/examples.json",
        examples_table=report(
            "results/chapter/examples.html",
            caption="../report/chapter_examples.rst",
            category=SECTION["chapter"],
            labels={"result": "4 the worked values (table)"},
        ),
        figures=figure_group("chapter"),
    log:
        "results/logs/chapter.log",
    conda:
        "../envs/scratchnet.yaml"
    threads: 1
    resources:
        local_jobs=1,
        mem_mb=plan.BASE_MB + 100,
        runtime=10,
    params:
        formats=FORMATS,
        code=code_digest("chapter"),
    shell:
        "python -m scratchnet chapter --out results/chapter --formats {params.formats} "
        "--code {params.code} > {log} 2>&1"
