"""The innovation screen, the type precedence, the review round trip and the calibration tools."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cwsgeo import InventoryError
from cwsgeo._io import write_csv
from cwsgeo.analysis.texts import (
    REVIEW_COLUMNS,
    SCREEN_COLUMNS,
    ScreenThresholds,
    apply_reviews,
    cohen_kappa,
    confusion,
    estimate_type,
    excerpt,
    language_agreement,
    length_correlation,
    review_sheet,
    score_text,
    screen_spaces,
    screen_texts,
    threshold_sensitivity,
    tier_counts,
)

RICH_EN = ("A vibrant community of makers with a fab lab and 3D printing. We organise monthly "
           "afterworks, hackathons and talks, support startups with mentoring and investors, "
           "and collaborate on projects.")
RICH_ES = ("Una comunidad de makers con fab lab e impresión 3D. Organizamos afterworks mensuales,"
           " hackathons y charlas, apoyamos a startups con mentoría e inversores y colaboramos "
           "en proyectos.")
RICH_CA = ("Una comunitat de makers amb fab lab i impressió 3D. Organitzem afterworks, "
           "hackathons i xerrades, donem suport a startups amb mentoria i inversors i "
           "col·laborem en projectes.")
OFFICE = ("Business centre with virtual office, domiciliación fiscal, reception and mail "
          "handling. Executive offices for rent.")


def test_room_hire_is_not_an_event() -> None:
    for text in ("Disponemos de sala para talleres y sala de reuniones.",
                 "A meeting room for workshops and an event space for hire.",
                 "Alquiler de salas para eventos privados.",
                 "Disposem d'una sala per a tallers."):
        assert score_text(text).components["events"] == 0, text
    assert score_text("Organizamos talleres y charlas para la comunidad.").components[
        "events"] == 2
    assert score_text("We run workshops for members.").components["events"] >= 1


def test_three_languages_find_the_same_concepts() -> None:
    en, es, ca = (score_text(t) for t in (RICH_EN, RICH_ES, RICH_CA))
    assert en.components == es.components == ca.components
    assert en.estimated_type == es.estimated_type == ca.estimated_type == 3
    assert "fab lab" in en.evidence["makers"] and "afterwork" in ca.evidence["events"]


def test_distinct_capped_terms_do_not_reward_repetition() -> None:
    once = score_text("A community space.")
    many = score_text("community " * 500 + "comunidad comunitat communities")
    assert once.components == many.components and once.score == many.score == 1
    capped = score_text("startups incubation acceleration mentoring investors ecosystem")
    assert capped.components["startups"] == 2
    assert len(capped.evidence["startups"]) == 6  # evidence keeps every concept found


def test_business_centre_lowers_the_score_and_type() -> None:
    office = score_text(OFFICE)
    assert office.components["business"] == 2 and office.score == -2
    assert office.estimated_type == 1
    assert score_text(RICH_EN + " " + OFFICE).score == score_text(RICH_EN).score - 2


def test_estimate_type_rule_and_thresholds() -> None:
    th = ScreenThresholds()
    zero = dict.fromkeys(("community", "events", "projects", "startups", "makers",
                          "business"), 0)
    assert estimate_type(zero, th) == 1
    assert estimate_type({**zero, "community": 2}, th) == 2
    assert estimate_type({**zero, "community": 2, "projects": 2, "startups": 2}, th) == 2
    assert estimate_type({**zero, "community": 2, "projects": 2, "startups": 1,
                          "events": 1}, th) == 3
    with pytest.raises(ValueError, match="thresholds"):
        ScreenThresholds(type2=5, type3=4)
    with pytest.raises(ValueError, match="cap"):
        ScreenThresholds(cap=0)


def test_screen_texts_columns_and_missing() -> None:
    out = screen_texts(pd.Series([RICH_EN, None, "", OFFICE], index=list("abcd")))
    assert tuple(out.columns) == SCREEN_COLUMNS and out.index.tolist() == list("abcd")
    assert str(out["innovation_type_estimated"].dtype) == "Int64"
    assert out["innovation_type_estimated"].tolist()[0] == 3
    assert out["innovation_type_estimated"].isna().tolist() == [False, True, True, False]
    assert pd.isna(out.loc["b", "screen_evidence"]) and out.loc["b", "screen_score"] == 0
    assert len(out.loc["a", "screen_evidence"]) <= 160


def test_untrusted_text_is_only_matched() -> None:
    hostile = "{{ config }} ${jndi:x} =cmd|'/c calc'!A1 <script>alert(1)</script> community"
    s = score_text(hostile)
    assert s.components["community"] == 1 and s.estimated_type == 1


def _spaces() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["s1", "s2", "s3", "s4"],
        "name": ["=Rich", "Office", "Declared", "Silent"],
        "innovation_type": pd.array([None, None, 1, None], dtype="Int64"),
        "text": [RICH_EN, OFFICE, RICH_EN, None],
    })


def test_screen_spaces_declared_wins() -> None:
    out = screen_spaces(_spaces())
    assert out["innovation_type_estimated"].tolist()[:3] == [3, 1, 3]
    assert out["innovation_type_effective"].tolist()[:3] == [3, 1, 1]
    assert out["innovation_type_source"].tolist() == ["estimated", "estimated", "declared",
                                                      "none"]
    assert pd.isna(out["innovation_type_effective"].iloc[3])


def test_screen_spaces_joins_texts_by_id() -> None:
    spaces = _spaces().drop(columns="text")
    texts = pd.DataFrame({"text": [OFFICE, RICH_ES]}, index=pd.Index(["s2", "s1"], name="id"))
    out = screen_spaces(spaces, texts)
    assert out["text"].tolist()[:2] == [RICH_ES, OFFICE] and pd.isna(out["text"].iloc[2])
    with pytest.raises(KeyError, match="text"):
        screen_spaces(spaces)


def test_review_sheet_and_round_trip(tmp_path: Path) -> None:
    spaces = screen_spaces(_spaces())
    sheet = review_sheet(spaces)
    assert tuple(sheet.columns) == REVIEW_COLUMNS
    assert sheet["id"].tolist() == ["s1", "s2", "s4"]  # declared s3 is not reviewed
    assert sheet["suggested_type"].tolist()[:2] == [3, 1]
    assert (sheet["confirmed_type"] == "").all()
    assert sheet["excerpt"].str.len().max() <= 300
    # written through the project's CSV writer and read back, as a person would
    path = write_csv(sheet, tmp_path / "review.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back.loc[0, "name"] == "'=Rich"  # formula neutralised
    back.loc[0, "confirmed_type"] = "2"
    back.loc[1, "confirmed_type"] = "type 2"
    reviewed = apply_reviews(spaces, back, sheet_name="review.csv")
    assert reviewed["innovation_type_effective"].tolist()[:3] == [2, 2, 1]
    assert reviewed["innovation_type_source"].tolist() == ["reviewed", "reviewed", "declared",
                                                           "none"]
    # re-screening never turns a reviewed type back into an estimate
    again = screen_spaces(reviewed)
    assert again["innovation_type_source"].tolist()[:2] == ["reviewed", "reviewed"]
    assert again["innovation_type_effective"].tolist()[:2] == [2, 2]
    # a later sheet with blanks changes nothing; reviewed rows are left off by default
    later = review_sheet(again)
    assert later["id"].tolist() == ["s4"]
    assert apply_reviews(again, later)["innovation_type_effective"].tolist()[:2] == [2, 2]
    full = review_sheet(again, include_reviewed=True)
    assert full["confirmed_type"].tolist()[:2] == [2, 2]


def test_a_review_cannot_override_a_declared_type() -> None:
    spaces = screen_spaces(_spaces())
    sheet = pd.DataFrame({"id": ["s3"], "confirmed_type": ["3"]})
    out = apply_reviews(spaces, sheet)
    assert out.loc[2, "innovation_type_effective"] == 1
    assert out.loc[2, "innovation_type_source"] == "declared"


@pytest.mark.parametrize(("ids", "values", "match"), [
    (["s1", "s2"], ["2", "four"], r"review\.csv, row 3, column 'confirmed_type'.*'four'"),
    (["s9"], ["2"], r"row 2, column 'id'.*'s9'"),
    (["s1", "s1"], ["2", "3"], r"row 3.*confirmed as 2 on row 2 and as 3"),
])
def test_bad_review_values_name_the_row(ids: list[str], values: list[str], match: str) -> None:
    sheet = pd.DataFrame({"id": ids, "confirmed_type": values})
    with pytest.raises(InventoryError, match=match):
        apply_reviews(screen_spaces(_spaces()), sheet, sheet_name="review.csv")
    with pytest.raises(InventoryError, match="no 'confirmed_type' column"):
        apply_reviews(_spaces(), pd.DataFrame({"id": ["s1"]}))


def test_excerpt_prefers_evidence_sentences() -> None:
    text = ("Our building dates from 1900. " * 5 + "We host hackathons and afterworks for the "
            "community. " + "The view is nice. " * 20)
    out = excerpt(text, 120)
    assert out.startswith("We host hackathons") and len(out) <= 120
    assert excerpt(None) == "" and excerpt("x" * 1000, 300).endswith("…")


def test_kappa_and_confusion() -> None:
    a = pd.Series([1, 1, 2, 2, 3, 1])
    b = pd.Series([1, 2, 2, 2, 3, None])
    table = confusion(a, b)
    assert table.loc[1, 2] == 1 and int(table.to_numpy().sum()) == 5
    # by hand: po = 4/5, pe = (2*1 + 2*3 + 1*1)/25 = 9/25, kappa = (0.8-0.36)/0.64
    assert cohen_kappa(a, b) == pytest.approx((0.8 - 0.36) / 0.64)
    assert np.isnan(cohen_kappa(pd.Series([], dtype=float), pd.Series([], dtype=float)))
    assert tier_counts(pd.Series([1, 1, 3, None], dtype="Int64")) == {1: 2, 2: 0, 3: 1}


def test_language_agreement_sensitivity_and_length() -> None:
    texts = pd.DataFrame({"text_en": [RICH_EN, OFFICE, "A community.", None],
                          "text_es": [RICH_ES, "Oficina virtual y recepción.", "Comunidad.",
                                      "x"]})
    texts["text"] = texts["text_en"].fillna(texts["text_es"])
    kappa, table = language_agreement(texts)
    assert kappa == pytest.approx(1.0) and int(table.to_numpy().sum()) == 3
    sens = threshold_sensitivity(texts["text"])
    assert sens["setting"].tolist()[0] == "base" and (sens["changed"] >= 0).all()
    assert {"cap -1", "cap +1", "type2 -1", "type3 +1"} <= set(sens["setting"])
    assert (sens[["n_type1", "n_type2", "n_type3"]].sum(axis=1) == 4).all()
    scores = screen_texts(texts["text"])["screen_score"]
    r = length_correlation(scores, texts["text"])
    assert -1.0 <= r <= 1.0
    assert np.isnan(length_correlation(scores[:2], texts["text"][:2]))
