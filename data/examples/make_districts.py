"""Builds the ILLUSTRATIVE district example: the plan's high-tech target split over Jinan's
districts (districts_targets.csv, districts_observations.csv).

Nothing here is a published 责任分解 or a published district figure: the split of the 2022
target, the districts' shares and their figures are MADE UP so that a district batch can be
run and read. Only the city's rows (Jinan) are real, copied with their sources from
data/public_figures.csv; the districts' figures add up to them in 2018, 2019 and 2021.
Run from the repository root: ``python data/examples/make_districts.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
MADE_UP = "ILLUSTRATIVE: made up for the district example, not a published figure"

# made-up shares of the city's count, 2016 -> 2021 (天桥区 falls behind its sub-target)
SHARES = {
    "历下区": (0.22, 0.23),
    "市中区": (0.12, 0.125),
    "槐荫区": (0.10, 0.105),
    "天桥区": (0.11, 0.07),
    "历城区": (0.19, 0.20),
}
REST = "其他区县"  # the other seven districts and counties of Jinan, together
# 4,600 in all: more than the city's 4,400
SUB_TARGETS = {"历下区": 1050, "市中区": 560, "槐荫区": 470, "天桥区": 420, "历城区": 900,
               REST: 1200}  # fmt: skip
# the city's total: real in 2018, 2019, 2021 (public_figures.csv); made up in 2016, 2017, 2020
CITY = {2016: 1020, 2017: 1210, 2018: 1547, 2019: 2231, 2020: 3560, 2021: 4397}
REAL_YEARS = (2018, 2019, 2021)
PLAN_EN = "ILLUSTRATIVE district example: the high-tech target of Jinan's brand plan"
PLAN_ZH = "示意：济南市品牌战略行动计划高新技术企业目标的区县分解"


def main() -> None:
    with (ROOT / "targets.csv").open(encoding="utf-8") as f:
        catalogue = list(csv.DictReader(f))
    plan = next(r for r in catalogue if r["indicator"] == "high_tech_enterprises")
    labels = next(r for r in catalogue if r["group"] == plan["group"] and r["group_en"])
    city = {"parent": "", "group_en": labels["group_en"], "group_zh": labels["group_zh"],
            "plan_en": PLAN_EN, "plan_zh": PLAN_ZH}  # fmt: skip
    targets = [{**plan, **city}]
    for region, target in SUB_TARGETS.items():
        targets.append({**plan, "region": region, "parent": "Jinan", "target": target,
                        "source": f"{MADE_UP} (a split of the city's target)",
                        "group_en": "", "group_zh": "", "plan_en": "", "plan_zh": ""})  # fmt: skip
    for row in targets:
        row["name_en"] = "Valid high-tech enterprises (ILLUSTRATIVE district split)"
        row["name_zh"] = "有效高新技术企业数量（示意：区县分解）"
    write(HERE / "districts_targets.csv", targets)

    rows = []
    years = sorted(CITY)
    for year in years:
        t = (year - years[0]) / (years[-1] - years[0])
        counts = {r: round(CITY[year] * (a + (b - a) * t)) for r, (a, b) in SHARES.items()}
        counts[REST] = CITY[year] - sum(counts.values())
        rows += [{"indicator": "high_tech_enterprises", "region": r, "year": year, "value": v,
                  "unit": "firms", "qualifier": "illustrative", "source": MADE_UP}
                 for r, v in counts.items()]  # fmt: skip
    with (ROOT / "public_figures.csv").open(encoding="utf-8") as f:
        city = [r for r in csv.DictReader(f) if r["indicator"] == "high_tech_enterprises"
                and r["region"] == "Jinan" and int(r["year"]) in REAL_YEARS]  # fmt: skip
    rows += [{k: r[k] for k in ("indicator", "region", "year", "value", "unit", "qualifier",
                                "source")} for r in city]  # fmt: skip
    write(HERE / "districts_observations.csv", rows)


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
