"""Issue 10 (part A): hostile uploads in the app show one ``st.error`` and the app stays usable."""

from __future__ import annotations

import zipfile

import pytest
from test_app import CJK  # fixtures `app` and `data_dir`: conftest.py


def _bomb_docx(tmp_path) -> bytes:
    """A small docx whose document.xml unpacks to 20 MB (a zip bomb in miniature)."""
    import docx

    p = tmp_path / "b.docx"
    d = docx.Document()
    d.add_paragraph("新江湾城街道年内新建一家社区食堂。")
    d.save(p)
    with zipfile.ZipFile(p) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    body = items["word/document.xml"].decode("utf-8")
    items["word/document.xml"] = body.replace("<w:body>", "<w:body><!--" + " " * (20 << 20) + "-->", 1).encode()
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return p.read_bytes()


def _upload_text_and_extract(app, name: str, data: bytes, mime: str) -> None:
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_texts").upload(name, data, mime)
    app.run()
    app.button(key="extract").click().run()


def _still_usable(app) -> None:
    assert not app.exception, [e.value for e in app.exception]
    app.radio(key="view").set_value("map").run()
    assert not app.exception
    assert any("新江湾城街道" in df.value.iloc[:, 0].astype(str).tolist() for df in app.dataframe)  # nothing lost


def test_zip_bomb_docx_upload_is_an_error(app, tmp_path):
    _upload_text_and_extract(app, "计划.docx", _bomb_docx(tmp_path),
                             "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert len(app.error) == 1 and CJK.search(app.error[0].value)
    assert "压缩炸弹" in app.error[0].value and "Word" not in app.error[0].value
    assert "xinjiangwan" not in app.session_state["geocoded"]
    _still_usable(app)


def test_oversized_upload_is_an_error(app, monkeypatch):
    import geo.ui

    monkeypatch.setattr(geo.ui, "MAX_UPLOAD_MB", 1)  # so the test need not upload 50 MB
    _upload_text_and_extract(app, "长文.txt", "新江湾城街道新建社区食堂。".encode() * 30_000, "text/plain")
    assert len(app.error) == 1 and "上传上限" in app.error[0].value
    _still_usable(app)


def test_undecodable_text_upload_is_an_error(app):
    _upload_text_and_extract(app, "乱码.txt", bytes(range(256)) * 40, "text/plain")
    assert len(app.error) == 1 and "二进制" in app.error[0].value
    assert "Traceback" not in app.error[0].value
    _still_usable(app)


# --------------------------------------------------------------------------- a bug in a view (issue: no catch-all)
def test_bug_in_a_view_is_one_line_with_the_log_and_the_page_stays(app, monkeypatch, tmp_path):
    """A view whose code raises shows one st.error naming the log file; the sidebar and other views still work."""
    import geo.ui

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    def broken(*_a, **_k):
        raise ZeroDivisionError("a bug in the green view")

    monkeypatch.setattr(geo.ui, "green_park_distance", broken)
    app.radio(key="view").set_value("green").run()
    assert not app.exception, [e.value for e in app.exception]
    (err,) = [e.value for e in app.error]
    (log,) = (cache / "lifecircle" / "errors").glob("lifecircle-error-*.log")
    assert str(log) in err and "500米见绿" in err and "ZeroDivisionError" in err and "未被改动" in err
    assert "Traceback" not in err
    text = log.read_text(encoding="utf-8")
    assert text.startswith("lifecircle app: 500米见绿\n") and "Traceback" in text
    assert "ZeroDivisionError: a bug in the green view" in text and "in broken" in text
    assert "category" in [w.key for w in app.sidebar.selectbox]  # the sidebar is drawn after the failure
    _still_usable(app)  # another view works
    app.radio(key="lang").set_value("en").run()
    app.radio(key="view.en").set_value("green").run()
    (err,) = [e.value for e in app.error]
    assert "failed (an internal error: ZeroDivisionError" in err and "untouched" in err and "lifecircle-error-" in err


def test_input_error_in_a_view_stays_a_plain_line(app, monkeypatch, tmp_path):
    """A LifecircleError raised inside a view is its own one line: no log file, no internal-error wording."""
    import geo.ui
    from geo.errors import InputError

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def refuse(*_a, **_k):
        raise InputError("绿地数据不可用。", "no green data.")

    monkeypatch.setattr(geo.ui, "green_park_distance", refuse)
    app.radio(key="view").set_value("green").run()
    assert not app.exception
    assert [e.value for e in app.error] == ["绿地数据不可用。"]
    assert not (tmp_path / "cache").exists()


def test_guard_lets_streamlit_control_flow_through(tmp_path, monkeypatch):
    """st.stop() / st.rerun() inside a guarded view are not errors: they leave the guard untouched."""
    from streamlit.runtime.scriptrunner import RerunException, StopException

    from geo import ui

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for exc in (StopException(), RerunException(None)):
        with pytest.raises(type(exc)):
            with ui.guard("view", "en") as seen:
                raise exc
        assert not seen.failed
    with ui.guard("view", "en") as seen:
        raise KeyError("x")
    assert seen.failed and len(list((tmp_path / "cache" / "lifecircle" / "errors").iterdir())) == 1


# --------------------------------------------------------------------------- one bad text never sinks the batch
def test_one_bad_text_does_not_sink_the_others(gazetteer, app):
    """Three texts, one good, one binary, one empty: the good one is extracted and geocoded, each bad one is a line."""
    good = "新江湾城街道2024年工作要点：年内新建2家长者食堂，改造提升新江湾城公园。".encode("gb18030")
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_texts").set_value([("乱码.txt", bytes(range(256)) * 40, "text/plain"),
                                                 ("工作要点.txt", good, "text/plain"),
                                                 ("空白.txt", b"", "text/plain")])
    app.run()
    app.button(key="extract").click().run()
    assert not app.exception, [e.value for e in app.exception]
    errors = sorted(e.value for e in app.error)
    assert len(errors) == 2 and not any("Traceback" in e for e in errors)
    assert errors[0].startswith("乱码.txt: ") and "二进制" in errors[0]  # named as uploaded, not by a temp path
    assert errors[1] == "空白.txt: 文件为空。"
    assert any("2 个文本未能读取" in w.value for w in app.warning)
    geo_df = app.session_state["geocoded"]["xinjiangwan"]
    assert set(geo_df["source"]) == {"工作要点.txt"}
    assert {"canteen", "park"} <= set(geo_df["category"]) and "match_status" in geo_df
    _still_usable(app)


def test_every_text_bad_lists_each_and_keeps_nothing(app, monkeypatch):
    import geo.ui

    monkeypatch.setattr(geo.ui, "MAX_UPLOAD_MB", 1)  # so the test need not upload 50 MB
    app.session_state["geocoded"].pop("xinjiangwan", None)
    app.radio(key="view").set_value("material").run()
    app.file_uploader(key="up_texts").set_value([("a.txt", bytes(range(256)) * 40, "text/plain"),
                                                 ("b.txt", "新建社区食堂。".encode() * 100_000, "text/plain")])
    app.run()
    app.button(key="extract").click().run()
    assert not app.exception, [e.value for e in app.exception]
    errors = sorted(e.value for e in app.error)
    assert len(errors) == 2 and "二进制" in errors[0] and errors[1] == "b.txt: 文件超过 1 MB 的上传上限。"
    assert not app.warning and "xinjiangwan" not in app.session_state["geocoded"]
    _still_usable(app)


def test_bug_in_the_computation_keeps_the_sidebar_and_recovers(app, monkeypatch, tmp_path):
    """A bug in the coverage run itself: one line with the log, the sidebar stays; once fixed, the page is back."""
    import geo.ui

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = geo.ui.run

    def broken(*_a, **_k):
        raise IndexError("a bug in the run")

    monkeypatch.setattr(geo.ui, "run", broken)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    (err,) = [e.value for e in app.error]
    (log,) = (tmp_path / "cache" / "lifecircle" / "errors").glob("*.log")
    assert "IndexError: a bug in the run" in err and str(log) in err and "IndexError: a bug in the run" in log.read_text()
    assert "category" in [w.key for w in app.sidebar.selectbox]
    monkeypatch.setattr(geo.ui, "run", real)
    _still_usable(app)
