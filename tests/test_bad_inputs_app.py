"""Issue 10 (part A): hostile uploads in the app show one ``st.error`` and the app stays usable."""

from __future__ import annotations

import zipfile

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
    assert "geocoded" not in app.session_state
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
