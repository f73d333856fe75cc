"""Issue 10 (part A): hostile policy texts through ``lifecircle extract`` and ``read_text``.

Each class gives exit code 2 and one line on stderr when it is an error (no
traceback, nothing written, earlier outputs intact), or is read when it can be.
"""

from __future__ import annotations

import io
import re
import resource
import zipfile

import pandas as pd
import pytest

from geo import limits, texts
from geo.cli import main
from geo.errors import InputError

TEXT = "殷行街道年内新建一家社区食堂，并改造黄兴公园。"


def _run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(["--lang", "en", "extract", *argv])
    cap = capsys.readouterr()
    return code, cap.err.strip().splitlines(), cap.out


def _docx(path, text: str = TEXT):
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    d.save(path)
    return path


def _replace_member(path, member: str, data: bytes):
    """Rewrite a zip with one member replaced (compressed)."""
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, body in items:
            zf.writestr(name, data if name == member else body)


def _one_error(err: list[str], *words: str) -> None:
    assert len(err) == 1, err
    assert err[0].startswith("lifecircle extract: error:")
    for w in words:
        assert w in err[0], (w, err[0])
    assert "Traceback" not in err[0]


# --------------------------------------------------------------------------- decoders
def test_utf16_bom_odd_length_is_read(tmp_path, capsys):
    p = tmp_path / "odd.txt"
    p.write_bytes(TEXT.encode("utf-16") + b"\x00")  # BOM + text + one stray byte
    assert len(p.read_bytes()) % 2 == 1
    assert "社区食堂" in texts.read_text(p)
    code, err, _ = _run(capsys, str(p), "-o", str(tmp_path / "f.csv"))
    assert code == 0 and not any("error" in e for e in err)
    assert (pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig")["category"] == "canteen").any()


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text_not_binary(tmp_path, enc):
    p = tmp_path / "nobom.txt"
    p.write_bytes(("第1条 " + TEXT + "\n2024年\n").encode(enc))
    text, used = texts.decode_bytes(p.read_bytes(), p)
    assert used == enc.replace("-", "_") and "社区食堂" in text
    assert "社区食堂" in texts.read_text(p)


def test_random_binary_is_still_binary(tmp_path):
    p = tmp_path / "bin.txt"
    p.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match="binary"):
        texts.read_text(p)


# --------------------------------------------------------------------------- docx
def test_docx_with_corrupt_document_xml_is_one_line(tmp_path, capsys):
    p = _docx(tmp_path / "bad.docx")
    _replace_member(p, "word/document.xml", b"<foo/>")  # well-formed XML, not a Word body
    code, err, _ = _run(capsys, str(p), "-o", str(tmp_path / "f.csv"))
    assert code == 2
    _one_error(err, "bad.docx", "Word")
    assert not (tmp_path / "f.csv").exists()


def test_docx_with_truncated_document_xml_is_one_line(tmp_path, capsys):
    p = _docx(tmp_path / "cut.docx")
    with zipfile.ZipFile(p) as zf:
        body = zf.read("word/document.xml")
    _replace_member(p, "word/document.xml", body[: len(body) // 2])
    with pytest.raises(InputError, match="Word"):
        texts.read_text(p)


def _bomb_docx(path, mb: int = 20):
    """A docx whose document.xml expands to ``mb`` MB from a few kB."""
    p = _docx(path)
    with zipfile.ZipFile(p) as zf:
        body = zf.read("word/document.xml").decode("utf-8")
    pad = "<!--" + " " * (mb * 1024 * 1024) + "-->"
    _replace_member(p, "word/document.xml", body.replace("<w:body>", "<w:body>" + pad, 1).encode("utf-8"))
    return p


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path, capsys):
    p = _bomb_docx(tmp_path / "bomb.docx")
    assert p.stat().st_size < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = tmp_path / "f.csv"
    out.write_text("earlier output", encoding="utf-8")
    code, err, _ = _run(capsys, str(p), "-o", str(out))
    assert code == 2
    _one_error(err, "bomb.docx", "too large", "zip bomb")
    assert "Word" not in err[0]  # it is not blamed on the format
    assert out.read_text(encoding="utf-8") == "earlier output"
    # nothing was expanded: the peak RSS of this process did not grow by the bomb's size
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 15 * 1024


def test_zip_limits_total_and_members(tmp_path, monkeypatch):
    p = tmp_path / "many.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        for i in range(5):
            zf.writestr(f"m{i}.xml", "x" * 1000)
    limits.check_zip(p)  # small, well compressed members pass
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 4)
    with pytest.raises(InputError, match="5 members"):
        limits.check_zip(p)
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 10_000)
    monkeypatch.setattr(limits, "MAX_UNZIPPED_MB", 0.001)
    with pytest.raises(InputError, match="too large when unpacked"):
        limits.check_zip(p)
    (tmp_path / "not-a-zip.docx").write_bytes(b"x")
    limits.check_zip(tmp_path / "not-a-zip.docx")  # not a zip: left to the reader, which names the format


def test_xlsx_bomb_as_facility_table_is_refused(tmp_path):
    from geo import facilities as F

    p = tmp_path / "table.xlsx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(InputError, match="zip bomb"):
        F.read_facility_table(p)


# --------------------------------------------------------------------------- sizes and long sentences
def test_oversized_text_is_refused_with_the_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(texts, "MAX_TEXT_MB", 0.001)  # 1 kB for the test
    p = tmp_path / "long.txt"
    p.write_text(TEXT * 100, encoding="utf-8")
    code, err, _ = _run(capsys, str(p), "-o", str(tmp_path / "f.csv"))
    assert code == 2
    _one_error(err, "long.txt", "too large", "0.001 MB")


def test_text_without_sentence_punctuation_keeps_bounded_context():
    phrase = "街道新建社区食堂和养老院并推进口袋公园建设"
    text = phrase * 2000  # 44 000 characters, no sentence end
    df = texts.extract_mentions(text, source="x")
    assert len(df) > 1000
    assert df["sentence"].str.len().max() <= limits.MAX_SENTENCE_CHARS
    assert set(df["category"]) >= {"canteen", "elderly_care", "park"}


def test_bounded_cuts_at_clause_marks():
    s = "甲" * 250 + "，" + "乙" * 250 + "。"
    parts = texts._bounded([s], limit=300)
    assert "".join(parts) == s
    assert parts[0] == "甲" * 250 + "，" and all(len(x) <= 300 for x in parts)
    assert texts._bounded(["丙" * 700], limit=300) == ["丙" * 300, "丙" * 300, "丙" * 100]


# --------------------------------------------------------------------------- library noise
def _noisy_pdf(path):
    """A PDF whose startxref pointer is wrong: pypdf recovers and logs about it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    c.drawString(50, 800, TEXT)
    c.save()
    path.write_bytes(re.sub(rb"startxref\s+\d+", b"startxref\n999", buf.getvalue()))
    return path


def test_pdf_library_noise_is_captured(tmp_path, capfd):
    p = _noisy_pdf(tmp_path / "noisy.pdf")
    code = main(["--lang", "en", "extract", str(p), "-o", str(tmp_path / "f.csv")])
    cap = capfd.readouterr()
    assert code == 0
    assert "startxref" not in cap.err + cap.out and "Object Streams" not in cap.err + cap.out
    assert (pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig")["category"] == "canteen").any()


# --------------------------------------------------------------------------- several files
def test_cli_extract_reads_every_file_it_can(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary" * 50)
    bomb = _bomb_docx(tmp_path / "bomb.docx", mb=5)
    out = tmp_path / "facilities.csv"
    code, err, stdout = _run(capsys, str(good), str(bad), str(bomb), str(tmp_path / "nope.txt"), "-o", str(out))
    assert code == 2  # some texts failed: a script sees it, and the good ones' table is written all the same
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert len(table) and set(table["source"]) == {"good.txt"}
    assert not list(tmp_path.glob(".facilities*"))
    assert len(err) == 3 and not any("Traceback" in e for e in err)
    assert "bad.txt" in err[0] and "binary" in err[0]
    assert "bomb.docx" in err[1] and "zip bomb" in err[1]
    assert "nope.txt" in err[2] and "not found" in err[2]
    assert "3 file(s) could not be read" in stdout


def test_cli_extract_no_readable_file_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary" * 50)
    out = tmp_path / "facilities.csv"
    out.write_text("earlier", encoding="utf-8")
    code, err, _ = _run(capsys, str(bad), str(tmp_path / "nope.txt"), "-o", str(out))
    assert code == 2
    assert out.read_text(encoding="utf-8") == "earlier" and not list(tmp_path.glob(".facilities*"))
    assert len(err) == 2 and "bad.txt" in err[0] and "nope.txt" in err[1]


def test_errors_survive_copies_of_the_table_that_lists_them(tmp_path):
    """extract_files keeps the errors of unreadable files in df.attrs; pandas deep-copies attrs on slicing."""
    import copy
    import pickle

    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    df = texts.extract_files([good, tmp_path / "nope.txt"], errors="collect")
    part = df[texts.COLUMNS]  # deep-copies attrs
    (exc,) = part.attrs["problems"]
    assert isinstance(exc, InputError) and exc.message("en").endswith("file not found; check the path.")
    again = pickle.loads(pickle.dumps(copy.deepcopy(exc)))
    assert (again.zh, again.en, again.path) == (exc.zh, exc.en, exc.path)
