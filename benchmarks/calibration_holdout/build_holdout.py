"""Build the calibration hold-out set (real official targets with known outcomes) from fetched CSVs.

Every series value comes from a fetched public file named on the command line; the targets come
from the official texts quoted in ``TARGET_SOURCES`` (and, for the EU national targets, are
cross-checked against a machine-readable copy of the Commission's Europe 2020 targets table).
The script writes ``cases.csv``, ``targets.csv`` and ``case_notes.csv`` next to itself (or to
``--out``); see README.md for the families, the precision rules and the caveats.

Usage::

    python benchmarks/calibration_holdout/build_holdout.py \\
        --wdi WDI_DIR --eurostat-ren NRG_IND_REN_CSV --targets-table TABLE_CSV [--out DIR]

``WDI_DIR`` holds ``<code>/data.csv`` for each World Development Indicators code used here, as
in ``indicators/`` of github:datasets/world-development-indicators; ``NRG_IND_REN_CSV`` is the
Eurostat SDMX-CSV extract of ``nrg_ind_ren``; ``TABLE_CSV`` is ``static/python/table.csv`` of
github:rockdonald2/europa2020visualization. README.md gives the commits and the commands that
extract these files from the fetched repositories.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent

WDI_REPO = "github:datasets/world-development-indicators"
WDI_COMMIT = "4ebec5a2273f531ba238a34dbe440394dc5a6c4b"
REN_REPO = "github:tismiracle/Share-of-energy-from-renewable-sources--nrg_ind_share-"
REN_COMMIT = "96fc42dc087ba8ddf0c952df4e8b8d3d78f5f544"
TABLE_REPO = "github:rockdonald2/europa2020visualization"
TABLE_COMMIT = "ad85a8341e1b8f65c24ad14ccc009aff37380723"

# Eurostat geo codes -> names (labels only; no values).
GEO_NAMES = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "EL": "Greece",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IT": "Italy",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "EU27_2020": "European Union (27 countries, from 2020)",
    "NO": "Norway",
    "IS": "Iceland",
    "AL": "Albania",
    "BA": "Bosnia and Herzegovina",
    "XK": "Kosovo",
    "MK": "North Macedonia",
    "MD": "Moldova",
    "ME": "Montenegro",
    "RS": "Serbia",
}
# Eurostat geo code -> ISO3 used by WDI, for the EU Member States.
EU_ISO3 = {
    "AT": "AUT",
    "BE": "BEL",
    "BG": "BGR",
    "CY": "CYP",
    "CZ": "CZE",
    "DE": "DEU",
    "DK": "DNK",
    "EE": "EST",
    "EL": "GRC",
    "ES": "ESP",
    "FI": "FIN",
    "FR": "FRA",
    "HR": "HRV",
    "HU": "HUN",
    "IE": "IRL",
    "IT": "ITA",
    "LT": "LTU",
    "LU": "LUX",
    "LV": "LVA",
    "MT": "MLT",
    "NL": "NLD",
    "PL": "POL",
    "PT": "PRT",
    "RO": "ROU",
    "SE": "SWE",
    "SI": "SVN",
    "SK": "SVK",
}

# ---------------------------------------------------------------------------------------------
# Targets, from the official texts (quoted in ``source``).
# ---------------------------------------------------------------------------------------------
NATO_QUOTE = (
    "Wales Summit Declaration, NATO Press Release (2014) 120, 5 September 2014, para. 14 "
    "(Defence Investment Pledge): 'Allies whose current proportion of GDP spent on defence is "
    "below this level will: halt any decline in defence expenditure; aim to increase defence "
    "expenditure in real terms as GDP grows; aim to move towards the 2% guideline within a "
    "decade'; target = 2% of GDP in 2024 (a decade after 2014) for each Ally below 2% in 2014"
)
NATO_ALLIES_BELOW_2PCT_IN_2014 = (
    "ALB",
    "BEL",
    "BGR",
    "CAN",
    "CZE",
    "DEU",
    "DNK",
    "ESP",
    "EST",
    "FRA",
    "HRV",
    "HUN",
    "ITA",
    "LTU",
    "LUX",
    "LVA",
    "NLD",
    "NOR",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "TUR",
)

EU2020_RD_QUOTE = (
    "Europe 2020 strategy, European Council conclusions of 17 June 2010 (EUCO 13/10): "
    "'improving the conditions for research and development, in particular with the aim of "
    "bringing combined public and private investment levels in this sector to 3% of GDP', "
    "translated into national targets in the National Reform Programmes; national target as in "
    "the European Commission's table 'Europe 2020 targets' "
    "(ec.europa.eu/europe2020/pdf/targets_en.pdf; Eurostat t2020_20 national targets): {geo} {t}%"
)
# Europe 2020 national R&D targets, % of GDP (Czechia's target covers the public sector only
# and the UK set none: both left out).
EU2020_RD_TARGETS = {
    "AT": 3.76,
    "BE": 3.0,
    "BG": 1.5,
    "CY": 0.5,
    "DE": 3.0,
    "DK": 3.0,
    "EE": 3.0,
    "EL": 1.2,
    "ES": 2.0,
    "FI": 4.0,
    "FR": 3.0,
    "HR": 1.4,
    "HU": 1.8,
    "IE": 2.0,
    "IT": 1.53,
    "LT": 1.9,
    "LU": 2.3,
    "LV": 1.5,
    "MT": 2.0,
    "NL": 2.5,
    "PL": 1.7,
    "PT": 2.7,
    "RO": 2.0,
    "SE": 4.0,
    "SI": 3.0,
    "SK": 1.2,
}
EU2020_RD_NOTES = {
    "EL": "April-2011 NRP table listed Greece's R&D target as 'to be revised'; 1.2% set later.",
    "ES": "April-2011 NRP table listed Spain's R&D target as 3%; later revised to 2% (used).",
    "IE": "Ireland's target is stated as 2.5% of GNP, 'approximately 2.0% of GDP' (used).",
    "HR": "Croatia joined the EU in 2013; its target dates from accession (as_of 2013).",
    "AT": "Cross-check table rounds Austria's 3.76% to 3.8%; the NRP value 3.76% is used.",
    "IT": "Cross-check table rounds Italy's 1.53% to 1.5%; the NRP value 1.53% is used.",
}
LISBON_QUOTE = (
    "Barcelona European Council, 15-16 March 2002, Presidency Conclusions para. 47: 'overall "
    "spending on R&D and innovation in the Union should be increased with the aim of "
    "approaching 3% of GDP by 2010'"
)
EU2020_EU_QUOTE = (
    "Europe 2020 strategy, European Council conclusions of 17 June 2010 (EUCO 13/10), EU "
    "headline target: 'bringing combined public and private investment levels in this sector to "
    "3% of GDP' by 2020"
)

RED_QUOTE = (
    "Directive 2009/28/EC of 23 April 2009 on the promotion of the use of energy from renewable "
    "sources, Article 3(1) and Annex I Part A 'National overall targets for the share of energy "
    "from renewable sources in gross final consumption of energy in 2020': {geo} {t}%"
)
RED_HR_QUOTE = (
    "Act concerning the conditions of accession of the Republic of Croatia (OJ L 112, "
    "24.4.2012), adaptation of Directive 2009/28/EC, Annex I Part A: Croatia 20%"
)
RED_EU_QUOTE = (
    "Directive 2009/28/EC, Article 3(1): 'Such mandatory national overall targets are consistent "
    "with a target of at least a 20 % share of energy from renewable sources in the Community's "
    "gross final consumption of energy in 2020'"
)
EEA_QUOTE = (
    "EEA Joint Committee Decision No 162/2011 of 19 December 2011 incorporating Directive "
    "2009/28/EC into the EEA Agreement (adaptation of Annex I Part A): {geo} {t}%"
)
ENC_QUOTE = (
    "Energy Community Ministerial Council Decision D/2012/04/MC-EnC of 18 October 2012 on the "
    "implementation of Directive 2009/28/EC, Annex (2020 targets for the share of energy from "
    "renewable sources in gross final consumption of energy): {geo} {t}%"
)
RED_TARGETS = {
    "AT": 34,
    "BE": 13,
    "BG": 16,
    "CY": 13,
    "CZ": 13,
    "DE": 18,
    "DK": 30,
    "EE": 25,
    "EL": 18,
    "ES": 20,
    "FI": 38,
    "FR": 23,
    "HR": 20,
    "HU": 13,
    "IE": 16,
    "IT": 17,
    "LT": 23,
    "LU": 11,
    "LV": 40,
    "MT": 10,
    "NL": 14,
    "PL": 15,
    "PT": 31,
    "RO": 24,
    "SE": 49,
    "SI": 25,
    "SK": 14,
}
EEA_TARGETS = {"NO": 67.5, "IS": 64}
ENC_TARGETS = {"AL": 38, "BA": 40, "XK": 25, "MK": 23, "MD": 17, "ME": 33, "RS": 27}
TRA_QUOTE = (
    "Directive 2009/28/EC, Article 3(4): 'Each Member State shall ensure that the share of "
    "energy from renewable sources in all forms of transport in 2020 is at least 10 % of the "
    "final consumption of energy in transport in that Member State'"
)

NPP_QUOTE = (
    "National Population Policy 2000, Government of India (Ministry of Health and Family "
    "Welfare), Objectives: {q}"
)
FYP11_IN_QUOTE = (
    "Eleventh Five Year Plan 2007-12 (Planning Commission, Government of India), Vol. I, "
    "ch. 1, monitorable targets (health): {q}"
)
FYP12_IN_QUOTE = (
    "Twelfth Five Year Plan 2012-17 (Planning Commission, Government of India), Vol. III, "
    "ch. 20 (Health), core targets: {q}"
)
CN_QUOTE = "{plan}, 专栏1 经济社会发展主要指标 (main indicators): {q}"


@dataclass(frozen=True)
class Case:
    """One official target with its series: the rows of cases.csv, targets.csv, case_notes.csv."""

    case_id: str
    family: str
    geography: str
    indicator: str
    unit: str
    unit_kind: str
    lower: str
    upper: str
    series: tuple[tuple[int, str], ...]
    series_source: str
    target: float
    direction: str
    target_year: int
    as_of_year: int
    decimals: int
    target_source: str
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Loaders: each returns {geo: {year: value_text}} with the value text exactly as in the file.
# ---------------------------------------------------------------------------------------------
def fail(path: Path, row: int, column: str, expectation: str) -> None:
    """Stop with one clear message naming the file, row, column and what was expected."""
    sys.exit(f"{path}: row {row}, column {column!r}: expected {expectation}")


def read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a CSV file into dicts, checking that the ``required`` columns exist."""
    if not path.is_file():
        sys.exit(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            fail(path, 1, missing[0], f"a header with the columns {', '.join(required)}")
        return list(reader)


def load_wdi(wdi_dir: Path, code: str) -> dict[str, dict[int, str]]:
    """Series of one WDI indicator, from ``<wdi_dir>/<code>/data.csv``."""
    path = wdi_dir / code / "data.csv"
    out: dict[str, dict[int, str]] = {}
    for i, rec in enumerate(read_rows(path, ("Country Code", "Year", "Value")), start=2):
        value = rec["Value"].strip()
        if not value:
            continue
        try:
            float(value)
            year = int(rec["Year"])
        except ValueError:
            fail(path, i, "Value", "a number and an integer Year")
        out.setdefault(rec["Country Code"], {})[year] = value
    return out


def wdi_names(wdi_dir: Path, code: str) -> dict[str, str]:
    """Country Code -> Country Name of one WDI file."""
    path = wdi_dir / code / "data.csv"
    return {r["Country Code"]: r["Country Name"] for r in read_rows(path, ("Country Name",))}


def load_eurostat(path: Path, nrg_bal: str) -> dict[str, dict[int, str]]:
    """One ``nrg_bal`` line of Eurostat ``nrg_ind_ren`` (unit PC) from its SDMX-CSV extract."""
    out: dict[str, dict[int, str]] = {}
    cols = ("nrg_bal", "unit", "geo", "TIME_PERIOD", "OBS_VALUE")
    for i, rec in enumerate(read_rows(path, cols), start=2):
        if rec["nrg_bal"] != nrg_bal or rec["unit"] != "PC" or not rec["OBS_VALUE"].strip():
            continue
        try:
            float(rec["OBS_VALUE"])
            year = int(rec["TIME_PERIOD"])
        except ValueError:
            fail(path, i, "OBS_VALUE", "a number and an integer TIME_PERIOD")
        out.setdefault(rec["geo"], {})[year] = rec["OBS_VALUE"].strip()
    return out


def load_targets_table(path: Path) -> dict[str, dict[str, float]]:
    """The Europe 2020 national targets table (fractions): {geo: {column: value}}."""
    rows = read_rows(path, ("code", "rd", "re", "el"))
    return {r["code"]: {k: float(v) for k, v in r.items() if k != "code"} for r in rows}


# ---------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------
def series_upto(
    data: dict[str, dict[int, str]], geo: str, last_year: int
) -> tuple[tuple[int, str], ...]:
    """The series of ``geo`` from its first available year through ``last_year``."""
    return tuple(sorted((y, v) for y, v in data.get(geo, {}).items() if y <= last_year))


def wdi_source(code: str, what: str) -> str:
    """The ``source`` text of a WDI series."""
    return (
        f"World Bank WDI {code.upper()} ({what}) via {WDI_REPO} "
        f"indicators/{code}/data.csv @{WDI_COMMIT[:7]}"
    )


def ren_source(nrg_bal: str) -> str:
    """The ``source`` text of a Eurostat nrg_ind_ren series."""
    return (
        f"Eurostat nrg_ind_ren nrg_bal={nrg_bal} unit=PC (SHARES, update 07/03/2025) via "
        f"{REN_REPO} nrg_ind_ren.csv @{REN_COMMIT[:7]}"
    )


def nato_cases(wdi_dir: Path) -> list[Case]:
    code = "ms.mil.xpnd.gd.zs"
    data, names = load_wdi(wdi_dir, code), wdi_names(wdi_dir, code)
    return [
        Case(
            case_id=f"NATO_2PCT_{iso3}",
            family="NATO_2PCT",
            geography=names[iso3],
            indicator="Military expenditure (% of GDP)",
            unit="% of GDP",
            unit_kind="percent",
            lower="0",
            upper="100",
            series=series_upto(data, iso3, 2024),
            series_source=wdi_source(code, "SIPRI Military Expenditure Database"),
            target=2.0,
            direction=">=",
            target_year=2024,
            as_of_year=2014,
            decimals=1,
            target_source=NATO_QUOTE,
            note="SIPRI definition (WDI), not NATO's own defence-expenditure definition.",
        )
        for iso3 in NATO_ALLIES_BELOW_2PCT_IN_2014
    ]


def rd_cases(wdi_dir: Path, table: dict[str, dict[str, float]]) -> list[Case]:
    code = "gb.xpd.rsdv.gd.zs"
    data, names = load_wdi(wdi_dir, code), wdi_names(wdi_dir, code)
    src = wdi_source(code, "UNESCO UIS, = Eurostat/OECD GERD for EU members")
    common = {
        "indicator": "Gross domestic expenditure on R&D (% of GDP)",
        "unit": "% of GDP",
        "unit_kind": "percent",
        "lower": "0",
        "upper": "100",
        "series_source": src,
        "direction": ">=",
        "decimals": 2,
    }
    cases = []
    for geo, target in EU2020_RD_TARGETS.items():
        check = 100 * table[geo]["rd"]
        if abs(check - target) > 0.05:
            sys.exit(f"R&D target {geo} {target} differs from the Europe 2020 table ({check:.2f})")
        iso3 = EU_ISO3[geo]
        cases.append(
            Case(
                case_id=f"EU2020_RD_{geo}",
                family="EU2020_RD",
                geography=names[iso3],
                series=series_upto(data, iso3, 2020),
                target=target,
                target_year=2020,
                as_of_year=2013 if geo == "HR" else 2010,
                target_source=EU2020_RD_QUOTE.format(geo=geo, t=target),
                note=EU2020_RD_NOTES.get(geo, ""),
                **common,
            )
        )
    cases.append(
        Case(
            case_id="EU2020_RD_EU",
            family="EU2020_RD",
            geography=names["EUU"],
            series=series_upto(data, "EUU", 2020),
            target=3.0,
            target_year=2020,
            as_of_year=2010,
            target_source=EU2020_EU_QUOTE,
            note="WDI aggregate EUU = the EU in its current (27-country) composition.",
            **common,
        )
    )
    cases.append(
        Case(
            case_id="LISBON_RD_EU",
            family="LISBON_RD",
            geography=names["EUU"],
            series=series_upto(data, "EUU", 2010),
            target=3.0,
            target_year=2010,
            as_of_year=2002,
            target_source=LISBON_QUOTE,
            note="WDI aggregate EUU = the EU in its current (27-country) composition, not EU-15.",
            **common,
        )
    )
    for plan, target, year, base, quote in (
        (
            "第十一个五年规划纲要 (2006-2010)",
            2.0,
            2010,
            2005,
            "研究与试验发展经费支出占国内生产总值比重 2%",
        ),
        (
            "第十二个五年规划纲要 (2011-2015)",
            2.2,
            2015,
            2010,
            "研究与试验发展经费支出占国内生产总值比重 2.2%",
        ),
        ("第十三个五年规划纲要 (2016-2020)", 2.5, 2020, 2015, "研究与试验发展经费投入强度 2.5%"),
    ):
        number = {2010: 11, 2015: 12, 2020: 13}[year]
        cases.append(
            Case(
                case_id=f"CN_FYP{number}_RD",
                family="CN_FYP",
                geography="China",
                series=series_upto(data, "CHN", year),
                target=target,
                target_year=year,
                as_of_year=base,
                target_source=CN_QUOTE.format(plan=plan, q=quote),
                note="WDI/UIS values follow NBS GERD; GDP revisions can move them by ~0.05 pp.",
                **common,
            )
        )
    return cases


def cn_urban_cases(wdi_dir: Path) -> list[Case]:
    code = "sp.urb.totl.in.zs"
    data = load_wdi(wdi_dir, code)
    cases = []
    for number, plan, target, year, base, quote in (
        (11, "第十一个五年规划纲要 (2006-2010)", 47.0, 2010, 2005, "城镇化率 47%"),
        (12, "第十二个五年规划纲要 (2011-2015)", 51.5, 2015, 2010, "城镇化率 51.5%"),
        (13, "第十三个五年规划纲要 (2016-2020)", 60.0, 2020, 2015, "常住人口城镇化率 60%"),
    ):
        cases.append(
            Case(
                case_id=f"CN_FYP{number}_URB",
                family="CN_FYP",
                geography="China",
                indicator="Urban population (% of total population)",
                unit="% of population",
                unit_kind="percent",
                lower="0",
                upper="100",
                series=series_upto(data, "CHN", year),
                series_source=wdi_source(code, "UN World Urbanization Prospects"),
                target=target,
                direction=">=",
                target_year=year,
                as_of_year=base,
                decimals=1,
                target_source=CN_QUOTE.format(plan=plan, q=quote),
                note="UN WUP series (WDI), not the NBS urbanisation rate the plan is judged on.",
            )
        )
    return cases


def cn_population_cases(wdi_dir: Path) -> list[Case]:
    """China's total-population ceilings of the 11th and 12th Five-Year Plans."""
    code = "sp.pop.totl"
    # persons -> millions, an exact decimal shift (brandstats rejects counts above 1e9), hence
    # unit_kind "continuous": a count in millions is not a whole number
    data = {
        geo: {y: format(Decimal(v).scaleb(-6).normalize(), "f") for y, v in series.items()}
        for geo, series in load_wdi(wdi_dir, code).items()
    }
    note = (
        "Mid-year estimate (WDI, UN WPP revision), persons / 10^6; the plans count the NBS "
        "year-end population, which differs by a few million either way."
    )
    cases = []
    for number, plan, target, year, base, quote in (
        (
            11,
            "第十一个五年规划纲要 (2006-2010)",
            1360.0,
            2010,
            2005,
            "全国总人口 136000 万人 (13.6亿以内)",
        ),
        (
            12,
            "第十二个五年规划纲要 (2011-2015)",
            1390.0,
            2015,
            2010,
            "全国总人口 139000 万人 (13.9亿以内)",
        ),
    ):
        cases.append(
            Case(
                case_id=f"CN_FYP{number}_POP",
                family="CN_FYP",
                geography="China",
                indicator="Population, total",
                unit="million persons",
                unit_kind="continuous",
                lower="0",
                upper="",
                series=series_upto(data, "CHN", year),
                series_source=wdi_source(code, "UN WPP / NBS, mid-year"),
                target=target,
                direction="<=",
                target_year=year,
                as_of_year=base,
                decimals=2,
                target_source=CN_QUOTE.format(plan=plan, q=quote),
                note=note,
            )
        )
    return cases


def india_cases(wdi_dir: Path) -> list[Case]:
    specs = {
        "TFR": (
            "sp.dyn.tfrt.in",
            "Fertility rate, total (births per woman)",
            "births per woman",
            "UN WPP",
            1,
        ),
        "IMR": (
            "sp.dyn.imrt.in",
            "Mortality rate, infant (per 1,000 live births)",
            "deaths per 1,000 live births",
            "UN IGME",
            0,
        ),
        "MMR": (
            "sh.sta.mmrt",
            "Maternal mortality ratio (modeled estimate, per 100,000 live births)",
            "deaths per 100,000 live births",
            "UN MMEIG modelled",
            0,
        ),
    }
    plans = (
        (
            "NPP2000",
            2010,
            2000,
            NPP_QUOTE,
            {
                "TFR": (
                    2.1,
                    "<=",
                    "'The medium-term objective is to bring the TFR to replacement "
                    "levels by 2010' (replacement level = 2.1)",
                ),
                "IMR": (
                    30,
                    "<",
                    "National Socio-Demographic Goals for 2010, goal 6: 'Reduce infant "
                    "mortality rate to below 30 per 1000 live births'",
                ),
                "MMR": (
                    100,
                    "<",
                    "National Socio-Demographic Goals for 2010, goal 7: 'Reduce maternal "
                    "mortality ratio to below 100 per 100,000 live births'",
                ),
            },
        ),
        (
            "FYP11",
            2012,
            2006,
            FYP11_IN_QUOTE,
            {
                "TFR": (2.1, "<=", "'Total Fertility Rate to be reduced to 2.1' (by 2012)"),
                "IMR": (28, "<=", "'Infant mortality rate (IMR) must be reduced to 28' (by 2012)"),
                "MMR": (
                    100,
                    "<=",
                    "'maternal mortality ratio (MMR) to 1 per 1000 live births' "
                    "(= 100 per 100,000; by 2012)",
                ),
            },
        ),
        (
            "FYP12",
            2017,
            2011,
            FYP12_IN_QUOTE,
            {
                "TFR": (
                    2.1,
                    "<=",
                    "'Reduction of Total Fertility Rate (TFR) to 2.1 by the end of the "
                    "Twelfth Five Year Plan' (2017)",
                ),
                "IMR": (25, "<=", "'Reduction of IMR to 25' by the end of the Plan (2017)"),
                "MMR": (
                    100,
                    "<=",
                    "'Reduction of ... MMR to 1 per 1000 live births' (= 100 per "
                    "100,000) by the end of the Plan (2017)",
                ),
            },
        ),
    )
    cases = []
    for plan, year, base, quote, items in plans:
        for short, (target, direction, text) in items.items():
            code, indicator, unit, origin, decimals = specs[short]
            data = load_wdi(wdi_dir, code)
            cases.append(
                Case(
                    case_id=f"IN_{plan}_{short}",
                    family="IN_HEALTH_POP",
                    geography="India",
                    indicator=indicator,
                    unit=unit,
                    unit_kind="continuous",
                    lower="0",
                    upper="",
                    series=series_upto(data, "IND", year),
                    series_source=wdi_source(code, origin),
                    target=target,
                    direction=direction,
                    target_year=year,
                    as_of_year=base,
                    decimals=decimals,
                    target_source=quote.format(q=text),
                    note=f"{origin} estimates (WDI), not India's SRS figures the plan cites.",
                )
            )
    return cases


def renewable_cases(ren_path: Path, table: dict[str, dict[str, float]]) -> list[Case]:
    total, transport = load_eurostat(ren_path, "REN"), load_eurostat(ren_path, "REN_TRA")
    common = {
        "unit": "% of gross final energy consumption",
        "unit_kind": "percent",
        "lower": "0",
        "upper": "100",
        "direction": ">=",
        "target_year": 2020,
        "decimals": 1,
    }
    caveat = "2020 value includes statistical transfers (cooperation mechanisms) where used."
    cases = []
    for geo, target in RED_TARGETS.items():
        check = 100 * table[geo]["re"]
        if abs(check - target) > 0.05:
            sys.exit(f"RES target {geo} {target} differs from the Europe 2020 table ({check:.1f})")
        quote = RED_HR_QUOTE if geo == "HR" else RED_QUOTE.format(geo=geo, t=target)
        cases.append(
            Case(
                case_id=f"RED2020_RES_{geo}",
                family="RED2020_RES",
                geography=GEO_NAMES[geo],
                indicator="Share of energy from renewable sources",
                series=series_upto(total, geo, 2020),
                series_source=ren_source("REN"),
                target=float(target),
                as_of_year=2012 if geo == "HR" else 2009,
                target_source=quote,
                note=caveat,
                **common,
            )
        )
    cases.append(
        Case(
            case_id="RED2020_RES_EU",
            family="RED2020_RES",
            geography=GEO_NAMES["EU27_2020"],
            indicator="Share of energy from renewable sources",
            series=series_upto(total, "EU27_2020", 2020),
            series_source=ren_source("REN"),
            target=20.0,
            as_of_year=2009,
            target_source=RED_EU_QUOTE,
            note="EU27_2020 aggregate (without the UK); the 2009 target covered the EU of 2009 "
            "(with the UK, without Croatia).",
            **common,
        )
    )
    for group, quote, targets, base in (
        ("EEA", EEA_QUOTE, EEA_TARGETS, 2011),
        ("ENC", ENC_QUOTE, ENC_TARGETS, 2012),
    ):
        for geo, target in targets.items():
            cases.append(
                Case(
                    case_id=f"{group}2020_RES_{geo}",
                    family="RED2020_RES",
                    geography=GEO_NAMES[geo],
                    indicator="Share of energy from renewable sources",
                    series=series_upto(total, geo, 2020),
                    series_source=ren_source("REN"),
                    target=float(target),
                    as_of_year=base,
                    target_source=quote.format(geo=GEO_NAMES[geo], t=target),
                    note=caveat,
                    **common,
                )
            )
    for geo in [*RED_TARGETS, "EU27_2020"]:
        short = "EU" if geo == "EU27_2020" else geo
        cases.append(
            Case(
                case_id=f"RED2020_TRA_{short}",
                family="RED2020_TRA",
                geography=GEO_NAMES[geo],
                indicator="Share of energy from renewable sources in transport",
                series=series_upto(transport, geo, 2020),
                series_source=ren_source("REN_TRA"),
                target=10.0,
                as_of_year=2012 if geo == "HR" else 2009,
                target_source=TRA_QUOTE,
                note="RED accounting with multipliers (x2 advanced biofuels, x2.5 rail and x5 "
                "road electricity from 2015, Directive (EU) 2015/1513); unit: % of final energy "
                "consumption in transport.",
                **{**common, "unit": "% of final energy consumption in transport"},
            )
        )
    return cases


# ---------------------------------------------------------------------------------------------
# Verdicts and output
# ---------------------------------------------------------------------------------------------
def rounded(value: str | float, decimals: int) -> Decimal:
    """``value`` rounded half-up to ``decimals`` places (the published precision)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def is_met(actual: Decimal, target: float, direction: str) -> bool:
    """Whether ``actual`` (already rounded) satisfies ``direction`` ``target``."""
    t = Decimal(str(target))
    return {">=": actual >= t, ">": actual > t, "<=": actual <= t, "<": actual < t}[direction]


def fmt_target(target: float) -> str:
    """A target as written in the official text (no trailing zeros)."""
    return f"{target:g}"


def write(cases: list[Case], out: Path) -> dict[str, tuple[int, int]]:
    """Write the three CSVs; return {family: (cases, met)}."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, tuple[int, int]] = {}
    with (
        (out / "cases.csv").open("w", newline="", encoding="utf-8") as f_cases,
        (out / "targets.csv").open("w", newline="", encoding="utf-8") as f_targets,
        (out / "case_notes.csv").open("w", newline="", encoding="utf-8") as f_notes,
    ):
        w_cases, w_targets, w_notes = (
            csv.writer(f, lineterminator="\n") for f in (f_cases, f_targets, f_notes)
        )
        w_cases.writerow(["case_id", "geography", "indicator", "unit", "year", "value", "source"])
        w_targets.writerow(
            [
                "case_id",
                "target",
                "direction",
                "target_year",
                "as_of_year",
                "actual_in_target_year",
                "met",
                "source",
                "family",
                "unit_kind",
                "lower",
                "upper",
            ]
        )
        w_notes.writerow(["case_id", "n_years_up_to_as_of", "first_year", "note"])
        for case in cases:
            years = dict(case.series)
            if case.target_year not in years or not any(y <= case.as_of_year for y in years):
                print(
                    f"left out {case.case_id}: no value in {case.target_year} or none up to "
                    f"{case.as_of_year} in the series"
                )
                continue
            actual = rounded(years[case.target_year], case.decimals)
            met = is_met(actual, case.target, case.direction)
            for year, value in case.series:
                w_cases.writerow(
                    [
                        case.case_id,
                        case.geography,
                        case.indicator,
                        case.unit,
                        year,
                        value,
                        case.series_source,
                    ]
                )
            w_targets.writerow(
                [
                    case.case_id,
                    fmt_target(case.target),
                    case.direction,
                    case.target_year,
                    case.as_of_year,
                    str(actual),
                    met,
                    case.target_source,
                    case.family,
                    case.unit_kind,
                    case.lower,
                    case.upper,
                ]
            )
            raw = float(years[case.target_year])
            gap = raw - case.target
            margin = (
                f"{case.target_year} value {years[case.target_year]} (judged at {case.decimals} dp:"
                f" {actual}) vs target {case.direction} {fmt_target(case.target)}: difference "
                f"{gap:+.3g} ({100 * gap / case.target:+.1f}% of target)"
            )
            unrounded = is_met(Decimal(years[case.target_year]), case.target, case.direction)
            close = abs(gap) <= 0.02 * abs(case.target) or unrounded != met
            flag = " CLOSE CALL: the verdict can turn on revisions or rounding." if close else ""
            n_asof = sum(1 for y in years if y <= case.as_of_year)
            w_notes.writerow(
                [
                    case.case_id,
                    n_asof,
                    min(years),
                    " ".join(s for s in (margin + "." + flag, case.note) if s),
                ]
            )
            n, m = counts.get(case.family, (0, 0))
            counts[case.family] = (n + 1, m + int(met))
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wdi", type=Path, required=True, help="folder of <code>/data.csv (WDI)")
    parser.add_argument("--eurostat-ren", type=Path, required=True, help="nrg_ind_ren SDMX-CSV")
    parser.add_argument(
        "--targets-table",
        type=Path,
        required=True,
        help="Europe 2020 targets table (rockdonald2 static/python/table.csv)",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in a temporary folder and fail if the CSVs in --out differ from it",
    )
    args = parser.parse_args(argv)
    table = load_targets_table(args.targets_table)
    cases = [
        *renewable_cases(args.eurostat_ren, table),
        *rd_cases(args.wdi, table),
        *nato_cases(args.wdi),
        *india_cases(args.wdi),
        *cn_urban_cases(args.wdi),
        *cn_population_cases(args.wdi),
    ]
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            counts = write(cases, Path(tmp))
            for name in ("cases.csv", "targets.csv", "case_notes.csv"):
                built, kept = Path(tmp) / name, args.out / name
                if not kept.is_file() or built.read_bytes() != kept.read_bytes():
                    sys.exit(f"{kept}: differs from a rebuild from the fetched files")
        print(f"{args.out}: cases.csv, targets.csv, case_notes.csv identical to a rebuild")
    else:
        counts = write(cases, args.out)
    total = sum(n for n, _ in counts.values())
    met = sum(m for _, m in counts.values())
    for family, (n, m) in counts.items():
        print(f"{family:14s} {n:3d} cases, {m:3d} met")
    print(f"{'all':14s} {total:3d} cases, {met:3d} met ({100 * met / total:.0f}%)")


if __name__ == "__main__":
    main()
