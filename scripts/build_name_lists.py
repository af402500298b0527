"""Rebuild ``taxonomy/data/given_names.txt`` and ``surnames.txt``: the name lists that let redaction
recognise a person's name written in lower case after a role ("my husband david", "spoke to sarah").

Sources (public domain: works of the US federal government, 17 U.S.C. 105), read from snapshots
fetched with the tool library's ``fetch`` (nothing is downloaded here):

- given names: the Social Security Administration's national baby-name files
  (``raw-data/yob*.txt`` of ``hackerb9/ssa-baby-names``), every name given to at least
  ``MIN_BABIES`` babies in some year from 1880 on;
- surnames: the 1990 US Census surname list (``sources/census-1990/dist.all.last`` of
  ``nullstyle/name-database``), every surname held by at least ``MIN_SURNAME_PERCENT`` % of people.

Each list leaves out the words of ``taxonomy.wording.FUNCTION`` and the reviewed exclusions below:
names that are also common English words, places and brands that follow "money to", "this is" or
"spoke to" in ordinary support text ("this is true", "money to china", "payment to chase").
Names are lower-cased ASCII letters only.

Run from the repository root (``MIRROR`` defaults to ``/work/.mirror``)::

    .venv/bin/python scripts/build_name_lists.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taxonomy.wording import FUNCTION  # noqa: E402 - after the path is set

MIRROR = Path(os.environ.get("MIRROR", "/work/.mirror"))
SSA = ("hackerb9+ssa-baby-names", "0b1a1316")
CENSUS = ("nullstyle+name-database", "46d2e01")
MIN_BABIES = 100
MIN_SURNAME_PERCENT = 0.001
OUT = ROOT / "taxonomy" / "data"

# Reviewed: given names that are also words likely right after a role, "this is" or "money to", and places
# and brands money is sent to. Places that are more often a person's name stay in ("savannah", "sydney").
NOT_GIVEN = set("""
will may said ever skip chase drew rob pat mark bill cash case chance hope love promise trace link long true
unknown unique major precious legend heaven story truth justice liberty genesis destiny miracle blessing harmony
melody journey dream star storm stormy rain spring summer winter autumn sky river sunny windy baby king queen
prince princess duke baron earl sir royal don haven ty emi seven symphony tea knowledge banks max page guy gay
rich lance lane wade buck bud chip colt rocky rusty sandy tanner walker ward wells reed art
america asia africa china india london paris dallas austin houston denver phoenix brooklyn jordan georgia
kenya egypt israel italy ireland england france canada mexico brazil cuba chad berlin nevada dakota montana
arizona kansas cairo lima alaska indiana boston orlando memphis cleveland raleigh salem reno rome holland lincoln
apple ally tesla lexus porsche mercedes harley audi bentley chevy ford jaguar royce kia sony nokia macy zara delta
jet hilton chanel dior armani
mercy grace faith joy
""".split())
# Reviewed: surnames that are common English words (seeded from the lower-case words of the public
# tier corpus' messages, then read through), and verbs that can follow a first name. Surnames that are
# rarely a word right after a name stay in ("smith", "white", "young").
NOT_SURNAME = set("""
card money cash check fee book good new see long room work bank place house cancel song day back current music
list way days look service town friend morning free near shows reason cost nice fine people best works topping
price dates light coffee short close doctor old person won wait weeks pound kitchen pick freeze weight fix child
strange wedding love merchant stock stuck bill call fast class holding cool post job little large smart said dollar
gain till given tune bad say reach lower read body standard gainer mass deal clear low matter small high hair quick
driver big red player heard real case ready block walk word boss noon fair numbers amend tea fly dark green holiday
early branch comes burger frame hard forward max pool pillow worth bunch line power blue son fall cook louder maker
lesser bright cloud range delay cover pounds fries proper master league sun fan link banks pass fish bath chance
roll burner record choice loose super storm lack lamp button wine daily ton orange fried lovely head snow wire
wear true goods channel dry key files sale stocks hook rice reading spring favorite forth hand justice brand
husband boring wake july grow hail poor begin will may told called paid booked bought sent asked wants needs says
went gave took made lost left found tried used came moved passed died lives living works working worked stays
stayed tells calls paying pays keeps kept hold holds rang rings emailed texted wrote writes booking
cook cooks chase hope joy may june april august march
""".split())


def _show(repo: tuple[str, str], path: str) -> str:
    out = subprocess.run(["git", "-C", str(MIRROR / repo[0] / "repo"), "show", f"{repo[1]}:{path}"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def given_names() -> list[str]:
    files = subprocess.run(["git", "-C", str(MIRROR / SSA[0] / "repo"), "ls-tree", "--name-only", SSA[1], "raw-data/"],
                           capture_output=True, text=True, check=True).stdout.split()
    best: dict[str, int] = {}
    for path in (f for f in files if f.startswith("raw-data/yob") and f.endswith(".txt")):
        for line in _show(SSA, path).splitlines():
            name, _sex, count = line.strip().split(",")
            best[name.lower()] = max(best.get(name.lower(), 0), int(count))
    return sorted(n for n, c in best.items() if c >= MIN_BABIES and n.isascii() and n.isalpha()
                  and n not in FUNCTION and n not in NOT_GIVEN)


def surnames() -> list[str]:
    rows = (line.split() for line in _show(CENSUS, "sources/census-1990/dist.all.last").splitlines() if line.strip())
    return sorted({r[0].lower() for r in rows if float(r[1]) >= MIN_SURNAME_PERCENT} - set(FUNCTION) - NOT_SURNAME)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, words, source in (
        ("given_names.txt", given_names(), f"SSA national baby names, >= {MIN_BABIES} babies in some year"),
        ("surnames.txt", surnames(), f"1990 US Census surnames, >= {MIN_SURNAME_PERCENT}% of people"),
    ):
        header = f"# {source}; public domain; built by scripts/build_name_lists.py (taxonomy/data/NAMES.md)\n"
        (OUT / name).write_text(header + "\n".join(words) + "\n", encoding="utf-8")
        print(f"{name}: {len(words):,} names")


if __name__ == "__main__":
    main()
