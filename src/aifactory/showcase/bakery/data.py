"""Loading and validating a daily sales table (+ optional weather and event tables).

The canonical frame used downstream has the columns ``date`` (datetime64, midnight), ``group`` (str: the
product) and ``demand`` (float). A missing (day, product) row means "shop closed / unknown", never zero demand.

Formats: CSV (comma, tab or semicolon separated; a semicolon-separated file is read with decimal commas, as
German spreadsheets write it) or Parquet. Weather and event tables have one row per day: the date column is the
sales table's ``date_col`` where they have it, else their first column; every other numeric column is a
feature (an event table lists event days with 1, or any number; days it does not list count as 0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .dates import DateError, parse_dates

KIEL_GROUP_NAMES = {
    "1": "Brot",
    "2": "Brötchen",
    "3": "Croissant",
    "4": "Konditorei",
    "5": "Kuchen",
    "6": "Saisonbrot",
}
DUPLICATES = ("sum", "refuse")


class BakeryDataError(ValueError):
    """The input data is unusable; the message names the column and line at fault."""


@dataclass(frozen=True)
class DataConfig:
    date_col: str = "Datum"
    product_col: str = "Warengruppe"
    value_col: str = "Umsatz"  # '' = every row is one item sold (a list of sales), counted per day and product
    date_format: str = ""  # '' = ISO 8601 or 31.03.2024 (detected); else a strftime layout such as %d/%m/%Y
    duplicates: str = "sum"  # rows sharing a (date, product): 'sum' them, or 'refuse' the table


@dataclass(frozen=True)
class Table:
    """A file as read, with how to name its rows in errors (a CSV's line numbers count the header)."""

    frame: pd.DataFrame
    path: Path
    csv: bool

    def where(self, i: int) -> str:
        return f"line {i + 2}" if self.csv else f"row {i + 1}"


@dataclass(frozen=True)
class SalesFacts:
    input_rows: int
    summed_rows: int  # rows added to another row of the same (date, product)
    missing_days: int  # days in the date range without any row (closed or unknown)
    whole_numbers: bool  # every value is a whole number (counts of pieces)


@dataclass(frozen=True)
class DailyTable:
    """Weather or events: numeric columns indexed by date, and the columns left out with the reason."""

    frame: pd.DataFrame
    ignored: dict[str, str]


@dataclass(frozen=True)
class BakeryInputs:
    sales: pd.DataFrame
    facts: SalesFacts
    weather: DailyTable | None
    events: DailyTable | None
    files: dict[str, str]  # input name -> file name
    sha256: dict[str, str]  # input name -> sha256 of its file
    group_names: dict[str, str]  # group -> display name
    shipped: bool  # the Kiel data shipped with the package


def shipped_data_path(name: str) -> Path:
    """Path of a file shipped in the package's ``data`` folder (the Kiel data set)."""
    return Path(str(resources.files("aifactory.showcase.bakery") / "data" / name))


def default_paths() -> dict[str, Path]:
    return {
        "sales": shipped_data_path("umsatzdaten_gekuerzt.csv"),
        "weather": shipped_data_path("wetter.csv"),
        "events": shipped_data_path("kiwo.csv"),
    }


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_table(path: str | Path, what: str) -> Table:
    """A CSV or Parquet file (by suffix), or a folder holding exactly one; a CSV's separator is detected from
    its header line."""
    p = _single_table(Path(path), what)
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return Table(pd.read_parquet(p), p, csv=False)
        with p.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
        sep = "\t" if "\t" in header else ";" if header.count(";") > header.count(",") else ","
        frame = pd.read_csv(p, sep=sep, decimal="," if sep == ";" else ".", encoding="utf-8-sig", dtype=str)
    except (OSError, ValueError, ImportError) as exc:
        raise BakeryDataError(f"{what}: {p.name}: not a readable CSV or Parquet file ({exc})") from exc
    return Table(_numbers_where_possible(frame, decimal="," if sep == ";" else "."), p, csv=True)


def _single_table(p: Path, what: str) -> Path:
    """The file itself, or the one table in a folder (a dataset may be a folder)."""
    if p.is_dir():
        tables = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in (".csv", ".parquet", ".pq"))
        if len(tables) != 1:
            raise BakeryDataError(f"{what}: {p} is a folder with {len(tables)} CSV or Parquet files; name one")
        return tables[0]
    if not p.is_file():
        raise BakeryDataError(f"{what}: {p}: no such file")
    return p


def _numbers_where_possible(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """CSV columns were read as text (so dates keep their layout): numbers become numbers where all are."""
    out = frame.copy()
    for col in out.columns:
        text = out[col].str.strip()
        num = pd.to_numeric(text.str.replace(",", ".") if decimal == "," else text, errors="coerce")
        if num.notna().sum() == text.notna().sum():
            out[col] = num
    return out


def _require_columns(table: Table, wanted: dict[str, str], what: str) -> None:
    """``wanted``: parameter -> column; a missing one is named with the parameter that sets it."""
    missing = [f"{col!r} ({param})" for param, col in wanted.items() if col not in table.frame.columns]
    if missing:
        found = ", ".join(repr(str(c)) for c in table.frame.columns)
        raise BakeryDataError(f"{what}: no column {', '.join(missing)}; {table.path.name} has {found}")


def _dates(table: Table, col: str, fmt: str, what: str) -> pd.Series:
    try:
        return parse_dates(table.frame[col], fmt, table.where)
    except DateError as exc:
        raise BakeryDataError(f"{what}: column {col!r} {exc}") from exc


def _values(table: Table, col: str, what: str) -> np.ndarray:
    raw = table.frame[col]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        shown = "an empty value" if pd.isna(raw.iloc[i]) else f"not a number: {raw.iloc[i]!r}"
        raise BakeryDataError(f"{what}: column {col!r} {table.where(i)}: {shown} (leave out a day that is unknown)")
    neg = num < 0
    if neg.any():
        i = int(neg.nonzero()[0][0])
        raise BakeryDataError(
            f"{what}: column {col!r} {table.where(i)}: negative value {num[i]:g} ({int(neg.sum())} in total); "
            f"sales cannot be negative: net returns and corrections out of the day's sales first"
        )
    return num


def _products(table: Table, col: str, what: str) -> np.ndarray:
    text = table.frame[col].astype("string").str.strip().str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    empty = (text.isna() | (text == "")).to_numpy()
    if empty.any():
        i = int(empty.nonzero()[0][0])
        raise BakeryDataError(f"{what}: column {col!r} {table.where(i)}: no product named")
    return text.to_numpy(dtype=str)


def validate_sales(table: Table, cfg: DataConfig = DataConfig()) -> tuple[pd.DataFrame, SalesFacts]:
    """Canonical (date, group, demand) frame, one row per (date, product), and what was found on the way."""
    what = "sales"
    wanted = {"date_col": cfg.date_col, "product_col": cfg.product_col}
    if cfg.value_col:
        wanted["value_col"] = cfg.value_col
    _require_columns(table, wanted, what)
    if table.frame.empty:
        raise BakeryDataError(f"sales: {table.path.name} has no rows")
    dates = _dates(table, cfg.date_col, cfg.date_format, what)
    values = _values(table, cfg.value_col, what) if cfg.value_col else np.ones(len(table.frame))
    rows = pd.DataFrame({"date": dates.to_numpy(), "group": _products(table, cfg.product_col, what), "demand": values})
    repeated = rows.duplicated(["date", "group"], keep="first").to_numpy()
    if repeated.any() and cfg.duplicates == "refuse" and cfg.value_col:
        i = int(repeated.nonzero()[0][0])
        first = int(((rows["date"] == rows["date"].iloc[i]) & (rows["group"] == rows["group"].iloc[i])).idxmax())
        raise BakeryDataError(
            f"sales: product {rows['group'].iloc[i]!r} on {rows['date'].iloc[i].date()} appears on "
            f"{table.where(first)} and {table.where(i)} ({int(repeated.sum())} repeated row(s)); give one row per "
            f"day and product, or set duplicates=sum to add such rows up"
        )
    daily = rows.groupby(["group", "date"], sort=True)["demand"].sum().reset_index()
    daily = daily.reindex(columns=["date", "group", "demand"])
    facts = SalesFacts(
        input_rows=len(rows),
        summed_rows=int(repeated.sum()),
        missing_days=count_missing_days(daily),
        whole_numbers=bool(np.all(np.mod(values, 1.0) == 0)),
    )
    return daily, facts


def count_missing_days(sales: pd.DataFrame) -> int:
    """Days between the first and last date on which no product has a row (shop closed or unknown)."""
    span = pd.date_range(sales["date"].min(), sales["date"].max(), freq="D")
    return int(len(span) - sales["date"].nunique())


def validate_daily(table: Table, date_col: str, date_format: str, what: str) -> DailyTable:
    """One row per day; the numeric columns (NaN where empty) and the other columns as ignored."""
    frame = table.frame
    if frame.empty or len(frame.columns) < 2:
        raise BakeryDataError(f"{what}: {table.path.name} needs a date column and at least one more column")
    col = date_col if date_col in frame.columns else str(frame.columns[0])
    dates = _dates(table, col, date_format, what)
    repeated = dates.duplicated().to_numpy()
    if repeated.any():
        i = int(repeated.nonzero()[0][0])
        raise BakeryDataError(f"{what}: {table.where(i)}: the date {dates.iloc[i].date()} appears twice")
    out = pd.DataFrame(index=pd.DatetimeIndex(dates.to_numpy(), name="date"))
    ignored: dict[str, str] = {}
    for name in frame.columns:
        if name == col:
            continue
        values = frame[name]
        if not pd.api.types.is_numeric_dtype(values):
            ignored[str(name)] = "not_numeric"
        elif values.notna().sum() == 0:
            ignored[str(name)] = "empty"
        else:
            out[str(name)] = values.to_numpy(dtype=float)
    if out.columns.empty:
        raise BakeryDataError(f"{what}: {table.path.name} has no numeric column besides the date {col!r}")
    return DailyTable(out.sort_index(), ignored)


def load_inputs(
    sales: str | Path | None = None,
    weather: str | Path | None = None,
    events: str | Path | None = None,
    cfg: DataConfig = DataConfig(),
) -> BakeryInputs:
    """Load and validate the files; without a sales file, the shipped Kiel data (sales, weather, events)."""
    shipped = sales is None
    defaults = default_paths()
    sales_path = Path(sales or defaults["sales"])
    extra = {
        "weather": weather or (defaults["weather"] if shipped else None),
        "events": events or (defaults["events"] if shipped else None),
    }
    sales_df, facts = validate_sales(read_table(sales_path, "sales"), cfg)
    tables = {
        name: validate_daily(read_table(path, name), cfg.date_col, cfg.date_format, name)
        for name, path in extra.items()
        if path is not None
    }
    given = {"sales": sales_path, **{k: Path(v) for k, v in extra.items() if v is not None}}
    names = KIEL_GROUP_NAMES if shipped else {}
    return BakeryInputs(
        sales=sales_df,
        facts=facts,
        weather=tables.get("weather"),
        events=tables.get("events"),
        files={k: p.name for k, p in given.items()},
        sha256={k: file_sha256(p) for k, p in given.items()},
        group_names={g: names.get(g, g) for g in sorted(sales_df["group"].unique())},
        shipped=shipped,
    )
