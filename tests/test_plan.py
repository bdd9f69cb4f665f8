"""Planning: the runs a configuration asks for, their names, epoch spans, and every config
mistake as one line. No Snakemake run: the config is read and checked as the workflow
does (settings.read_numbers, then Snakemake's own validate, which fills in defaults)."""

import copy
import re

import pytest
import yaml
from conftest import REPO
from scratchnet import layout, names, plan, settings
from snakemake.utils import validate

SCHEMA_FILE = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = settings.load_schema(SCHEMA_FILE)
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
KEYS = settings.run_keys(SCHEMA)


def checked(**changes) -> dict:
    """config.yaml with ``changes``, read and checked as config.smk does."""
    config = {**copy.deepcopy(CONFIG), **changes}
    settings.read_numbers(config, SCHEMA)
    validate(config, str(SCHEMA_FILE))
    settings.require_known_dataset(config)
    return config


def planned(**changes) -> dict[str, plan.Run]:
    return plan.runs(checked(**changes), SCHEMA)


def refused(**changes) -> str:
    """The one line a config mistake ends in (schema errors as the workflow words them)."""
    config = {**copy.deepcopy(CONFIG), **changes}
    settings.read_numbers(config, SCHEMA)
    problem = settings.first_error(config, SCHEMA)
    if problem:
        return problem
    with pytest.raises(settings.ConfigError) as raised:
        validate(config, str(SCHEMA_FILE))
        settings.require_known_dataset(config)
        plan.runs(config, SCHEMA)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- runs --------------------------------------------------------------------------------


def test_the_default_config_is_one_setting_with_one_seed():
    runs = planned()
    assert list(runs) == ["default"]
    run = runs["default"]
    assert run.setting == "default"
    defaults = {key: SCHEMA["$defs"]["run_settings"]["properties"][key]["default"] for key in KEYS}
    assert run.settings == defaults and list(run.settings) == KEYS


def test_a_sweep_is_the_grid_of_its_values_named_by_them_in_schema_order():
    runs = planned(sweep={"learning_rate": [0.1, 0.5], "hidden_size": [50, 100]})
    assert list(runs) == [
        "hidden_size=50+learning_rate=0.1",
        "hidden_size=50+learning_rate=0.5",
        "hidden_size=100+learning_rate=0.1",
        "hidden_size=100+learning_rate=0.5",
    ]
    run = runs["hidden_size=100+learning_rate=0.5"]
    assert (run.settings["hidden_size"], run.settings["learning_rate"]) == (100, 0.5)
    assert run.settings["batch_size"] == 100 and run.setting == run.name


def test_named_runs_change_the_top_level_and_stand_beside_a_sweep():
    runs = planned(
        sweep={"learning_rate": [0.1]}, runs={"wide": {"hidden_size": 100}}, batch_size=50
    )
    assert list(runs) == ["learning_rate=0.1", "wide"]
    assert runs["wide"].settings["hidden_size"] == 100
    assert (
        runs["wide"].settings["batch_size"]
        == runs["learning_rate=0.1"].settings["batch_size"]
        == 50
    )


@pytest.mark.parametrize("kind", ["sweep", "search"])
def test_another_datasets_sweep_and_search_runs_have_their_own_folders(kind):
    """Switching datasets back and forth retrains nothing: a sweep's runs on another
    dataset never take the default dataset's folders; names people chose stay theirs."""
    made = {"sweep": {"hidden_size": [5, 6]}} if kind == "sweep" else {"search": SEARCH}
    datasets = {**CONFIG["datasets"], "other": CONFIG["datasets"]["fashion-mnist"]}
    on_default = planned(**made, runs={"book": {}}, repeats=2)
    on_fashion = planned(**made, runs={"book": {}}, repeats=2, dataset="fashion-mnist")
    on_other = planned(**made, runs={"book": {}}, repeats=2, dataset="other", datasets=datasets)
    assert SCHEMA["properties"]["dataset"]["default"] == CONFIG["dataset"]
    made_names = [name for name in on_default if not name.startswith("book")]
    assert {"book", "book+seed=1"} == set(on_default) - set(made_names)
    for dataset, runs in (("fashion-mnist", on_fashion), ("other", on_other)):
        assert list(runs) == [
            *(f"dataset={dataset}+{name}" for name in made_names),
            "book",
            "book+seed=1",
        ]
        assert [run.settings for run in runs.values()] == [
            run.settings for run in on_default.values()
        ]
        assert {names.short_name(name) for name in runs} == set(map(names.short_name, on_default))
    assert not set(on_fashion) & set(on_other) - {"book", "book+seed=1"}


@pytest.mark.parametrize("repeats", [3, [0, 1, 2]])
def test_repeats_train_every_setting_once_per_seed_the_own_seed_keeping_the_name(repeats):
    runs = planned(sweep={"hidden_size": [5, 6]}, repeats=repeats)
    assert list(runs) == [
        "hidden_size=5",
        "hidden_size=5+seed=1",
        "hidden_size=5+seed=2",
        "hidden_size=6",
        "hidden_size=6+seed=1",
        "hidden_size=6+seed=2",
    ]
    assert [run.settings["seed"] for run in runs.values()] == [0, 1, 2] * 2
    assert {run.setting for run in runs.values()} == {"hidden_size=5", "hidden_size=6"}


def test_repeats_start_at_the_settings_own_seed():
    runs = planned(runs={"a": {"seed": 7}}, repeats=2)
    assert {name: run.settings["seed"] for name, run in runs.items()} == {"a": 7, "a+seed=8": 8}


def test_raising_repeats_keeps_every_existing_run():
    fewer, more = planned(repeats=2), planned(repeats=4)
    assert all(more[name] == run for name, run in fewer.items())


def test_numbers_as_people_write_them():
    config = checked(
        learning_rate="1e-3",
        batch_size=1e2,
        iters_per_epoch="null",
        repeats="2",
        sweep={"weight_init_std": ["5e-2", 0.1]},
        runs={"x": {"hidden_size": "2e1"}},
        gradcheck={"images": 2.0, "tolerance": "1e-6", "max_entries": 100},
    )
    assert config["learning_rate"] == 0.001 and config["batch_size"] == 100
    assert config["iters_per_epoch"] is None and config["repeats"] == 2
    assert config["gradcheck"] == {"images": 2, "tolerance": 1e-6, "max_entries": 100}
    runs = plan.runs(config, SCHEMA)
    assert runs["x"].settings["hidden_size"] == 20
    assert "weight_init_std=0.05" in runs and "weight_init_std=0.1" in runs


SEARCH = {
    "samples": 30,
    "seed": 0,
    "learning_rate": {"log_uniform": [1e-3, 1]},
    "hidden_size": {"choice": [25, 50, 100]},
    "batch_size": {"uniform": [50, 200]},
}


def test_a_search_draws_each_sample_from_its_distributions():
    runs = planned(search=SEARCH)
    assert list(runs) == [f"sample={i}" for i in range(30)]
    rates = [run.settings["learning_rate"] for run in runs.values()]
    assert all(1e-3 <= rate <= 1 for rate in rates)
    assert min(rates) < 0.01 and max(rates) > 0.1  # spread over the decades
    assert all(float(f"{rate:.4g}") == rate for rate in rates)  # 4 significant digits
    assert {run.settings["hidden_size"] for run in runs.values()} == {25, 50, 100}
    batches = [run.settings["batch_size"] for run in runs.values()]
    assert all(isinstance(b, int) and 50 <= b <= 200 for b in batches)
    assert runs["sample=0"].settings["epochs"] == 16  # the rest: the top level


def test_a_sample_is_the_same_whatever_the_number_of_samples():
    fewer, more = planned(search={**SEARCH, "samples": 5}), planned(search=SEARCH)
    assert all(more[name] == run for name, run in fewer.items())
    other_seed = planned(search={**SEARCH, "seed": 1})
    assert other_seed["sample=0"].settings != more["sample=0"].settings


def test_a_search_is_repeated_over_seeds_and_stands_beside_named_runs():
    runs = planned(search={**SEARCH, "samples": 2}, repeats=2, runs={"book": {}})
    assert list(runs) == ["sample=0", "sample=0+seed=1", "sample=1", "sample=1+seed=1",
                          "book", "book+seed=1"]  # fmt: skip
    assert runs["sample=0+seed=1"].setting == "sample=0"


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("character", sorted(",+= /:;*?\"'\\|<>{}[]()&$#@!~%^`"))
def test_a_chosen_run_name_refuses_separators_and_shell_characters(character):
    message = refused(runs={f"a{character}b": {"hidden_size": 5}})
    assert message.startswith(f"config: runs: {f'a{character}b'!r} is not a run name")
    assert refused(run=f"x{character}y").startswith(f"config: run: {f'x{character}y'!r}")


@pytest.mark.parametrize("name", ["a", "wide-2", "lr_0.5", "A.b-c_d"])
def test_plain_run_names_are_taken(name):
    assert list(planned(run=name)) == [name]


def test_made_names_read_back_as_short_names():
    name = names.repeat_name(names.made_name({"hidden_size": 100, "learning_rate": 0.5}), 3)
    assert name == "hidden_size=100+learning_rate=0.5+seed=3"
    assert names.short_name(name) == "hs 100, lr 0.5, seed 3"
    assert names.short_name("default+seed=1") == "default, seed 1"
    assert len(names.short_name("x" * 40)) == names.MAX_LENGTH
    on_fashion = names.on_dataset(name, "fashion-mnist")
    assert on_fashion == f"dataset=fashion-mnist+{name}"
    assert names.short_name(on_fashion) == names.short_name(name)
    settings = planned()["default"].settings
    title = names.run_title(on_fashion, "fashion-mnist", settings)
    assert title.startswith(f"{name} (fashion-mnist): hidden 50")
    assert names.without_dataset("dataset-x+seed=1") == "dataset-x+seed=1"  # a chosen name


def test_made_names_hold_no_comma_and_name_no_shared_folder():
    runs = planned(sweep={"learning_rate": [0.1, 0.5], "sampling": ["replacement"]}, repeats=2)
    for name in runs:
        assert "," not in name and "/" not in name
        assert name.split(names.SEPARATOR)[0] not in layout.SHARED_FOLDERS


# --- mistakes -----------------------------------------------------------------------------

MISTAKES = [
    ({"hiden_size": 50}, "config: top level: unknown key(s) 'hiden_size'"),
    ({"learning_rate": -0.1}, "config: learning_rate: -0.1 is less than or equal to the minimum"),
    ({"batch_size": 12.5}, "config: batch_size: 12.5 is not of type 'integer'"),
    ({"sampling": "shuffle"}, "config: sampling: 'shuffle' is not one of"),
    ({"figure_formats": ["gif"]}, "config: figure_formats.0: 'gif' is not one of"),
    ({"repeats": 0}, "config: repeats: 0 is less than the minimum of 1"),
    ({"repeats": [1, 1]}, "config: repeats: [1, 1] has non-unique elements"),
    ({"sweep": {"hidden": [20]}}, "config: sweep: 'hidden' is not a run setting"),
    ({"sweep": {"seed": [0, 1]}, "repeats": 2}, "config: sweep over 'seed' and 'repeats'"),
    ({"sweep": {"hidden_size": [0]}}, "config: sweep.hidden_size: 0 is less than the minimum"),
    ({"runs": {"x": {"epochs": -1}}}, "config: runs.x.epochs: -1 is less than the minimum"),
    ({"runs": {"x": {"hidden": 5}}}, "config: runs.x: unknown key(s) 'hidden'"),
    ({"runs": {"a": {}, "a+seed=1": {}}, "repeats": 2}, "is not a run name"),
    ({"run": "data"}, "config: ['data'] cannot be a run name (results/ uses data, figures"),
    ({"runs": {"figures": {}}}, "config: ['figures'] cannot be a run name"),
    ({"dataset": "cifar"}, "config: dataset 'cifar' is not an entry of 'datasets'"),
    (
        {"dataset": "a+b", "datasets": {"a+b": CONFIG["datasets"]["mnist"]}},
        "config: dataset: 'a+b' is not a dataset name: use letters",
    ),
    ({"validation": -1}, "config: validation: -1 is less than the minimum of 0"),
    ({"search": {"learning_rate": {"uniform": [0, 1]}}}, "'samples' is a required property"),
    ({"search": {"samples": 2, "lr": {"uniform": [0, 1]}}}, "search: 'lr' to sample"),
    ({"search": {"samples": 2}}, "config: search: no setting to sample"),
    ({"search": {"samples": 2, "hidden_size": {"normal": [1, 2]}}}, "search.hidden_size"),
    (
        {"search": {"samples": 2, "learning_rate": {"log_uniform": [0, 1]}}},
        "search.learning_rate.log_uniform: [0, 1] is not an interval",
    ),
    (
        {"search": {"samples": 2, "learning_rate": {"uniform": [1, 0.5]}}},
        "search.learning_rate.uniform: [1, 0.5] is not an interval",
    ),
    (
        {"search": {"samples": 2, "sampling": {"choice": ["shuffle"]}}},
        "config: search (sample=0).sampling: 'shuffle' is not one of",
    ),
    (
        {
            "search": {"samples": 2, "seed": 0, "hidden_size": {"choice": [5]}},
            "sweep": {"learning_rate": [0.1]},
        },
        "config: search and sweep both make settings",
    ),
    ({"mirrors": "/somewhere"}, "config: mirrors: '/somewhere' is not of type 'array'"),
]


@pytest.mark.parametrize(("changes", "expected"), MISTAKES)
def test_every_config_mistake_ends_in_one_line_naming_the_key(changes, expected):
    message = refused(**changes)
    assert expected in message and "\n" not in message


def test_class_names_must_name_every_class():
    datasets = copy.deepcopy(CONFIG["datasets"])
    datasets["mnist"]["class_names"] = ["zero", "one"]
    assert refused(datasets=datasets).startswith(
        "config: datasets.mnist.class_names: 2 names for num_classes 10"
    )


def test_a_data_file_name_that_is_not_gzipped_idx_is_named():
    datasets = copy.deepcopy(CONFIG["datasets"])
    datasets["mnist"]["files"]["train_images"]["name"] = "train.csv"
    message = refused(datasets=datasets)
    assert "datasets.mnist.files.train_images.name: 'train.csv' is not a gzipped IDX" in message


def test_a_yaml_mistake_names_its_line_and_column(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("dataset: mnist\nhidden_size: [50\nseed: 0\n")
    with pytest.raises(settings.ConfigError) as raised:
        settings.require_readable_yaml(path)
    assert f"{path}, line 3, column 5: expected ',' or ']'" in str(raised.value)
    assert "(while parsing a flow sequence at line 2, column 14)" in str(raised.value)


# --- epochs and jobs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "spans"),
    [
        (0, [(0, 0)]),
        (1, [(0, 1)]),
        (8, [(0, 8)]),
        (9, [(0, 8), (9, 9)]),
        (16, [(0, 8), (9, 16)]),
        (17, [(0, 8), (9, 16), (17, 17)]),
    ],
)
def test_epochs_are_trained_in_spans_of_up_to_eight(epochs, spans):
    assert plan.training_spans(epochs) == spans
    covered = [e for first, last in spans for e in range(first, last + 1)]
    assert covered == list(range(epochs + 1))  # every epoch once, epoch 0 first


def test_each_span_is_one_rule_for_the_runs_that_train_it():
    runs = planned(runs={"short": {"epochs": 3}, "long": {"epochs": 12}})
    assert plan.spans(runs) == {(0, 3): ["short"], (0, 8): ["long"], (9, 12): ["long"]}
    assert layout.span_name(9, 12) == "009-012" and layout.span_name(5, 5) == "005"
    assert layout.checkpoint("{run}", 16) == "results/{run}/checkpoints/epoch_016.npz"


# --- what the results describe ------------------------------------------------------------


def fingerprint(**changes) -> str:
    config = checked(**changes)
    return plan.fingerprint(plan.described(config, plan.runs(config, SCHEMA)))


def test_the_fingerprint_follows_what_the_results_are_of_and_nothing_else():
    base = fingerprint()
    assert fingerprint(mirrors=["/elsewhere"]) == base
    datasets = copy.deepcopy(CONFIG["datasets"])
    datasets["mnist"]["class_names"] = list("abcdefghij")
    assert fingerprint(datasets=datasets) == base  # names change figures, not results
    changed = [
        fingerprint(learning_rate=0.5),
        fingerprint(repeats=2),
        fingerprint(run="other"),
        fingerprint(gradcheck={"images": 2}),
        fingerprint(figure_formats=["svg"]),
        fingerprint(dataset="fashion-mnist"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    assert re.fullmatch(r"[0-9a-f]{16}", base)


# --- one statement per default ------------------------------------------------------------


def schema_defaults() -> dict:
    top = {k: v["default"] for k, v in SCHEMA["properties"].items() if "default" in v}
    runs = {k: v["default"] for k, v in SCHEMA["$defs"]["run_settings"]["properties"].items()}
    return {**top, **runs}


def test_config_yaml_states_the_schemas_defaults():
    for key, default in schema_defaults().items():
        if key in CONFIG and key != "gradcheck":
            assert CONFIG[key] == default, key
    gradcheck = SCHEMA["properties"]["gradcheck"]["properties"]
    assert CONFIG["gradcheck"] == {k: v["default"] for k, v in gradcheck.items()}


def test_the_readmes_configuration_table_states_the_schemas_defaults():
    text = (REPO / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`|]*)` \|", text, re.M))
    for key, default in schema_defaults().items():
        if key in rows and not isinstance(default, dict):
            assert yaml.safe_load(rows[key]) == default, key
    assert set(KEYS) <= set(rows)  # every run setting is in the table
