"""Shared fixtures: a small mixed-type table and a model fitted on it once per session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_mixed_frame(n_rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A table with every kind tabvae knows, missing values and awkward dtypes."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 1, n_rows).round(2)
    income[rng.random(n_rows) < 0.1] = np.nan
    capital_gain = np.where(rng.random(n_rows) < 0.8, 0.0, rng.exponential(5000, n_rows).round())
    city = rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], n_rows).astype(object)
    city[rng.random(n_rows) < 0.15] = None
    flag = rng.random(n_rows) < 0.3
    maybe = pd.array(rng.random(n_rows) < 0.5, dtype="boolean")
    maybe[rng.random(n_rows) < 0.2] = pd.NA
    joined = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n_rows), unit="D")
    visits = pd.array(rng.poisson(20, n_rows), dtype="Int64")
    visits[rng.random(n_rows) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n_rows),
            "age": rng.integers(18, 90, n_rows),
            "income": income,
            "capital_gain": capital_gain,
            "city": city,
            "plan": pd.Categorical(
                rng.choice(["basic", "pro", "max"], n_rows),
                categories=["basic", "pro", "max", "legacy"],
            ),
            "rating": rng.integers(1, 6, n_rows),
            "is_member": flag,
            "opted_in": maybe,
            "joined": joined,
            "signup_day": joined.strftime("%Y-%m-%d"),
            "visits": visits,
            "country": "NO",
            "score": rng.normal(0, 1, n_rows),
        }
    )


def make_daily_prices(n_days: int, n_rows: int, seed: int) -> pd.DataFrame:
    """Bookings whose price follows their day's average; the averages are in no calendar order.

    ``daily_average`` is a function of ``date``, as a day's average price is.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    day_index = rng.integers(0, n_days, n_rows)
    averages = rng.uniform(50, 250, n_days).round(1)[day_index]
    return pd.DataFrame(
        {
            "date": days[day_index],
            "daily_average": averages,
            "price": (averages + rng.normal(0, 5, n_rows)).round(1),
        }
    )


def make_bookings(n_rows: int, seed: int) -> pd.DataFrame:
    """Stays that keep rules between columns: departure never before arrival (and often the
    same day), a deposit never above the price (often all of it), and the room given mostly
    the room booked."""
    rng = np.random.default_rng(seed)
    arrival = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n_rows), "D")
    nights = np.where(rng.random(n_rows) < 0.3, 0, rng.integers(1, 15, n_rows))
    price = rng.lognormal(5, 0.6, n_rows).round(2)
    deposit = np.where(rng.random(n_rows) < 0.4, price, (price * rng.random(n_rows)).round(2))
    rooms = np.array(["single", "double", "twin", "suite", "family"])
    booked = rng.choice(rooms, n_rows, p=[0.3, 0.3, 0.2, 0.1, 0.1])
    given = np.where(rng.random(n_rows) < 0.8, booked, rng.choice(rooms, n_rows))
    return pd.DataFrame(
        {
            "arrival": arrival,
            "departure": arrival + pd.to_timedelta(nights, "D"),
            "price": price,
            "deposit": deposit,
            "room_booked": booked,
            "room_given": given,
            "guests": rng.integers(1, 5, n_rows),
        }
    )


def make_houses(n_rows: int, seed: int) -> pd.DataFrame:
    """Houses whose numbers a category sets: a latitude by neighborhood (a narrow band each),
    and a garage area that is 0 exactly when there is no garage; a price set by neither."""
    rng = np.random.default_rng(seed)
    centers = {"north": 42.10, "centre": 42.03, "south": 41.98, "east": 42.06, "west": 42.00}
    neighborhood = rng.choice(list(centers), n_rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    cars = rng.choice([0, 1, 2, 3], n_rows, p=[0.15, 0.3, 0.4, 0.15])
    area = np.where(cars == 0, 0, cars * 220 + rng.normal(0, 120, n_rows).round())
    return pd.DataFrame(
        {
            "neighborhood": neighborhood,
            "latitude": (
                np.array([centers[n] for n in neighborhood]) + rng.normal(0, 0.006, n_rows)
            ).round(5),
            "garage_cars": cars.astype(str),
            "garage_area": np.maximum(area, 0).astype(int),
            "price": rng.lognormal(12, 0.3, n_rows).round(-2),
        }
    )


def make_floors(n_rows: int, equal_share: float, seed: int = 0) -> pd.DataFrame:
    """A basement area, and a first floor's equal to it in about ``equal_share`` of the rows,
    larger in most others and smaller in 3 %."""
    rng = np.random.default_rng(seed)
    basement = rng.integers(500, 1500, n_rows).astype(float)
    larger = rng.integers(1, 400, n_rows)
    first_floor = basement + np.where(rng.random(n_rows) < equal_share, 0, larger)
    smaller = rng.random(n_rows) < 0.03
    first_floor[smaller] = basement[smaller] - rng.integers(1, 100, smaller.sum())
    return pd.DataFrame({"basement_area": basement, "first_floor_area": first_floor})


def make_basements(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A basement's unfinished part and its total area, set mostly by the finished part."""
    rng = np.random.default_rng(seed)
    unfinished = rng.integers(0, 600, n_rows).astype(float)
    finished = np.where(rng.random(n_rows) < 0.2, 0.0, rng.integers(200, 2000, n_rows))
    return pd.DataFrame({"unfinished_area": unfinished, "total_area": unfinished + finished})


@pytest.fixture(scope="session")
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture(scope="session")
def fitted(mixed_frame):
    from tabvae import TabularVAE

    return TabularVAE(epochs=4, batch_size=64, hidden=(32,), latent_dim=4, random_state=0).fit(
        mixed_frame
    )


def make_dated(n_rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Days over four years, with pieces of the date beside it, as R's tables write them."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2001-01-01") + pd.to_timedelta(rng.integers(0, 1461, n_rows), "D")
    stamps = pd.Series(stamps).where(rng.random(n_rows) > 0.05)
    text = stamps.dt.strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "day": text.where(stamps.notna(), None),
            "year": stamps.dt.year.astype("Int64"),
            "month": stamps.dt.strftime("%b").str.lower(),  # "jan", written without capital
            "wday": (stamps.dt.weekday + 1) % 7 + 1,  # R's wday(): Sunday 1 to Saturday 7
            "births": rng.poisson(30, n_rows) + 8 * (stamps.dt.weekday < 5),
        }
    )
