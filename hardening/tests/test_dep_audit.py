"""The dependency audit's matching logic (version ranges, names, allowlist) and its real data."""

from __future__ import annotations

import pytest

from hardening import dep_audit, yanked
from hardening.dep_audit import affected, parse_allowlist, parse_ghsa, requirement_pins, scan


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("5.2.7", "<5.2.8", True),
        ("5.2.8", "<5.2.8", False),
        ("5.2.19", ">=5.2a1,<5.2.8", False),
        ("5.1.9", ">=5.2a1,<5.2.8", False),
        ("5.2a1", ">=5.2a1,<5.2.8", True),
        ("6.0b1", "<6.0.5", True),  # pre-releases are inside ranges
        ("2.9.0.post0", "<2.9.0", False),
        ("2.9.0.post0", "<=2.9.0.post0", True),
        ("1.0", "==1.0", True),
        ("0.0.1", ">0", True),
        ("26.3", ">=0,<0", False),
        ("1.0", "<r5238", None),  # not PEP 440: cannot be evaluated
        ("not-a-version", "<1.0", None),
    ],
)
def test_affected_ranges(version, spec, expected):
    assert affected(version, spec) is expected


def _db():
    return parse_ghsa(
        {
            "PyJWT": [
                {"id": "GHSA-1", "cve": "CVE-2026-1", "v": "<2.13.0", "fixed_in": "2.13.0"},
            ],
            "zope_interface": [{"id": "GHSA-2", "cve": "N/A", "v": ">=8.0,<8.7"}],
            "django": [  # one advisory, one range per branch: reported once per version
                {"id": "GHSA-3", "cve": "CVE-2025-64459", "v": ">=5.2a1,<5.2.8"},
                {"id": "GHSA-3", "cve": "CVE-2025-64459", "v": "<5.2.8"},
                {"id": "GHSA-4", "cve": "", "v": "<r5238"},
            ],
        }
    )


def test_scan_normalises_names_and_dedupes_ranges():
    versions = {"pyjwt": {"2.12.1", "2.15.1"}, "zope-interface": {"8.6"}, "django": {"5.2.7"}}
    findings, unevaluated = scan(versions, _db(), {})
    got = [(f.package, f.version, f.advisory.id) for f in findings]
    assert got == [
        ("django", "5.2.7", "GHSA-3"),
        ("pyjwt", "2.12.1", "GHSA-1"),
        ("zope-interface", "8.6", "GHSA-2"),
    ]
    assert [(v, a.id) for v, a in unevaluated] == [("5.2.7", "GHSA-4")]
    assert findings[1].advisory.aliases == ("CVE-2026-1",)
    assert findings[2].advisory.aliases == ()  # "N/A" is no alias


def test_allowlist_by_id_or_alias_needs_a_reason():
    allow = parse_allowlist(
        "# comment\n\n"
        "Django  cve-2025-64459  we never pass user input as Q(**kwargs); upgrade in 2026-12\n"
    )
    assert allow == {
        ("django", "CVE-2025-64459"): "we never pass user input as Q(**kwargs); upgrade in 2026-12"
    }
    findings, _ = scan({"django": {"5.2.7"}, "pyjwt": {"2.0"}}, _db(), allow)
    assert [(f.package, bool(f.allowed)) for f in findings] == [("django", True), ("pyjwt", False)]
    with pytest.raises(ValueError, match="line 1"):
        parse_allowlist("django GHSA-3\n")


def test_requirement_pins():
    pins, loose = requirement_pins(
        "-r requirements.txt\n# note\nDjango==5.2.19\nunstructured[pptx,xlsx]==0.27.35\n"
        "zope.interface==8.7  # trailing comment\nrequests>=2\nfoo==1.*\n"
    )
    assert pins == {"django": "5.2.19", "unstructured": "0.27.35", "zope-interface": "8.7"}
    assert loose == ["requests>=2", "foo==1.*"]


def test_yanked_report_parsing():
    report = {
        "install": [
            {"is_yanked": True, "metadata": {"name": "hf_xet", "version": "1.8.0.dev0"}},
            {"is_yanked": False, "metadata": {"name": "Django", "version": "5.2.19"}},
        ]
    }
    stderr = (
        "WARNING: The candidate selected for download or install is a yanked version: 'hf-xet' "
        "candidate (version 1.8.0.dev0 at https://example.invalid/hf_xet.whl (from x))\n"
        "Reason for being yanked: missing critical bug fixes\n"
    )
    assert yanked.parse_report(report, stderr) == {
        ("hf-xet", "1.8.0.dev0"): "missing critical bug fixes"
    }
    assert yanked.rounds({"a": {"1", "2"}, "b": {"3"}}) == [{"a": "1", "b": "3"}, {"a": "2"}]


def test_real_databases_flag_known_vulnerable_versions():
    """The shipped data loads and finds what it should (our old setuptools seed, a Django CVE)."""
    dbs = dep_audit.load_databases()
    assert [db.name.split()[0] for db in dbs] == ["GHSA", "PyUp"]
    assert dbs[1].date == "published 2021-07-01"
    advisories = [a for db in dbs for a in db.advisories]
    findings, _ = scan({"setuptools": {"65.5.0"}, "django": {"5.2.7"}}, advisories, {})
    ids = {(f.package, alias) for f in findings for alias in f.advisory.aliases}
    assert ("setuptools", "CVE-2024-6345") in ids
    assert ("django", "CVE-2025-64459") in ids
