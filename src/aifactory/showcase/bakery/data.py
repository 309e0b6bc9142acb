"""Loading and validating a daily sales table (+ optional weather and event calendar).

The canonical frame used downstream has the columns ``date`` (datetime64, midnight), ``group`` (str) and
``demand`` (float). A missing (day, group) row means "shop closed / unknown", never zero demand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

KIEL_GROUP_NAMES = {
    "1": "Brot",
    "2": "Brötchen",
    "3": "Croissant",
    "4": "Konditorei",
    "5": "Kuchen",
    "6": "Saisonbrot",
}
WEATHER_COLUMNS = ("Temperatur", "Bewoelkung", "Windgeschwindigkeit")
EVENT_COLUMN = "KielerWoche"


class BakeryDataError(ValueError):
    """The input data is unusable; the message names the column or row at fault."""


@dataclass(frozen=True)
class DataConfig:
    date_col: str = "Datum"
    product_col: str = "Warengruppe"
    value_col: str = "Umsatz"
    group_names: dict[str, str] = field(default_factory=lambda: dict(KIEL_GROUP_NAMES))


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


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix)."""
    p = Path(path)
    if not p.is_file():
        raise BakeryDataError(f"{p}: no such file")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    return pd.read_csv(p)


def _require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BakeryDataError(
            f"{what}: missing column(s) {', '.join(map(repr, missing))}; found {list(map(str, df.columns))}"
        )


def _parse_dates(values: pd.Series, col: str, what: str) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise BakeryDataError(
            f"{what}: column {col!r} row {row + 1}: unparseable date {values.iloc[row]!r} "
            f"({int(bad.sum())} bad date(s) in total)"
        )
    return parsed.dt.normalize().astype("datetime64[ns]")


def _parse_numbers(values: pd.Series, col: str, what: str, allow_missing: bool) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & (values.notna() if allow_missing else True)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise BakeryDataError(f"{what}: column {col!r} row {row + 1}: not a number: {values.iloc[row]!r}")
    return num.astype(float)


def validate_sales(df: pd.DataFrame, cfg: DataConfig = DataConfig()) -> tuple[pd.DataFrame, int]:
    """Canonical (date, group, demand) frame and the number of missing days (a warning, not an error)."""
    what = "sales"
    _require_columns(df, [cfg.date_col, cfg.product_col, cfg.value_col], what)
    if df.empty:
        raise BakeryDataError(f"{what}: the table has no rows")
    dates = _parse_dates(df[cfg.date_col], cfg.date_col, what)
    values = _parse_numbers(df[cfg.value_col], cfg.value_col, what, allow_missing=False)
    neg = values < 0
    if neg.any():
        row = int(neg.to_numpy().nonzero()[0][0])
        raise BakeryDataError(
            f"{what}: column {cfg.value_col!r} row {row + 1}: negative value {values.iloc[row]} "
            f"({int(neg.sum())} negative value(s) in total)"
        )
    products = df[cfg.product_col]
    if products.isna().any():
        row = int(products.isna().to_numpy().nonzero()[0][0])
        raise BakeryDataError(f"{what}: column {cfg.product_col!r} row {row + 1}: empty product")
    groups = products.astype(str).str.replace(r"\.0$", "", regex=True)
    out = pd.DataFrame({"date": dates.to_numpy(), "group": groups.to_numpy(), "demand": values.to_numpy()})
    dup = out.duplicated(["date", "group"], keep="first")
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise BakeryDataError(
            f"{what}: duplicated (date, product) row {row + 1}: "
            f"({out['date'].iloc[row].date()}, {out['group'].iloc[row]}) appears more than once"
        )
    out = out.sort_values(["group", "date"], kind="stable").reset_index(drop=True)
    return out, count_missing_days(out)


def count_missing_days(sales: pd.DataFrame) -> int:
    """Days between the first and last date on which no group has a row (shop closed or unknown)."""
    span = pd.date_range(sales["date"].min(), sales["date"].max(), freq="D")
    return int(len(span) - sales["date"].nunique())


def _validate_daily(df: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    _require_columns(df, ["Datum", *columns], what)
    out = pd.DataFrame({"date": _parse_dates(df["Datum"], "Datum", what).to_numpy()})
    for col in columns:
        out[col] = _parse_numbers(df[col], col, what, allow_missing=True).to_numpy()
    dup = out["date"].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise BakeryDataError(f"{what}: duplicated date in row {row + 1}: {out['date'].iloc[row].date()}")
    return out.set_index("date").sort_index()


def validate_weather(df: pd.DataFrame) -> pd.DataFrame:
    """Daily weather indexed by date: Temperatur, Bewoelkung, Windgeschwindigkeit (NaN allowed)."""
    return _validate_daily(df, list(WEATHER_COLUMNS), "weather")


def validate_events(df: pd.DataFrame) -> pd.DataFrame:
    """Event calendar indexed by date with a 0/1 KielerWoche column (listed days only)."""
    out = _validate_daily(df, [EVENT_COLUMN], "events")
    return out.fillna(0.0)


@dataclass
class BakeryInputs:
    sales: pd.DataFrame
    weather: pd.DataFrame | None
    events: pd.DataFrame | None
    missing_days: int
    sha256: dict[str, str]
    group_names: dict[str, str]


def load_inputs(
    sales: str | Path | None = None,
    weather: str | Path | None = None,
    events: str | Path | None = None,
    cfg: DataConfig = DataConfig(),
    use_defaults: bool = True,
) -> BakeryInputs:
    """Load and validate the files; with ``use_defaults`` missing paths fall back to the shipped Kiel data."""
    defaults = default_paths() if use_defaults else {}
    paths = {
        "sales": sales or defaults.get("sales"),
        "weather": weather or (defaults.get("weather") if sales is None else None),
        "events": events or (defaults.get("events") if sales is None else None),
    }
    if paths["sales"] is None:
        raise BakeryDataError("sales: no sales file given")
    sales_df, missing = validate_sales(read_table(paths["sales"]), cfg)
    weather_df = validate_weather(read_table(paths["weather"])) if paths["weather"] else None
    events_df = validate_events(read_table(paths["events"])) if paths["events"] else None
    sha = {k: file_sha256(v) for k, v in paths.items() if v is not None}
    names = {g: cfg.group_names.get(g, g) for g in sorted(sales_df["group"].unique())}
    return BakeryInputs(sales_df, weather_df, events_df, missing, sha, names)
