"""Settings over seeds: how far another seed alone moves a result, and what a ranking of
settings may claim.

Each setting is trained with one seed or, with `repeats`, several: their final (and
best) test accuracies give its number of runs, mean, standard deviation, range and a 95 %
interval of the mean (Student's t). A setting "beats" the next one in the ranking only
when the difference of their means is larger than seed noise: Welch's t-test at the 5 %
level (README "Repeats"); with one seed the noise is not measured, and the first is
crowned as a single run would be.
"""

import math

import pandas as pd

from scratchnet.names import short_name
from scratchnet.tables import chosen_on

CONFIDENCE = 0.95
# What a ranking may say of its first setting (verdict)
BEST, TIED, FIRST, ALONE = "best", "tied within seed noise", "first by one seed", "one setting"
EVEN = "tied exactly"  # the same accuracies: which comes first is the table's order
STATISTICS = ["mean", "sd", "min", "max", "ci95_low", "ci95_high"]
MEASURES = ["final_test_acc", "best_test_acc"]
VALIDATION_MEASURES = ["final_val_acc", "best_val_acc"]  # with a validation split


def t_quantile(probability: float, df: int) -> float:
    """The ``probability`` quantile (above 0.5) of Student's t with ``df`` degrees of
    freedom, found by bisection on its distribution function."""
    wanted = 2 * probability - 1  # P(|T| <= t)
    low, high = 0.0, 1.0
    while _central_mass(high, df) < wanted:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _central_mass(middle, df) < wanted else (low, middle)
    return (low + high) / 2


def _central_mass(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with an integer ``df``, in closed form (Abramowitz and
    Stegun 26.7.3-4): a finite series in cos(theta), theta = atan(t / sqrt(df))."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        term, series = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= cos2 * (2 * k) / (2 * k + 1)
            series += term
        return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    term, series = 1.0, 1.0  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
    for k in range(1, df // 2):
        term *= cos2 * (2 * k - 1) / (2 * k)
        series += term
    return math.sin(theta) * series


def _interval_half_width(sd: float, n: int) -> float:
    """Half the width of the 95 % interval of a mean of ``n`` values (nan for one value)."""
    if n < 2 or pd.isna(sd):
        return math.nan
    return t_quantile((1 + CONFIDENCE) / 2, n - 1) * sd / math.sqrt(n)


def beats(first: pd.Series, second: pd.Series, measure: str) -> bool | None:
    """Whether ``first``'s mean is above ``second``'s by more than seed noise: Welch's
    t-test, two-sided at 5 %, degrees of freedom rounded down. None when either has one
    seed: its noise is not measured."""
    n1, n2 = first["repeats"], second["repeats"]
    if n1 < 2 or n2 < 2:
        return None
    v1, v2 = first[f"{measure}_sd"] ** 2 / n1, second[f"{measure}_sd"] ** 2 / n2
    difference = first[f"{measure}_mean"] - second[f"{measure}_mean"]
    standard_error = math.sqrt(v1 + v2)
    if standard_error == 0:
        return difference > 0
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return difference > t_quantile((1 + CONFIDENCE) / 2, max(1, int(df))) * standard_error


def by_setting(summary: pd.DataFrame, setting_keys: list[str]) -> pd.DataFrame:
    """One row per setting (the ``setting`` column of the per-run ``summary``): its
    repeats and seeds, each measure's statistics, how many repeats diverged or ended at
    chance, whether it beats the next setting beyond seed noise, and the settings that are
    the same for all its runs (the seed too, when it has one). Ranked by mean final
    accuracy, then the best epoch's, on validation data where some is held out (else on
    test data; tables.chosen_on); settings whose every run diverged last."""
    chosen = chosen_on(summary)
    groups = summary.groupby("setting", sort=False)
    table = pd.DataFrame({"repeats": groups.size()})
    table["seeds"] = groups["seed"].agg(lambda seeds: " ".join(map(str, sorted(seeds))))
    for measure in (VALIDATION_MEASURES if chosen == "val" else []) + MEASURES:
        values = groups[measure]
        table[f"{measure}_mean"] = values.mean()
        table[f"{measure}_sd"] = values.std()  # n - 1 in the denominator
        table[f"{measure}_min"] = values.min()
        table[f"{measure}_max"] = values.max()
        half = [
            _interval_half_width(sd, n)
            for sd, n in zip(table[f"{measure}_sd"], table["repeats"], strict=True)
        ]
        table[f"{measure}_ci95_low"] = table[f"{measure}_mean"] - half
        table[f"{measure}_ci95_high"] = table[f"{measure}_mean"] + half
    table["diverged_repeats"] = groups["diverged_at_epoch"].count()
    table["at_chance_repeats"] = groups["at_chance"].sum().astype(int)
    shared = [key for key in setting_keys if (groups[key].nunique(dropna=False) == 1).all()]
    table = table.join(groups[shared].first())
    healthy = table["diverged_repeats"] < table["repeats"]
    table = (
        table.assign(_healthy=healthy)
        .sort_values(
            ["_healthy", f"final_{chosen}_acc_mean", f"best_{chosen}_acc_mean"],
            ascending=False,
            kind="stable",
        )
        .drop(columns="_healthy")
        .reset_index()
    )
    measure = f"final_{chosen}_acc"
    following = [beats(table.iloc[i], table.iloc[i + 1], measure) for i in range(len(table) - 1)]
    table.insert(table.columns.get_loc("diverged_repeats"), "beats_next", [*following, pd.NA])
    table["beats_next"] = table["beats_next"].astype("boolean")
    return table


def has_repeats(table: pd.DataFrame) -> bool:
    """Whether some setting was trained with several seeds: then its spread says more than
    its one run would."""
    return bool((table["repeats"] > 1).any())


def verdict(table: pd.DataFrame) -> str:
    """What the ranking may claim about its first setting: "best" (beyond seed noise),
    "tied within seed noise" with the runner-up, "first by one seed" (the noise is not
    measured: crowned, as a single run would be), "tied exactly" (the same accuracies:
    no result puts either first), or, for one setting, nothing."""
    if len(table) < 2:
        return ALONE
    chosen = chosen_on(table)
    measures = [f"final_{chosen}_acc_mean", f"best_{chosen}_acc_mean"]
    if (table[measures].iloc[0] == table[measures].iloc[1]).all():
        return EVEN
    beats_next = table["beats_next"].iloc[0]
    if pd.isna(beats_next):
        return FIRST
    return BEST if beats_next else TIED


def crowned(table: pd.DataFrame) -> bool:
    """Whether the first setting is shown as the best (a star, a box, bold)."""
    return verdict(table) in (BEST, FIRST)


def claim(table: pd.DataFrame) -> str:
    """What may be said of the ranking's first setting, in words that complete "the first
    is", and what it was chosen on: every figure, table and terminal line that ranks
    settings says it so."""
    return f"{_verdict_words(table)}; {chosen_words(table)}"


def chosen_words(table: pd.DataFrame) -> str:
    """What settings and epochs were chosen on, in words."""
    if chosen_on(table) == "val":
        return "chosen on validation data, the test set kept for the estimate"
    return "chosen on test data (hold some out: config validation)"


def _verdict_words(table: pd.DataFrame) -> str:
    seeds = "-".join(sorted({str(n) for n in table["repeats"]}))
    return {
        BEST: f"best: above the runner-up by more than seed noise ({seeds} seeds each)",
        TIED: f"tied within seed noise with the runner-up: no best ({seeds} seeds each)",
        FIRST: "best by one seed: whether that is more than seed noise is not measured "
        "(config repeats)",
        EVEN: "tied exactly with the runner-up (the same accuracy): no best",
        ALONE: f"the only setting ({seeds} seed(s)): nothing to compare it with",
    }[verdict(table)]


def caption(table: pd.DataFrame) -> str:
    """The heading of the table per setting wherever it is shown."""
    return f"{len(table)} setting(s), mean over seeds, best first; the first is {claim(table)}"


def readable(table: pd.DataFrame, varied: list[str]) -> pd.DataFrame:
    """The table per setting for reading (HTML, terminal): its short name, the measure
    settings are chosen on as "mean ± sd" with its 95 % interval and range, the best
    epoch's, the final test accuracy beside them when choices are made on validation data,
    warnings where a repeat has one, and the varied settings that are one value per
    setting (not the seed of repeats)."""
    chosen = chosen_on(table)
    name = "val" if chosen == "val" else "test"
    out = pd.DataFrame({"setting": table["setting"].map(short_name), "repeats": table["repeats"]})
    shown = [(f"final_{chosen}_acc", f"final {name} acc"), (f"best_{chosen}_acc", "best")]
    if chosen == "val":
        shown.append(("final_test_acc", "final test acc"))
    for measure, title in shown:
        out[f"{title} (mean ± sd)"] = [
            f"{mean:.4f}" if pd.isna(sd) else f"{mean:.4f} ± {sd:.4f}"
            for mean, sd in zip(table[f"{measure}_mean"], table[f"{measure}_sd"], strict=True)
        ]
        if measure == f"final_{chosen}_acc":
            out["95 % interval"] = [
                "" if pd.isna(low) else f"{low:.4f}-{high:.4f}"
                for low, high in zip(
                    table[f"{measure}_ci95_low"], table[f"{measure}_ci95_high"], strict=True
                )
            ]
            out["lowest to highest"] = [
                f"{low:.4f}-{high:.4f}"
                for low, high in zip(table[f"{measure}_min"], table[f"{measure}_max"], strict=True)
            ]
    out["beats next"] = [
        "" if pd.isna(value) else "yes" if value else "tied" for value in table["beats_next"]
    ]
    for column in ("diverged_repeats", "at_chance_repeats"):
        if table[column].any():
            out[column.replace("_", " ")] = table[column]
    return pd.concat([out, table[[key for key in varied if key in table]]], axis=1)
