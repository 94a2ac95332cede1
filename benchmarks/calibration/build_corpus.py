"""Build the calibration corpus of real official targets with known outcomes.

Every figure in the output comes from a CSV file at a pinned commit of a public GitHub
repository; this script only selects, derives targets from the same series (e.g. 1990 value / 3)
and rounds at the published precision. Nothing is typed in by hand except the target rules
(quoted from the plans, see ``FAMILIES``) and the country lists of the 36 starter cases.

Usage
-----
    python benchmarks/calibration/build_corpus.py MIRROR_ROOT [--out DIR] [--check]

``MIRROR_ROOT`` holds the source repositories, either as mirrors laid out as
``MIRROR_ROOT/<owner>+<name>/repo`` (bare git directories, as the project's ``fetch`` tool
writes them) or as clones ``MIRROR_ROOT/<owner>/<name>``. Files are read with
``git show <commit>:<path>``, so the corpus is the same whatever the checkout. Needed repos::

    datasets/world-development-indicators @ 4ebec5a2273f531ba238a34dbe440394dc5a6c4b
    datasets/country-codes                @ caa72d1e0e5af8876c170bb36a9e4d64a01bba88

``--out`` defaults to the folder of this script; ``--check`` rebuilds in memory and exits 1 if
the CSVs on disk differ.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

WDI_REPO = "datasets/world-development-indicators"
WDI_COMMIT = "4ebec5a2273f531ba238a34dbe440394dc5a6c4b"
CODES_REPO = "datasets/country-codes"
CODES_COMMIT = "caa72d1e0e5af8876c170bb36a9e4d64a01bba88"
CODES_PATH = "data/country-codes.csv"
EPS = 1e-9  # rounded values compared in floating point: 0.98 - 0.97 > 0.01
POP_CODE = "SP.POP.TOTL"  # used only to order candidate countries (most populous first)

# The 36 starter cases of /work/shared/calibration (chosen by hand there; kept as they were).
STARTER_MDG_U5MR = [
    "MW",
    "ET",
    "RW",
    "BD",
    "NP",
    "KH",
    "BO",
    "EG",
    "PE",
    "BR",
    "NG",
    "PK",
    "CD",
    "KE",
    "GH",
    "PH",
    "VN",
    "ZA",
    "HT",
    "SN",
]
STARTER_GVAP_DTP3 = [
    "NA",
    "BD",
    "TZ",
    "BR",
    "EG",
    "KH",
    "NP",
    "CO",
    "NG",
    "ET",
    "PK",
    "IN",
    "ID",
    "CD",
    "MX",
    "PH",
]

SRC_MDG4 = (
    "UN Millennium Development Goal 4, Target 4.A 'Reduce by two-thirds, between 1990 and 2015, "
    "the under-five mortality rate' (http://www.mdgmonitor.org/goal4.cfm ; "
    "https://www.millenniumsummit.ca/learn/reduce-child-mortality/ ; World Bank MDG page "
    "econ.worldbank.org contentMDK:23157121); target value = one third of the country's 1990 "
    "U5MR in the same WDI/UN IGME vintage"
)
SRC_GVAP_2015 = (
    "Global Vaccine Action Plan 2011-2020 (endorsed by World Health Assembly May 2012), Goal 3.1: "
    "'reach 90% national coverage ... with three doses of diphtheria-tetanus-pertussis-containing "
    "vaccines by 2015' (http://technet-21.org/en/resources/gvap-indicators/"
    "routine-immunization-coverage ; MMWR 2013;62(43):858-61 "
    "https://pubmed.ncbi.nlm.nih.gov/24172880/)"
)
SRC_GVAP_2020 = (
    "Global Vaccine Action Plan 2011-2020 (WHA65.17, May 2012; WHO 2013, ISBN 978 92 4 150498 0), "
    "Goal 3.2: 'By 2020, reach 90% national coverage and 80% in every district or equivalent "
    "administrative unit for all vaccines in national programmes, unless otherwise recommended' "
    "(http://technet-21.org/en/resources/gvap-indicators/all-vaccines-coverage); national 90% "
    "part, one vaccine at a time"
)
SRC_WHA63_MCV1 = (
    "World Health Assembly 2010 (WHA63, report A63/18) milestones for 2015: 'increase routine "
    "coverage with the first dose of measles-containing vaccine (MCV1) for children aged 1 year "
    "to >=90% nationally and >=80% in every district' (MMWR 2014;63(45):1034-8 ; MMWR "
    "2016;65(44):1228-33 https://www.cdc.gov/mmwr/volumes/65/wr/mm6544a6.htm); national 90% "
    "part only"
)
SRC_MDG5 = (
    "UN Millennium Development Goal 5, Target 5.A 'Reduce by three quarters, between 1990 and "
    "2015, the maternal mortality ratio' (https://www.un.org/millenniumgoals/maternal.shtml ; MDG "
    "indicator 5.1); target value = one quarter of the country's 1990 MMR in the same WDI/MMEIG "
    "vintage"
)
SRC_WSC = (
    "World Summit for Children (New York, 30 Sept 1990), Goals for Children and Development in "
    "the 1990s, major goal (a): 'Between 1990 and the year 2000, reduction of infant and under-5 "
    "child mortality rate by one third or to 50 and 70 per 1,000 live births respectively, "
    "whichever is less' (UN document A/45/625, annex; http://un-documents.net/wsc-goal.htm ; "
    "restated in ICPD Programme of Action para. 8.16); target value = min(2/3 of the country's "
    "1990 U5MR, 70) in the same WDI/UN IGME vintage"
)
SRC_WSC_MMR = (
    "World Summit for Children (New York, 30 Sept 1990), Goals for Children and Development in "
    "the 1990s, major goal (b): 'Between 1990 and the year 2000, reduction of maternal mortality "
    "rate by half' (UN document A/45/625, annex; http://un-documents.net/wsc-goal.htm); target "
    "value = one half of the country's 1990 MMR in the same WDI/MMEIG vintage"
)
SRC_ICPD = (
    "Programme of Action of the International Conference on Population and Development (Cairo, "
    "1994), para. 8.16: 'By 2015 all countries should aim to achieve an infant mortality rate "
    "below 35 per 1,000 live births and an under-5 mortality rate below 45 per 1,000' (UN "
    "document A/CONF.171/13/Rev.1; http://enb.iisd.org/Cairo/program/p08006.html)"
)
SRC_END_TB = (
    "WHO End TB Strategy (World Health Assembly resolution WHA67.1, May 2014; WHO/HTM/TB/2015.19), "
    "2020 milestone: 20% reduction in the TB incidence rate compared with 2015 (Floyd et al., "
    "Global tuberculosis targets and milestones set for 2016-2035, IJTLD 2018;22(7):723-30, "
    "https://doi.org/10.5588/ijtld.17.0835); target value = 0.8 x the country's 2015 rate in the "
    "same WDI/WHO vintage"
)
SRC_MDG3 = (
    "UN Millennium Development Goal 3, Target 3.A 'Eliminate gender disparity in primary and "
    "secondary education, preferably by 2005, and in all levels of education no later than "
    "2015' (MDG indicator 3.1, http://mdgs.un.org/unsd/mi/wiki/3-1-Ratios-of-girls-to-boys-in-"
    "primary-secondary-and-tertiary-education.ashx); parity read as a gender parity index >= 0.97, "
    "the lower end of the UNESCO/World Bank parity range 0.97-1.03 (https://databank.worldbank.org/"
    "metadataglossary/global-partnership-for-education/series/2.3_GIR.GPI); primary+secondary GPI "
    "used for both the 2005 and the 2015 dates"
)
SRC_UNGASS = (
    "UN General Assembly Declaration of Commitment on HIV/AIDS (A/RES/S-26/2, 27 June 2001), "
    "para. 47: '... the internationally agreed global prevention goal to reduce by 2005 HIV "
    "prevalence among young men and women aged 15 to 24 in the most affected countries by 25 per "
    "cent and by 25 per cent globally by 2010' (https://www.unaids.org/en/resources/documents/"
    "2001/20010627_declaration_of_commitment_en); target value = 0.75 x the country's 2001 "
    "prevalence among young women in the same WDI/UNAIDS vintage; 2010 (global) date"
)
SRC_HFA = (
    "WHO Global Strategy for Health for All by the Year 2000 (World Health Assembly resolution "
    "WHA34.36, 1981; Health for All Series No. 3), global indicator 'Life expectancy at birth is "
    "over 60 years' by the year 2000 (World Health Report 1998, ch. 2, "
    "http://www.who.int/whr/1998/)"
)


@dataclass(frozen=True)
class Indicator:
    """A WDI series: code, display name, unit, physical support and how it is published."""

    code: str
    name: str
    unit: str
    unit_kind: str
    lower: float | None
    upper: float | None
    provider: str
    decimals: int


U5MR = Indicator(
    "SH.DYN.MORT",
    "Under-five mortality rate",
    "deaths per 1,000 live births",
    "continuous",
    0.0,
    None,
    "UN IGME estimates",
    1,
)
IMR = Indicator(
    "SP.DYN.IMRT.IN",
    "Infant mortality rate",
    "deaths per 1,000 live births",
    "continuous",
    0.0,
    None,
    "UN IGME estimates",
    1,
)
DTP3 = Indicator(
    "SH.IMM.IDPT",
    "DTP3 immunization coverage among 1-year-olds",
    "% of children ages 12-23 months",
    "percent",
    0.0,
    100.0,
    "WHO/UNICEF WUENIC estimates",
    0,
)
MCV1 = Indicator(
    "SH.IMM.MEAS",
    "Measles (MCV1) immunization coverage among 1-year-olds",
    "% of children ages 12-23 months",
    "percent",
    0.0,
    100.0,
    "WHO/UNICEF WUENIC estimates",
    0,
)
MMR = Indicator(
    "SH.STA.MMRT",
    "Maternal mortality ratio (modeled estimate)",
    "deaths per 100,000 live births",
    "continuous",
    0.0,
    None,
    "UN MMEIG estimates",
    0,
)
TB = Indicator(
    "SH.TBS.INCD",
    "Incidence of tuberculosis",
    "per 100,000 people",
    "continuous",
    0.0,
    None,
    "WHO Global TB Programme estimates",
    0,
)
GPI = Indicator(
    "SE.ENR.PRSC.FM.ZS",
    "Gender parity index, gross enrolment, primary and secondary",
    "ratio of girls to boys",
    "continuous",
    0.0,
    None,
    "UNESCO Institute for Statistics",
    2,
)
HIV_F = Indicator(
    "SH.HIV.1524.FE.ZS",
    "HIV prevalence, young women ages 15-24",
    "% of female population ages 15-24",
    "percent",
    0.0,
    100.0,
    "UNAIDS estimates",
    1,
)
LE = Indicator(
    "SP.DYN.LE00.IN",
    "Life expectancy at birth, total",
    "years",
    "continuous",
    0.0,
    None,
    "UN Population Division (World Population Prospects) and national sources",
    1,
)


def _fixed(level: float) -> Callable[[pd.Series], float]:
    return lambda _series: level


def _share_of(year: int, share: float) -> Callable[[pd.Series], float]:
    return lambda series: series.get(year, float("nan")) * share


def _wsc_u5mr(series: pd.Series) -> float:
    return min(series.get(1990, float("nan")) * 2 / 3, 70.0)


@dataclass(frozen=True)
class Family:
    """One official target rule applied to one indicator for several countries.

    ``target`` maps a country's series (indexed by year) to the unrounded target value;
    ``hair`` is the band around the target, in the unit, inside which a case is left out;
    ``hair_rel`` is the same band as a share of the target (the larger band applies).
    ``baseline_year`` is the year a relative target is computed from; ``plan_year`` the start
    year of a fixed-level target's plan (written as ``base_year`` for the official progress
    rule). ``needs_gap`` keeps only countries that had not met the target in ``as_of_year`` (for
    fixed-level targets that most countries had long met). ``per_side`` caps the met and the
    missed cases per as-of year (most populous first); ``starter`` fixes the countries instead.
    """

    family: str
    indicator: Indicator
    direction: str
    target_year: int
    as_of_years: tuple[int, ...]
    target: Callable[[pd.Series], float]
    source: str
    rule: str
    hair: float = 0.0
    hair_rel: float = 0.0
    hair_below_only: bool = False
    min_baseline: float | None = None
    needs_gap: bool = False
    per_side: int = 12
    min_years: int = 8
    baseline_year: int | None = None
    plan_year: int | None = None
    starter: dict[int, list[str]] = field(default_factory=dict)
    case_prefix: str = ""


FAMILIES: tuple[Family, ...] = (
    Family(
        "MDG_U5MR",
        U5MR,
        "<=",
        2015,
        (2000, 2005, 2010),
        _share_of(1990, 1 / 3),
        SRC_MDG4,
        "1990 value / 3, target and actual rounded to 1 dp",
        hair_rel=0.03,
        baseline_year=1990,
        starter={2000: STARTER_MDG_U5MR},
    ),
    Family(
        "GVAP_DTP3",
        DTP3,
        ">=",
        2015,
        (2011,),
        _fixed(90.0),
        SRC_GVAP_2015,
        "integer WUENIC estimate >= 90 (89 and 90 left out)",
        hair=1.0,
        hair_below_only=True,
        starter={2011: STARTER_GVAP_DTP3},
        plan_year=2010,
    ),
    Family(
        "GVAP_DTP3",
        DTP3,
        ">=",
        2020,
        (2013, 2016, 2018),
        _fixed(90.0),
        SRC_GVAP_2020,
        "integer WUENIC estimate >= 90 (89 and 90 left out)",
        hair=1.0,
        hair_below_only=True,
        per_side=10,
        case_prefix="GVAP_DTP3_2020",
        plan_year=2010,
    ),
    Family(
        "GVAP_MCV1",
        MCV1,
        ">=",
        2020,
        (2013, 2016),
        _fixed(90.0),
        SRC_GVAP_2020,
        "integer WUENIC estimate >= 90 (89 and 90 left out)",
        hair=1.0,
        hair_below_only=True,
        per_side=10,
        case_prefix="GVAP_MCV1_2020",
        plan_year=2010,
    ),
    Family(
        "WHA63_MCV1",
        MCV1,
        ">=",
        2015,
        (2010,),
        _fixed(90.0),
        SRC_WHA63_MCV1,
        "integer WUENIC estimate >= 90 (89 and 90 left out)",
        hair=1.0,
        hair_below_only=True,
        plan_year=2010,
    ),
    Family(
        "MDG_MMR",
        MMR,
        "<=",
        2015,
        (2000, 2005, 2010),
        _share_of(1990, 1 / 4),
        SRC_MDG5,
        "1990 value / 4 rounded to an integer; MMEIG ratios are published as integers",
        hair_rel=0.05,
        per_side=8,
        baseline_year=1990,
    ),
    Family(
        "WSC_U5MR",
        U5MR,
        "<=",
        2000,
        (1990, 1995),
        _wsc_u5mr,
        SRC_WSC,
        "min(1990 value x 2/3, 70), target and actual rounded to 1 dp",
        hair_rel=0.03,
        per_side=10,
        baseline_year=1990,
    ),
    Family(
        "WSC_MMR",
        MMR,
        "<=",
        2000,
        (1990, 1995),
        _share_of(1990, 1 / 2),
        SRC_WSC_MMR,
        "1990 value / 2 rounded to an integer; MMEIG ratios are published as integers",
        hair_rel=0.05,
        per_side=10,
        min_years=6,
        baseline_year=1990,
    ),
    Family(
        "ICPD_IMR",
        IMR,
        "<=",
        2015,
        (2000, 2005),
        _fixed(35.0),
        SRC_ICPD,
        "1 dp; 'below 35' (actual within 1 of 35 left out, so < and <= agree)",
        hair=1.0,
        needs_gap=True,
        per_side=10,
        plan_year=1994,
    ),
    Family(
        "END_TB_INC",
        TB,
        "<=",
        2020,
        (2015, 2018),
        _share_of(2015, 0.8),
        SRC_END_TB,
        "2015 value x 0.8; incidence published as integers per 100,000",
        hair_rel=0.03,
        hair=1.0,
        per_side=10,
        baseline_year=2015,
    ),
    Family(
        "MDG3_GPI",
        GPI,
        ">=",
        2005,
        (2000,),
        _fixed(0.97),
        SRC_MDG3,
        "GPI rounded to 2 dp >= 0.97 (values 0.96-0.98 left out)",
        hair=0.01,
        needs_gap=True,
        min_years=6,
        plan_year=1990,
    ),
    Family(
        "MDG3_GPI",
        GPI,
        ">=",
        2015,
        (2005, 2010),
        _fixed(0.97),
        SRC_MDG3,
        "GPI rounded to 2 dp >= 0.97 (values 0.96-0.98 left out)",
        hair=0.01,
        needs_gap=True,
        min_years=6,
        per_side=8,
        case_prefix="MDG3_GPI_2015",
        plan_year=1990,
    ),
    Family(
        "UNGASS_HIV_YW",
        HIV_F,
        "<=",
        2010,
        (2001, 2005),
        _share_of(2001, 0.75),
        SRC_UNGASS,
        "2001 value x 0.75, target and actual rounded to 1 dp; only countries with 2001 "
        "prevalence >= 1.0 %",
        hair_rel=0.05,
        hair=0.1,
        per_side=10,
        baseline_year=2001,
        min_baseline=1.0,
    ),
    Family(
        "HFA2000_LE",
        LE,
        ">=",
        2000,
        (1990, 1995),
        _fixed(60.0),
        SRC_HFA,
        "1 dp; 'over 60 years' (actual within 0.5 of 60 left out, so > and >= agree)",
        hair=0.5,
        needs_gap=True,
        per_side=10,
        plan_year=1981,
    ),
)


def _git_dir(root: Path, repo: str) -> Path:
    owner, name = repo.split("/")
    for candidate in (root / f"{owner}+{name}" / "repo", root / owner / name, root / name):
        if candidate.exists():
            return candidate
    raise SystemExit(
        f"build_corpus: repository {repo} not found under {root} "
        f"(expected {owner}+{name}/repo or {owner}/{name})"
    )


def read_csv_at(root: Path, repo: str, commit: str, path: str) -> pd.DataFrame:
    """Read ``path`` from ``repo`` at ``commit`` (``git show``) into a DataFrame."""
    result = subprocess.run(
        ["git", "-C", str(_git_dir(root, repo)), "show", f"{commit}:{path}"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"build_corpus: cannot read {repo}@{commit[:7]}:{path}: "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return pd.read_csv(io.BytesIO(result.stdout), keep_default_na=False, na_values=[""])


def wdi_path(code: str) -> str:
    """Path of a WDI indicator's CSV inside datasets/world-development-indicators."""
    return f"indicators/{code.lower()}/data.csv"


def load_wdi(root: Path, code: str) -> pd.DataFrame:
    """One WDI indicator as a wide frame: one row per ISO3 country code, one column per year."""
    raw = read_csv_at(root, WDI_REPO, WDI_COMMIT, wdi_path(code))
    return raw.pivot_table(index="Country Code", columns="Year", values="Value", aggfunc="first")


def _r(value: float, decimals: int) -> float:
    # round half away from zero on the decimal text of the value, as tables are published
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _is_met(actual: float, target: float, direction: str) -> bool:
    return actual <= target if direction == "<=" else actual >= target


def _within_hair(fam: Family, actual: float, target: float) -> bool:
    band = max(fam.hair, fam.hair_rel * abs(target)) + EPS
    if fam.hair_below_only:  # integer coverage: 89 and 90 left out, 91 kept
        return target - band <= actual <= target
    return abs(actual - target) <= band


def _base_year(fam: Family, series: pd.Series) -> int:
    # the plan's base year, or the first year with data after it
    start = fam.baseline_year if fam.baseline_year is not None else fam.plan_year
    return int(series.index[series.index >= start].min())


def _closeness(fam: Family, row: dict) -> str:
    # within twice the left-out band: kept, but a revision of the series could flip the verdict
    band = 2 * max(fam.hair, fam.hair_rel * abs(row["target"])) + EPS
    if abs(row["actual"] - row["target"]) <= band:
        return " Close to the target: verdict sensitive to revisions of the series."
    return ""


def _candidates(fam: Family, as_of: int, wide: pd.DataFrame, countries: pd.DataFrame) -> list[dict]:
    ind = fam.indicator
    rows = []
    for iso3 in wide.index.intersection(countries.index):
        series = wide.loc[iso3].dropna()
        series = series[series.index <= fam.target_year]
        if fam.target_year not in series.index or as_of not in series.index:
            continue
        if fam.baseline_year is not None and fam.baseline_year not in series.index:
            continue
        if (series.index <= as_of).sum() < fam.min_years:
            continue
        if fam.min_baseline is not None and _r(series[fam.baseline_year], 1) < fam.min_baseline:
            continue
        target = _r(fam.target(series), ind.decimals)
        actual = _r(series[fam.target_year], ind.decimals)
        at_as_of = _r(series[as_of], ind.decimals)
        if fam.needs_gap and _is_met(at_as_of, target, fam.direction):
            continue
        if _within_hair(fam, actual, target):
            continue
        rows.append(
            {
                "iso3": iso3,
                "series": series,
                "target": target,
                "actual": actual,
                "at_as_of": at_as_of,
                "met": _is_met(actual, target, fam.direction),
            }
        )
    return rows


def _select(fam: Family, as_of: int, rows: list[dict], countries: pd.DataFrame, pop: pd.DataFrame):
    if as_of in fam.starter:
        by_iso2 = {countries.loc[r["iso3"], "iso2"]: r for r in rows}
        missing = [c for c in fam.starter[as_of] if c not in by_iso2]
        if missing:
            raise SystemExit(f"build_corpus: starter cases {missing} of {fam.family} not eligible")
        return [by_iso2[c] for c in fam.starter[as_of]]

    def size(row: dict) -> float:
        value = pop.loc[row["iso3"]].get(as_of) if row["iso3"] in pop.index else None
        return -(value if value is not None and pd.notna(value) else 0.0)

    met = sorted((r for r in rows if r["met"]), key=size)
    missed = sorted((r for r in rows if not r["met"]), key=size)
    n = min(fam.per_side, max(len(met), len(missed)))
    return met[:n] + missed[:n]


def build(root: Path) -> dict[str, pd.DataFrame]:
    """Build ``cases``, ``targets`` and ``case_notes`` frames from the pinned source files."""
    codes = read_csv_at(root, CODES_REPO, CODES_COMMIT, CODES_PATH)
    countries = (
        codes.dropna(subset=["ISO3166-1-Alpha-3", "ISO3166-1-Alpha-2"])
        .rename(columns={"ISO3166-1-Alpha-3": "iso3", "ISO3166-1-Alpha-2": "iso2"})
        .set_index("iso3")[["iso2"]]
    )
    pop = load_wdi(root, POP_CODE)
    names = read_csv_at(root, WDI_REPO, WDI_COMMIT, wdi_path(POP_CODE))
    names = names.drop_duplicates("Country Code").set_index("Country Code")["Country Name"]
    cache: dict[str, pd.DataFrame] = {}
    cases, targets, notes = [], [], []
    for fam in FAMILIES:
        ind = fam.indicator
        wide = cache.setdefault(ind.code, load_wdi(root, ind.code))
        series_source = (
            f"World Bank WDI {ind.code} ({ind.provider}) via github:{WDI_REPO} "
            f"{wdi_path(ind.code)} @{WDI_COMMIT[:7]}"
        )
        for as_of in fam.as_of_years:
            rows = _candidates(fam, as_of, wide, countries)
            for row in _select(fam, as_of, rows, countries, pop):
                iso2 = countries.loc[row["iso3"], "iso2"]
                if as_of in fam.starter:
                    case_id = f"{fam.family}_{iso2}"
                else:
                    case_id = f"{fam.case_prefix or fam.family}_A{as_of}_{iso2}"
                series = row["series"]
                geography = names.get(row["iso3"], row["iso3"])
                cases += [
                    {
                        "case_id": case_id,
                        "geography": geography,
                        "indicator": ind.name,
                        "unit": ind.unit,
                        "year": int(year),
                        "value": float(value),
                        "source": series_source,
                    }
                    for year, value in series.items()
                ]
                targets.append(
                    {
                        "case_id": case_id,
                        "target": row["target"],
                        "direction": fam.direction,
                        "target_year": fam.target_year,
                        "as_of_year": as_of,
                        "actual_in_target_year": row["actual"],
                        "met": row["met"],
                        "source": fam.source,
                        "family": fam.family,
                        "unit_kind": ind.unit_kind,
                        "lower": _fmt(ind.lower),
                        "upper": _fmt(ind.upper),
                        "base_year": _base_year(fam, series),
                    }
                )
                margin = (row["actual"] - row["target"]) / abs(row["target"]) * 100
                base = ""
                if fam.baseline_year is not None:
                    base = f" Baseline {fam.baseline_year} value {series[fam.baseline_year]:g}."
                notes.append(
                    {
                        "case_id": case_id,
                        "n_years_up_to_as_of": int((series.index <= as_of).sum()),
                        "first_year": int(series.index.min()),
                        "note": (
                            f"Rule: {fam.rule}.{base} Value in {as_of}: {row['at_as_of']:g}; "
                            f"target {row['target']:g}; actual {fam.target_year}: "
                            f"{row['actual']:g}; margin {margin:+.1f}% of target. Current "
                            f"{ind.provider} vintage as carried in WDI @{WDI_COMMIT[:7]}, not "
                            f"the figures published in {as_of}.{_closeness(fam, row)}"
                        ),
                    }
                )
    return {
        "cases": pd.DataFrame(cases),
        "targets": pd.DataFrame(targets),
        "case_notes": pd.DataFrame(notes),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build the corpus and write (or check) the three CSVs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirror_root", type=Path, help="folder holding the source repositories")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="output folder")
    parser.add_argument("--check", action="store_true", help="compare with the CSVs on disk")
    args = parser.parse_args(argv)
    frames = build(args.mirror_root)
    stale = []
    for name, frame in frames.items():
        path = args.out / f"{name}.csv"
        text = frame.to_csv(index=False, lineterminator="\n")
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    targets = frames["targets"]
    summary = targets.groupby(["family", "target_year", "as_of_year"]).met.agg(["size", "sum"])
    print(summary.to_string())
    print(f"{len(targets)} cases, {targets.met.mean():.0%} met")
    if stale:
        print(f"stale: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
