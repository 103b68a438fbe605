"""static/chatbot/widget.js is generated from static_src/widget/*.js (chatbot_project/
build_widget.py): a hand edit of widget.js, or a source edited without rebuilding, fails here.
No browser needed."""

from __future__ import annotations

from chatbot_project import build_widget


def test_widget_js_is_the_build_of_its_sources():
    served = build_widget.OUTPUT.read_text(encoding="utf-8")
    assert served == build_widget.build(), (
        "static/chatbot/widget.js differs from the build of static_src/widget/: edit the sources, "
        "then run `python -m chatbot_project.build_widget` and commit both"
    )
    assert build_widget.main(["--check"]) == 0


def test_every_source_is_built_and_each_stays_within_the_house_limit():
    assert build_widget.unlisted() == []
    for name in [build_widget.HEADER, *build_widget.SOURCES]:
        text = (build_widget.SOURCE_DIR / name).read_text(encoding="utf-8")
        assert text.count("\n") <= 400, f"{name}: split it along a seam (house limit, 400 lines)"


def test_the_output_says_it_is_generated_and_where_to_edit():
    head = build_widget.build()[:400]
    assert "GENERATED FILE, do not edit" in head
    assert "static_src/widget/" in head
    assert "python -m chatbot_project.build_widget" in head


def test_check_fails_on_a_hand_edited_output(tmp_path, monkeypatch, capsys):
    edited = tmp_path / "widget.js"
    edited.write_text(build_widget.build().replace("use strict", "use  strict"), encoding="utf-8")
    monkeypatch.setattr(build_widget, "OUTPUT", edited)
    assert build_widget.main(["--check"]) == 1
    assert "python -m chatbot_project.build_widget" in capsys.readouterr().err
