"""Results on disk: each notebook's JSON sidecar, and the scorecard gathered from them."""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

import pandas as pd

from .atomic import write_json_atomic, write_text_atomic
from .attainment import Assessment
from .config import GROUP_ORDER
from .errors import BrandstatsError
from .units import display_unit

__all__ = [
    "describe",
    "load_scorecard",
    "provenance",
    "read_results",
    "result_table",
    "scorecard_display",
    "write_result",
    "write_scorecard",
]

SCORECARD_COLUMNS = [
    "group", "indicator", "region", "name_en", "name_zh", "comparison", "target",
    "target_year", "unit", "as_of", "last_year", "last_value", "model", "probability",
    "verdict", "progress_category", "progress_ratio", "still_required_growth",
    "forecast_median", "forecast_lower", "forecast_upper", "level", "actual", "met",
    "illustrative", "reason", "run_name",
]  # fmt: skip


def write_result(result: Assessment, output_dir: str | os.PathLike[str], run_name: str) -> Path:
    """Write ``result.to_dict()`` (plus ``run_name``) to ``output_dir/run_name.json`` atomically."""
    path = Path(output_dir) / f"{run_name}.json"
    return write_json_atomic(path, {"run_name": run_name, **result.to_dict()})


def read_results(results_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Gather the JSON results of a batch into the scorecard table.

    One row per result file (other JSON files, such as batch reports, are skipped), sorted by
    the plan's goals (product, service, enterprise, quality), then indicator, region, vintage.
    """
    folder = Path(results_dir)
    rows = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BrandstatsError(f"{path}: not a readable result file ({exc})") from None
        if not isinstance(record, dict) or "indicator" not in record:
            continue  # batch reports and the scorecard's own summary
        rows.append({c: record.get(c) for c in SCORECARD_COLUMNS})
    table = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    if table.empty:
        return table
    order = table["group"].map({g: i for i, g in enumerate(GROUP_ORDER)}).fillna(len(GROUP_ORDER))
    table = table.assign(_order=order).sort_values(
        ["_order", "indicator", "region", "as_of", "run_name"], na_position="first"
    )
    for col in ("probability", "progress_ratio", "target", "last_value", "actual"):
        table[col] = pd.to_numeric(table[col])
    return table.drop(columns="_order").reset_index(drop=True)


def write_scorecard(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the scorecard table as CSV (UTF-8 with BOM, so Excel shows Chinese) atomically."""
    return write_text_atomic(path, "\ufeff" + table.to_csv(index=False, lineterminator="\n"))


def _fmt(value: float, unit: str, language: str) -> str:
    divisor, label = display_unit(unit, language)
    return f"{value / divisor:,.4g} {label}"


# The sentences of describe(), per language; fields are filled with str.format.
_TEXT = {
    "en": {
        "illustrative": "**ILLUSTRATIVE DATA: this result uses made-up figures; "
        "it is not a real assessment.**",
        "probability": "Target {target} by {year}: P(met) = **{p}** ({verdict}).",
        "outcome": "Target {target} by {year}: **{verdict}**{reason}.",
        "latest": "Latest observation: {value} in {year}.",
        "progress": "Progress since {base}: observed {observed}, required {required}, "
        "R = {ratio}: **{category}**.",
        "still": " Still required from {year}: {rate}.",
        "backtest": "Backtest: {before} of past actuals fell in the {level} intervals",
        "widened": "; intervals widened x{k:.2f} (then {after})",
        "retro": "Retrospective: the {year} value was {bound}{value}; target {outcome}",
        "pointed": "; the projection as of {as_of} {way}",
        "per_year": "%/yr", "per_year_abs": " per year",
        "at least": "at least ", "at most": "at most ",
        True: "met", False: "not met", None: "unknown (a bound)",
        "right": "pointed the right way", "wrong": "pointed the wrong way",
    },
    "zh": {
        "illustrative": "**示意数据：以下结果基于虚构数值，并非真实评估。**",
        "probability": "目标 {target}（{year}年）：达成概率 **{p}**（{verdict}）。",
        "outcome": "目标 {target}（{year}年）：**{verdict}**{reason}。",
        "latest": "最新观测：{year}年 {value}。",
        "progress": "自{base}年以来：实际年均增长 {observed}，所需 {required}，"
        "比值 R = {ratio}：**{category}**。",
        "still": "自{year}年起仍需年均 {rate}。",
        "backtest": "回测：{before}的历史实际值落在{level}区间内",
        "widened": "；区间已放宽 {k:.2f} 倍（放宽后 {after}）",
        "retro": "回顾：{year}年实际值为{bound}{value}；目标{outcome}",
        "pointed": "；{as_of}年的预测方向{way}",
        "per_year": "%/年", "per_year_abs": "/年",
        "at least": "至少 ", "at most": "至多 ",
        True: "已达成", False: "未达成", None: "未知（仅有界值）",
        "right": "正确", "wrong": "错误",
    },
}  # fmt: skip


def describe(result: Assessment, language: str = "en") -> str:
    """A few lines of Markdown that say what the assessment found, for notebooks and reports.

    Verdict and category words stay in English (they are the calibrated scales' own terms).
    """
    t = _TEXT["zh" if language == "zh" else "en"]
    target = f"{result.comparison} {_fmt(result.target, result.unit, language)}"
    lines = [t["illustrative"]] if result.illustrative else []
    if result.probability is not None:
        p = f"{result.probability:.0%}"
        lines.append(t["probability"].format(target=target, year=result.target_year, p=p,
                                             verdict=result.verdict))  # fmt: skip
    else:
        reason = f" ({html.escape(result.reason)})" if result.reason else ""
        lines.append(t["outcome"].format(target=target, year=result.target_year,
                                         verdict=result.verdict, reason=reason))  # fmt: skip
    lines.append(t["latest"].format(value=_fmt(result.last_value, result.unit, language),
                                    year=result.last_year))  # fmt: skip
    pr = result.progress
    if pr is not None:
        compound = pr.kind == "compound"

        def rate(x: float) -> str:
            return f"{x * 100:.1f}{t['per_year']}" if compound else f"{x:,.3g}{t['per_year_abs']}"

        text = t["progress"].format(
            base=pr.base_year, observed=rate(pr.observed_growth),
            required=rate(pr.required_growth),
            ratio="n/a" if math.isnan(pr.ratio) else f"{pr.ratio:.2f}", category=pr.category,
        )  # fmt: skip
        if not math.isnan(pr.still_required_growth):
            text += t["still"].format(year=pr.last_year, rate=rate(pr.still_required_growth))
        lines.append(text)
    if result.coverage:
        level = max(result.coverage)
        before, after = result.coverage[level]
        if not math.isnan(before):  # there was a backtest
            text = t["backtest"].format(before=f"{before:.0%}", level=f"{level:.0%}")
            if result.widening and result.widening > 1:
                text += t["widened"].format(k=result.widening, after=f"{after:.0%}")
            lines.append(text + ("。" if language == "zh" else "."))
    if result.actual is not None and result.as_of is not None:
        bound = {"lower_bound": t["at least"], "upper_bound": t["at most"]}.get(
            result.actual_qualifier or "", ""
        )
        text = t["retro"].format(year=result.target_year, bound=bound,
                                 value=_fmt(result.actual, result.unit, language),
                                 outcome=t[result.met])  # fmt: skip
        if result.pointed_right_way is not None:
            way = t["right" if result.pointed_right_way else "wrong"]
            text += t["pointed"].format(as_of=result.as_of, way=way)
        lines.append(text + ("。" if language == "zh" else "."))
    return "\n\n".join(lines)


def provenance(
    observations: pd.DataFrame, indicator: str, region: str, *, as_of: int | None = None
) -> pd.DataFrame:
    """The observed series with each figure's qualifier and source, in display units.

    ``used`` says whether the figure is within the vintage (``as_of``); later figures are
    shown for the record but never reach a model.
    """
    rows = observations.loc[
        (observations["indicator"] == indicator) & (observations["region"] == region)
    ]
    unit = rows["unit"].iloc[0] if len(rows) else "count"
    divisor, label = display_unit(unit)
    return pd.DataFrame(
        {
            "year": rows["year"],
            f"value ({label})": rows["value"] / divisor,
            "qualifier": rows["qualifier"].str.replace("illustrative", "ILLUSTRATIVE"),
            "used": True if as_of is None else rows["year"] <= as_of,
            "source": rows["source"],
        }
    ).reset_index(drop=True)


def result_table(result: Assessment) -> pd.DataFrame:
    """The flat result record as a two-column table (field, value) for display."""
    row = result.row()
    return pd.DataFrame({"field": list(row), "value": [str(v) for v in row.values()]})


def load_scorecard(
    results_dir: str | os.PathLike[str],
    *,
    language: str = "en",
    output_dir: str | os.PathLike[str] = "",
    run_name: str = "",
) -> pd.DataFrame:
    """Read a batch's results and write ``scorecard.csv`` (to ``output_dir`` or beside them).

    Returns the table of :func:`read_results`; ``table.attrs["path"]`` is the CSV written.
    With ``run_name``, a short JSON summary goes to ``<output_dir>/<run_name>.json`` too.
    """
    table = read_results(results_dir)
    if table.empty:
        raise BrandstatsError(f"{results_dir}: no result files (*.json) to gather")
    folder = Path(output_dir or results_dir)
    path = write_scorecard(table, folder / "scorecard.csv")
    if run_name:
        write_json_atomic(
            folder / f"{run_name}.json",
            {"scorecard": str(path), "results": len(table),
             "illustrative": int((table["illustrative"] == True).sum())},  # noqa: E712
        )  # fmt: skip
    table.attrs["path"] = str(path)
    table.attrs["language"] = language
    return table


def scorecard_display(table: pd.DataFrame, *, language: str = "en") -> pd.DataFrame:
    """The scorecard as readable text columns (HTML output escapes every cell)."""
    name = table["name_zh"] if language == "zh" else table["name_en"]
    target = [
        f"{r.comparison} {_fmt(r.target, r.unit, language)} ({r.target_year})"
        for r in table.itertuples()
    ]
    probability = table["probability"].map(lambda p: "n/a" if pd.isna(p) else f"{p:.0%}")
    flag = table["illustrative"].map(lambda x: "ILLUSTRATIVE" if x is True else "")
    return pd.DataFrame(
        {
            "goal": table["group"],
            "target": name,
            "region": table["region"],
            "as of": table["as_of"].fillna("all"),
            "threshold": target,
            "P(met)": probability,
            "verdict": table["verdict"],
            "progress": table["progress_category"],
            "data": flag,
        }
    )
