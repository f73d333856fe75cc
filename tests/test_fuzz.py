"""Issue 10 (part A): fuzzing the text reader, the mention extractor and the facility-table reader.

Whatever the bytes, these functions either return or raise a
:class:`geo.errors.LifecircleError` (one clear line for the user): never a
``UnicodeDecodeError``, ``AttributeError``, ``KeyError`` ... Each test has a
fixed budget (``max_examples``, a per-example ``deadline``) and is derandomized,
so a failure reproduces.
"""

from __future__ import annotations

import codecs
import csv
import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import facilities as F
from geo import texts
from geo.categories import CATEGORIES
from geo.errors import LifecircleError

BUDGET = settings(max_examples=600, deadline=timedelta(seconds=10), derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                         HealthCheck.data_too_large])

# words that drive the extraction rules deep: facility keywords, places, verbs, numbers, quotes, table bars
WORDS = sorted({k for c in CATEGORIES.values() for k in c.keywords} | {c.zh for c in CATEGORIES.values()}) + [
    "新江湾城街道", "殷行街道", "杨浦区", "闵行区", "古美街道", "新建", "改造", "提升", "建成", "计划", "将", "已",
    "年内", "过去一年", "其中", "两家", "3个", "十二所", "各新建一家", "和", "、", "的", "“", "”", "《", "》",
    "（", "）", "，", "。", "；", "：", "！", "？", " | ", "\n", " ", "表示", "办事处", "第", "期", "分中心", "新馆",
    "A", "1", "-", "—", "·", "\t", "\r", "\u3000", "\ufeff", "=", "𠀀", "é", "\x00",
]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    texts.extract_mentions("新建社区食堂。")  # load jieba and the gazetteer once, outside the budget
    return tmp_path_factory.mktemp("fuzz")


def _encode(text: str, enc: str) -> bytes:
    return codecs.encode(text, enc, errors="ignore") if enc != "utf-16-odd" else text.encode("utf-16") + b"\x01"


policy_like = st.lists(st.sampled_from(WORDS), max_size=60).map("".join)
file_bytes = st.one_of(
    st.binary(max_size=3000),
    st.tuples(policy_like, st.sampled_from(ENCODINGS + ["utf-16-odd"])).map(lambda t: _encode(*t)),
    st.tuples(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04", b"%PDF-1.4\n"]),
              st.binary(max_size=500)).map(b"".join),
)


def _no_crash(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except LifecircleError as exc:
        msg = exc.message("en")
        assert msg and "\n" not in msg
        return None


@BUDGET
@given(data=file_bytes, suffix=st.sampled_from([".txt", ".txt", ".md", ".docx", ".pdf"]))
def test_read_text_and_extract_on_random_files(workdir, data, suffix):
    p = workdir / f"input{suffix}"
    p.write_bytes(data)
    text = _no_crash(texts.read_text, p)
    if text is not None:
        df = texts.extract_mentions(text, source=p.name)
        assert list(df.columns) == texts.COLUMNS + texts.EXTRA_COLUMNS


@BUDGET
@given(text=st.one_of(policy_like, st.text(max_size=400)))
def test_extract_mentions_on_random_texts(workdir, text):
    df = texts.extract_mentions(text, source="fuzz.txt")
    assert set(df["category"]) <= set(CATEGORIES)
    assert (df["sentence"].str.len() <= texts.MAX_SENTENCE_CHARS).all()


# a real .docx whose word/document.xml is replaced by random, often broken, WordprocessingML
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
xml_bits = st.sampled_from(["<w:body>", "</w:body>", "<w:p>", "</w:p>", "<w:r>", "</w:r>", "<w:t>", "</w:t>",
                            "<w:tbl>", "</w:tbl>", "<w:tr>", "<w:tc>", "</w:tc>", "</w:tr>", "<w:sectPr/>", "<foo>",
                            "新建社区食堂", "殷行街道", "&amp;", "&bogus;", "<!--", "-->", "<?xml?>", "\x00", "]]>"])
document_xml = st.one_of(
    st.lists(xml_bits, max_size=40).map(lambda b: f"<w:document {_W}>" + "".join(b) + "</w:document>"),
    st.lists(xml_bits, max_size=40).map("".join),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture(scope="module")
def docx_template(workdir) -> dict[str, bytes]:
    import zipfile

    import docx

    p = workdir / "template.docx"
    d = docx.Document()
    d.add_paragraph("殷行街道年内新建一家社区食堂。")
    d.save(p)
    with zipfile.ZipFile(p) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


@BUDGET
@given(body=document_xml)
def test_read_text_on_docx_with_random_document_xml(workdir, docx_template, body):
    import zipfile

    p = workdir / "random.docx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in docx_template.items():
            zf.writestr(name, body.encode("utf-8", errors="surrogatepass") if name == "word/document.xml" else data)
    text = _no_crash(texts.read_text, p)
    if text is not None:
        texts.extract_mentions(text, source=p.name)


HEADERS = ["name", "名称", "category", "类别", "type", "lon", "lat", "经度", "纬度", "x", "y", "status", "状态",
           "source", "facility_id", "id", "match_status", "备注", "", "lon", "=1+1"]
cell = st.one_of(
    st.sampled_from(sorted(CATEGORIES) + [c.zh for c in CATEGORIES.values()] + ["existing", "planned", "规划",
                    "121.5", "31.3", "31.2°", "1e308", "nan", "-", "", "NA", "inf", "manual", "osm:node/1"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=100, max_value=140).map(str),
    st.floats(min_value=20, max_value=45).map(str),
    st.text(max_size=12),
)


@st.composite
def csv_tables(draw) -> tuple[bytes, str]:
    cols = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7))
    rows = draw(st.lists(st.lists(cell, min_size=len(cols), max_size=len(cols)), max_size=12))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=draw(st.sampled_from([",", ",", "\t", ";"])))
    w.writerow(cols)
    w.writerows(rows)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = buf.getvalue().encode(enc, errors="ignore")
    if draw(st.booleans()):  # sometimes truncated mid-row or mid-character
        data = data[: draw(st.integers(0, len(data)))]
    return data, draw(st.sampled_from([".csv", ".csv", ".tsv", ".txt"]))


@settings(BUDGET, max_examples=600)
@given(table=csv_tables(), datum=st.sampled_from(["wgs84", "gcj02", "bd09"]))
def test_facility_table_reader_on_random_tables(workdir, table, datum):
    data, suffix = table
    p = workdir / f"facilities{suffix}"
    p.write_bytes(data)
    out = _no_crash(F.read_facilities, p, datum=datum)
    if out is not None:
        assert list(out.columns[:6]) == F.FACILITY_COLUMNS[:6]
        assert set(out["category"]) <= set(CATEGORIES)
        assert out.crs.to_epsg() == 4326
        _no_crash(F.dedupe, out)
