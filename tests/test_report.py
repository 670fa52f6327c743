"""Tests of tabvae.report: the results dict, the JSON file, the HTML page and its rendering."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tabvae.errors import DataError
from tabvae.report import THRESHOLDS, compute_report, render_html, report

COLUMNS = ["age", "income", "city", "kids", "member", "signup"]
LEVELS = {"good", "fair", "poor", "not measured"}


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(42, 12, n).round().clip(18, 90)
    df = pd.DataFrame(
        {
            "age": age,
            "income": np.exp(rng.normal(10 + 0.01 * age, 0.6)),
            "city": rng.choice(
                ["Paris", "Lyon", "Nice", "Lille", "Brest"], n, p=[0.4, 0.25, 0.15, 0.1, 0.1]
            ),
            "kids": rng.integers(0, 4, n),
            "member": rng.random(n) < 0.3,
            "signup": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        }
    )
    df.loc[rng.random(n) < 0.05, "income"] = np.nan
    return df


def _synthesize(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A stand-in synthesizer: resample each column on its own, jitter the numbers."""
    rng = np.random.default_rng(seed)
    out = {}
    for col in train.columns:
        values = train[col].to_numpy()[rng.integers(0, len(train), n)]
        if col in ("age", "income"):
            values = values * rng.normal(1, 0.05, n)
        out[col] = values
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    real = _table(450, seed=1)
    return {
        "train": real.iloc[:300].reset_index(drop=True),
        "holdout": real.iloc[300:].reset_index(drop=True),
        "synthetic": _synthesize(real.iloc[:300], 300, seed=2),
    }


@pytest.fixture(scope="module")
def written(frames, tmp_path_factory) -> dict[str, Any]:
    out_dir = tmp_path_factory.mktemp("report")
    results = report(
        frames["train"],
        frames["synthetic"],
        holdout=frames["holdout"],
        target="member",
        output=out_dir / "report.html",
        seed=0,
    )
    return {
        "results": results,
        "dir": out_dir,
        "html": (out_dir / "report.html").read_text(encoding="utf-8"),
        "json": json.loads((out_dir / "report.json").read_text(encoding="utf-8")),
    }


def _in_unit(value: Any) -> bool:
    return value is not None and 0.0 <= value <= 1.0


def test_json_file_is_the_returned_dict(written):
    assert written["json"] == written["results"]
    # Strict JSON: no NaN / Infinity tokens that other readers would choke on.
    json.dumps(written["json"], allow_nan=False)


def test_sections_and_plausible_values(written):
    res = written["json"]
    for key in ("inputs", "thresholds", "summary", "fidelity", "utility", "privacy", "timings"):
        assert key in res
    assert res["thresholds"] == THRESHOLDS
    assert res["inputs"]["columns"] == COLUMNS
    assert res["inputs"]["real_rows"] == 300 and res["inputs"]["holdout_rows"] == 150
    for section in ("fidelity", "utility", "privacy"):
        verdict = res["summary"][section]
        assert verdict["level"] in LEVELS and verdict["text"]
        assert res[section]["verdict"] == verdict

    fid = res["fidelity"]
    assert fid["errors"] == []
    # Resampled columns with a little noise: shapes close to real, and every column scored.
    assert fid["column_shapes"]["score"] > 0.8
    assert set(fid["column_shapes"]["columns"]) == set(COLUMNS)
    assert all(_in_unit(v) for v in fid["column_shapes"]["columns"].values())
    assert len(fid["pair_trends"]["pairs"]) == len(COLUMNS) * (len(COLUMNS) - 1) // 2
    assert _in_unit(fid["pair_trends"]["score"])
    assert _in_unit(fid["detection"]["auc"])
    kinds = {col: info["chart"]["type"] for col, info in fid["columns"].items()}
    assert kinds == {
        "age": "histogram",
        "income": "histogram",
        "city": "bars",
        "kids": "bars",
        "member": "bars",
        "signup": "datetime",
    }
    for info in fid["columns"].values():
        assert sum(info["chart"]["real"]) == pytest.approx(
            1.0 - info["chart"].get("outside_real", 0)
        )
    assert fid["columns"]["income"]["missing_real"] > 0

    util = res["utility"]
    assert util["target"] == "member" and util["errors"] == []
    assert util["metric"] == "roc_auc"
    assert _in_unit(util["real_score"]) and _in_unit(util["synthetic_score"])
    assert util["ratio"] == pytest.approx(util["synthetic_score"] / util["real_score"])

    priv = res["privacy"]
    assert priv["errors"] == []
    assert _in_unit(priv["dcr_share"]["value"])
    assert priv["dcr_share"]["level"] in {"good", "fair", "poor"}
    assert _in_unit(priv["exact_copies"]["synthetic"]) and _in_unit(priv["exact_copies"]["holdout"])
    assert _in_unit(priv["nndr"]["synthetic"]) and _in_unit(priv["nndr"]["holdout"])
    anon = priv["anonymeter"]
    if anon["available"]:
        assert anon["attacks"] and all(
            a.get("error") or _in_unit(a["risk"]) for a in anon["attacks"]
        )
    else:
        assert "anonymeter" in anon["note"] and anon["attacks"] == []


def test_html_has_a_chart_per_column_and_a_heatmap(written):
    page = written["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'<svg class="chart"', page)) == len(COLUMNS)
    assert page.count('<svg class="heatmap"') == 1
    for col in COLUMNS:
        assert (
            f'aria-label="Histogram of {col}' in page or f'aria-label="Bar chart of {col}' in page
        )
    for word in (
        "Fidelity",
        "Utility",
        "Privacy",
        "Column shapes",
        "Column pair trends",
        "DCR share",
    ):
        assert word in page
    # Every threshold shown to the reader.
    assert "good if ≥ 0.90, fair if ≥ 0.80" in page
    assert "good if ≤ 0.53" in page


def test_html_loads_nothing_from_the_network(written):
    page = written["html"]
    assert not re.search(r"<(script|link|img|iframe|object|embed|audio|video|source)\b", page, re.I)
    assert not re.search(
        r"""\b(src|href|xlink:href|action|data)\s*=\s*["']?\s*(https?:)?//""", page, re.I
    )
    assert not re.search(r"url\s*\(|@import", page, re.I)
    # The test data has no URLs, so none may appear at all (SVG is inline, without xmlns).
    assert "http://" not in page and "https://" not in page


def test_render_html_is_a_function_of_the_json(written):
    assert render_html(written["json"]) == written["html"]


def test_writes_atomically_and_leaves_no_temp_files(written):
    names = sorted(os.listdir(written["dir"]))
    assert names == ["report.html", "report.json"]


def test_output_named_json_puts_the_page_beside_it(frames, tmp_path):
    report(frames["train"], frames["synthetic"], output=tmp_path / "r.json", seed=0)
    assert sorted(os.listdir(tmp_path)) == ["r.html", "r.json"]
    assert json.loads((tmp_path / "r.json").read_text())["inputs"]["real_rows"] == 300


def test_missing_synthetic_column_is_a_one_line_data_error(frames, tmp_path):
    with pytest.raises(DataError) as info:
        report(
            frames["train"], frames["synthetic"].drop(columns=["city"]), output=tmp_path / "r.html"
        )
    message = str(info.value)
    assert "city" in message and "synthetic" in message and "\n" not in message
    assert not list(tmp_path.iterdir())


def test_bad_holdout_target_and_empty_tables_are_data_errors(frames):
    with pytest.raises(DataError, match="holdout"):
        compute_report(frames["train"], frames["synthetic"], holdout=frames["holdout"][["age"]])
    with pytest.raises(DataError, match="target"):
        compute_report(frames["train"], frames["synthetic"], target="nope")
    with pytest.raises(DataError, match="empty"):
        compute_report(frames["train"].iloc[:0], frames["synthetic"])


def test_extra_synthetic_columns_are_ignored_with_a_note(frames):
    synth = frames["synthetic"].assign(extra=1)
    res = compute_report(frames["train"], synth, seed=0)
    assert res["inputs"]["columns"] == COLUMNS
    assert any("extra" in note or "1 column" in note for note in res["inputs"]["notes"])


def test_without_holdout_or_target_privacy_and_utility_are_not_measured(frames):
    res = compute_report(frames["train"], frames["synthetic"], seed=0)
    assert res["summary"]["utility"]["level"] == "not measured"
    assert res["summary"]["privacy"]["level"] == "not measured"
    assert "holdout" in res["summary"]["privacy"]["text"]
    assert res["summary"]["fidelity"]["level"] in {"good", "fair", "poor"}
    page = render_html(res)
    assert page.count('<svg class="chart"') == len(COLUMNS)


def test_copied_training_rows_fail_privacy(frames):
    copy = frames["train"].sample(frac=1.0, random_state=0).reset_index(drop=True)
    res = compute_report(frames["train"], copy, holdout=frames["holdout"], seed=0)
    priv = res["privacy"]
    assert priv["exact_copies"]["synthetic"] == pytest.approx(1.0)
    assert priv["exact_copies"]["level"] == "poor"
    assert priv["dcr_share"]["value"] > THRESHOLDS["dcr_share"]["fair"]
    assert res["summary"]["privacy"]["level"] == "poor"
    # A perfect copy is also perfectly faithful: the two sections must disagree.
    assert res["summary"]["fidelity"]["level"] == "good"


def test_anonymeter_absence_gives_a_clear_note(frames, monkeypatch):
    # A None entry in sys.modules makes "import anonymeter" raise ImportError.
    monkeypatch.setitem(sys.modules, "anonymeter", None)
    monkeypatch.setitem(sys.modules, "anonymeter.evaluators", None)
    res = compute_report(frames["train"], frames["synthetic"], holdout=frames["holdout"], seed=0)
    anon = res["privacy"]["anonymeter"]
    assert anon["available"] is False and anon["attacks"] == []
    assert "anonymeter" in anon["note"] and "not run" in anon["note"]
    assert anon["note"] in html_unescape(render_html(res))


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_file_paths_are_accepted(frames, tmp_path):
    frames["train"].to_csv(tmp_path / "real.csv", index=False)
    frames["synthetic"].to_csv(tmp_path / "synth.csv", index=False)
    res = report(tmp_path / "real.csv", str(tmp_path / "synth.csv"), output=tmp_path / "out.html")
    assert res["inputs"]["real_rows"] == 300
    assert (tmp_path / "out.html").is_file()
    with pytest.raises(DataError, match=r"missing\.csv"):
        compute_report(tmp_path / "missing.csv", frames["synthetic"])


def _order_lines(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = rng.normal(16 * 3600, 3 * 3600, size=400).clip(10 * 3600, 23 * 3600).round()
    stamps = pd.Timestamp("2015-01-01") + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame(
        {
            "order_id": [f"O-{seed}{i:05d}" for i in range(400)],
            "time": stamps.strftime("%H:%M:%S"),
            "price": rng.gamma(3.0, 5.0, size=400).round(2),
        }
    )


def test_text_times_are_measured_as_times_and_keys_are_left_out(tmp_path):
    # Two draws of one distribution, as text a CSV holds: hardly a time repeats between them.
    real, synthetic = _order_lines(0), _order_lines(1)
    res = report(real, synthetic, output=tmp_path / "orders.html")
    shapes = res["fidelity"]["column_shapes"]["columns"]
    assert set(shapes) == {"time", "price"}
    assert shapes["time"] > 0.9
    assert any("order_id" in note for note in res["inputs"]["notes"])
    assert re.search(r">1\d:\d\d<", (tmp_path / "orders.html").read_text())


def test_pandas_extension_dtypes(frames):
    train = frames["train"].astype({"city": "category", "kids": "Int64", "member": "boolean"})
    train["signup"] = train["signup"].dt.tz_localize("UTC")
    synth = frames["synthetic"].astype({"city": "string"})
    res = compute_report(train, synth, seed=0)
    assert res["fidelity"]["errors"] == []
    assert {c["chart"]["type"] for c in res["fidelity"]["columns"].values()} <= {
        "histogram",
        "datetime",
        "bars",
    }


# --------------------------------------------------------------------------------------------
# The page as a browser shows it
# --------------------------------------------------------------------------------------------


def _read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB(A) PNG into an (h, w, channels) uint8 array.

    Pillow is used when installed; the fallback is a small decoder, so the test needs nothing
    beyond numpy.
    """
    try:
        from PIL import Image

        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except ImportError:
        pass
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average or Paeth: each byte depends on the one to its left
            cur_list = [0] * stride
            ln, pv = line.tolist(), prev.tolist()
            for i in range(stride):
                left = cur_list[i - bpp] if i >= bpp else 0
                up = pv[i]
                if kind == 3:
                    pred = (left + up) >> 1
                else:
                    ul = pv[i - bpp] if i >= bpp else 0
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                cur_list[i] = (ln[i] + pred) & 0xFF
            cur = np.array(cur_list, dtype=np.int64)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)[:, :, :3]


def _near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 8) -> int:
    return int(np.all(np.abs(pixels.astype(int) - np.array(rgb)) <= tol, axis=-1).sum())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_page_renders_with_charts_in_headless_chromium(written, tmp_path):
    png = tmp_path / "page.png"
    page = (written["dir"] / "report.html").resolve()
    cmd = [
        shutil.which("chromium"),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1200,2000",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert png.is_file(), f"no screenshot; chromium said:\n{proc.stderr[-2000:]}"
    pixels = _read_png(png)
    assert pixels.shape[:2] == (2000, 1200)
    # Not blank: many distinct colours and real contrast.
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 100 and pixels.std() > 10
    # The charts are drawn: real bars (blue at 55% over white) and synthetic (orange) show up.
    assert _near(pixels, (147, 176, 215)) > 2000, "no real-data bars in the screenshot"
    assert _near(pixels, (224, 123, 37)) > 1000, "no synthetic bars or lines in the screenshot"
    # The verdict badges (green / amber / red / grey) are there too.
    badge_colours = [(30, 138, 76), (201, 138, 0), (192, 57, 43), (127, 136, 148)]
    assert sum(_near(pixels, c, 4) for c in badge_colours) > 300


def test_a_duration_column_is_measured_and_drawn_as_lengths_of_time(frames):
    rng = np.random.default_rng(5)
    train, synthetic = frames["train"].copy(), frames["synthetic"].copy()
    train["wait"] = pd.to_timedelta(rng.gamma(2.0, 10.0, len(train)), unit="min").round("s")
    synthetic["wait"] = train["wait"].sample(frac=1.0, random_state=0).to_numpy()
    results = compute_report(train, synthetic, seed=0)
    wait = results["fidelity"]["columns"]["wait"]
    assert wait["score"] == pytest.approx(1.0)
    assert wait["chart"]["type"] == "histogram"  # of seconds, not a bar per value
    assert wait["chart"]["edges"][0] == pytest.approx(train["wait"].min().total_seconds())
    assert "wait" in render_html(results)
