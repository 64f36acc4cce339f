"""The report's key findings read as sentences: skipped tests say why, cluster counts as words."""

from __future__ import annotations

from cwsgeo.outputs.findings import report_sections


def _key_lines(statistics: dict) -> list[str]:
    sections = report_sections(statistics, {}, {})
    return [line for s in sections if s.key for line in s.paragraphs]


def test_a_skipped_network_kd_says_why_and_counts_read_as_words() -> None:
    stats = {
        "meta": {"reference": "addresses", "n_sims": 999},
        "inputs": {},
        "tests": [],
        "agglomeration": {"spaces": {
            "localized": True, "localized_distances_m": [[0.0, 900.0]], "n_sims": 999, "n": 40,
            "euclidean": {"localized": True, "localized_distances_m": [[0.0, 900.0]],
                          "n_sims": 999, "n": 40},
            "network": {"skipped": "2,000 spaces: over the walking network Kd is run up to 600",
                        "n": 2000}}},
        "hotspots": {"hexes": {"moran_i": 0.3, "p_value": 0.001, "n": 500,
                               "significant": {"HH": 29, "LH": 27, "LL": 0, "HL": 0}}},
    }
    text = " ".join(_key_lines(stats))
    assert "Agglomeration (network distance): not tested (2,000 spaces" in text
    assert "drawn None times" not in text
    assert "significant units: 29 high-high, 27 low-high." in text
    assert "{" not in text


def test_no_significant_unit_reads_none() -> None:
    stats = {"meta": {}, "inputs": {}, "tests": [],
             "hotspots": {"barris": {"moran_i": 0.1, "p_value": 0.2, "n": 73,
                                     "significant": {"HH": 0, "LH": 0, "LL": 0, "HL": 0}}}}
    assert "significant units: none." in " ".join(_key_lines(stats))
