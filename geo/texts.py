"""Reading policy texts and extracting the facilities they mention.

Reading (:func:`read_text`)
    ``.txt`` in any common Chinese encoding (UTF-8 with or without BOM,
    GB18030/GBK, Big5; detected with charset-normalizer, preferring Chinese
    encodings), ``.docx`` (paragraphs and tables, python-docx) and ``.pdf``
    (pypdf). Traditional glyphs are converted to simplified (OpenCC), web-page
    debris is dropped (navigation, counters, share buttons, ICP lines,
    "猜你喜欢" headline lists, repeated SEO title fragments), full-width forms
    are normalised (NFKC) while Chinese sentence punctuation is kept.

Extraction (:func:`extract_mentions`)
    jieba, with a user dictionary built from the taxonomy keywords
    (:mod:`geo.categories`) and the gazetteer names (:mod:`geo.gazetteer`),
    segments each sentence. A facility mention is a taxonomy keyword that ends
    a noun phrase (the *head*); the words before it, back to a verb, a function
    word or punctuation, are its modifier. A modifier with a proper part (a
    place, a road, a number such as 228, a quoted title) makes a *named*
    facility; "N个/家/所 …", or a count after the noun ("助浴点新增3个",
    "达到15个"), makes a *counted* mention, an ordinal (第5家) does not; a bare
    type noun is a *generic* mention and is only kept when a construction verb
    governs it (built on a named site, "在乳品八厂地块打造新型菜场", it is named by
    it); green type names (沿街绿地, :data:`geo.categories.GENERIC_TERMS`) never
    name one. Names that jieba cuts into single characters (共/康/幼儿园, 国/和/路)
    are taken back whole; a quoted brand keeps its place (世博滨江“望江驿”); a
    branch after the head (新馆, 许泾分中心) and a part of the facility (…小学操场)
    leave the facility in place, a predicate (计划/预计/开展 …) ends it, a housing
    estate (…公园里小区) is none; an alias in
    brackets after a name is not a second facility; "A和B各新建一家" counts two;
    a plain service head (服务综合体, 服务站) takes the category of a modifier word
    the taxonomy uses for one category only (养老 → elderly care).
    Organisations (research/innovation/administrative modifiers, a subject that
    speaks: "…街道办事处表示"), programmes (abstract modifiers such as 幸福/美好),
    area words (滨江) and the closing signature of a letter are not facilities.
    Status (existing, upgrading, building = under construction, planned) comes
    from the cues of the mention's own clause (and of the clause it continues,
    "其中…", or a following "预计…" clause; a list item "（四）X：正在建设" from its
    body); paragraphs that open looking back ("过去一年", "…以来") and sections
    headed 总结/主要工作/现状 report done work; in sections headed 目标/计划/重点项目 a
    count without cues is a target and completions ("2025年建成") are planned.
    District and subdistrict come from the name itself, a subdistrict that opens
    the sentence or a clause or fills a table cell, then the document's title and
    issuer (or the subdistrict that dominates the text). Space-separated table
    rows are read as rows, as docx tables are.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .categories import CATEGORIES, GENERIC_TERMS, label
from .errors import InputError, LifecircleError
from .gazetteer import Gazetteer, Resolution, load_gazetteer
from .io import atomic_file, require_file, to_csv_bom
from .limits import MAX_SENTENCE_CHARS, MAX_TEXT_MB, check_size, check_zip

if TYPE_CHECKING:  # jieba is imported when the first text is read (it takes a while)
    from jieba.posseg import POSTokenizer

__all__ = [
    "COLUMNS",
    "EXTRA_COLUMNS",
    "read_text",
    "decode_bytes",
    "clean_text",
    "split_sentences",
    "extract_mentions",
    "extract_files",
    "print_problems",
    "cli_extract",
]

COLUMNS = ["name", "category", "status", "count", "district", "subdistrict", "source", "sentence"]
EXTRA_COLUMNS = ["mention_type", "name_raw", "subdistrict_raw", "corrected", "confidence"]

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------
_CHINESE_ENCODINGS = ("utf_8", "gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950", "cp936",
                      "utf_16", "utf_16_le", "utf_16_be", "utf_32")
_TRADITIONAL_ENCODINGS = ("big5", "big5hkscs", "cp950")


def _is_binary(data: bytes) -> bool:
    sample = data[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in sample:
        return True
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return ctrl > max(4, len(sample) // 200)


def _cjk_share(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff") / len(text)


def _texty(text: str) -> bool:
    """Does decoded text read as text: nearly all ASCII, CJK, CJK/full-width punctuation or line breaks?"""
    if not text:
        return False
    common = sum(1 for c in text if " " <= c <= "~" or c in "\n\r\t" or "\u4e00" <= c <= "\u9fff"
                 or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" or "\u2000" <= c <= "\u206f")
    return common >= 0.9 * len(text)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 (LE or BE) without a BOM: zero bytes mostly on one side of each pair, and the text reads as text."""
    sample = data[:8192]
    zeros = [i for i, b in enumerate(sample) if b == 0]
    if len(zeros) < 4:
        return None
    odd = sum(i % 2 for i in zeros)
    if max(odd, len(zeros) - odd) < 0.8 * len(zeros):  # 一 (U+4E00) and the like put some on the other side
        return None
    enc = "utf_16_le" if odd * 2 > len(zeros) else "utf_16_be"
    text = data[: len(data) - len(data) % 2].decode(enc, errors="replace")
    return (text, enc) if _texty(text[:4096]) else None


def decode_bytes(data: bytes, path: str | Path | None = None) -> tuple[str, str]:
    """Decode the bytes of a plain-text file; returns ``(text, encoding)``.

    A BOM decides (a truncated last UTF-16 unit becomes U+FFFD, it does not
    fail); UTF-16 without a BOM is recognised by where its zero bytes lie;
    strict UTF-8 is tried next (it is self-validating); otherwise
    charset-normalizer ranks candidates and a Chinese encoding among them wins
    over a Western or Japanese one of similar fit.

    Raises
    ------
    InputError
        Binary data, or bytes no encoding decodes.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf_8_sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf_16"
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if _is_binary(data):
        raise InputError("这是二进制文件，不是文本。请提供 .txt、.docx 或 .pdf。",
                         "this is a binary file, not text; give a .txt, .docx or .pdf.", path)
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer as cn

    results = list(cn.from_bytes(data))
    ranked = [r for r in results if r.encoding in _CHINESE_ENCODINGS] + \
             [r for r in results if r.encoding not in _CHINESE_ENCODINGS]
    for r in ranked:
        text = str(r)
        if r.encoding in _CHINESE_ENCODINGS or _cjk_share(text) < 0.05:
            return text, r.encoding
    # short or truncated samples: strict Chinese decodes, the one that reads as more Chinese
    best: tuple[float, str, str] | None = None
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _cjk_share(text)
        if best is None or score > best[0]:
            best = (score, text, enc)
    if best is not None:
        return best[1], best[2]
    raise InputError("无法识别文本编码（不是 UTF-8、GB18030/GBK 或 Big5）。请另存为 UTF-8 后重试。",
                     "cannot detect the text encoding (not UTF-8, GB18030/GBK or Big5); save it as UTF-8 and retry.",
                     path)


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _to_simplified(text: str, force: bool = False) -> str:
    """Traditional → simplified glyphs when the text is (mostly) traditional."""
    conv = _t2s().convert(text)
    if force:
        return conv
    changed = sum(1 for a, b in zip(text, conv) if a != b)
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return conv if cjk and changed / cjk > 0.03 else text


@contextlib.contextmanager
def _quiet_libraries(*loggers: str):
    """Capture what parsing libraries print, warn or log (pypdf ...): it never appears beside our lines.

    What they said goes to this module's debug log. The stdout/stderr redirection is
    process-wide: in the app, another session printing during a read is captured too.
    """
    saved = []
    for name in loggers:
        lg = logging.getLogger(name)
        saved.append((lg, lg.propagate, lg.handlers[:]))
        lg.handlers, lg.propagate = [logging.NullHandler()], False
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, prop, handlers in saved:
            lg.handlers, lg.propagate = handlers, prop
        if sink.getvalue().strip():
            log.debug("library output while reading: %s", sink.getvalue().strip()[:500])


def _read_docx(path: Path) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(path)
    lines: list[str] = []
    try:
        with _quiet_libraries("docx"):
            doc = docx.Document(str(path))
            for block in doc.iter_inner_content():  # document order: paragraphs and tables
                if isinstance(block, Paragraph):
                    lines.append(block.text)
                elif isinstance(block, Table):
                    for row in block.rows:
                        cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells repeat
                        lines.append(" | ".join(c for c in cells if c))  # a row is one record: one clause
                    lines.append("")
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors, AttributeError on a broken document.xml ...
        raise InputError(f"无法读取 Word 文件（{type(exc).__name__}）。请确认是 .docx 格式（旧版 .doc 请另存为 .docx）。",
                         f"cannot read this Word file ({type(exc).__name__}); it must be .docx (save old .doc files as .docx).",
                         path) from None
    return "\n".join(lines)


def _read_pdf(path: Path) -> str:
    import pypdf

    try:
        with _quiet_libraries("pypdf"):
            reader = pypdf.PdfReader(str(path))
            pages = [p.extract_text() or "" for p in reader.pages]
    except Exception as exc:  # pypdf.errors.PdfReadError, ...
        raise InputError(f"无法读取 PDF 文件（{type(exc).__name__}）。文件可能已损坏或加密。",
                         f"cannot read this PDF ({type(exc).__name__}); it may be damaged or encrypted.", path) from None
    if not "".join(pages).strip():
        raise InputError("PDF 中没有可提取的文字（可能是扫描图片）。请先做文字识别（OCR）。",
                         "the PDF has no extractable text (a scanned image?); run OCR first.", path)
    return "\n\n".join(_join_wrapped_lines(p.splitlines()) for p in pages)


_END_PUNCT = "。！？；：!?;:”’」』)）】》"


def _join_wrapped_lines(lines: list[str]) -> str:
    """Undo the line wrapping of a PDF page: a full line that does not end a sentence continues."""
    lines = [ln.rstrip() for ln in lines]
    width = max((len(ln) for ln in lines), default=0)
    out: list[str] = []
    for ln in lines:
        if out and out[-1] and len(out[-1]) >= 0.8 * width and out[-1][-1] not in _END_PUNCT:
            out[-1] += ln.strip()
        else:
            out.append(ln.strip())
    return "\n".join(out)


def read_text(path: str | Path) -> str:
    """Read a policy text (.txt in any Chinese encoding, .docx, .pdf), cleaned and normalised.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One paragraph a line, debris removed, simplified glyphs, NFKC forms
        with Chinese sentence punctuation kept.

    Raises
    ------
    InputError
        Missing, empty, binary, undecodable or unsupported files, and files
        with no text left after cleaning.
    """
    p = require_file(path)
    if p.is_dir():
        raise InputError("这是一个文件夹，请给出文本文件。", "this is a folder; give a text file.", p)
    check_size(p, MAX_TEXT_MB)
    suffix = p.suffix.lower()
    if suffix == ".docx":
        raw, traditional = _read_docx(p), False
    elif suffix == ".pdf":
        raw, traditional = _read_pdf(p), False
    elif suffix == ".doc":
        raise InputError("不支持旧版 .doc 文件，请另存为 .docx。", "old .doc files are not supported; save as .docx.", p)
    elif suffix in TEXT_SUFFIXES:
        raw, enc = decode_bytes(p.read_bytes(), p)
        traditional = enc in _TRADITIONAL_ENCODINGS
    else:
        raise InputError(f"不支持的文件类型 {suffix}：请提供 .txt、.docx 或 .pdf。",
                         f"unsupported file type {suffix}: give a .txt, .docx or .pdf.", p)
    text = clean_text(_to_simplified(raw, force=traditional))
    if not text.strip():
        raise InputError("清理网页杂项后没有剩下正文文字。", "no text is left after removing web-page debris.", p)
    return text


# ---------------------------------------------------------------------------------
# cleaning
# ---------------------------------------------------------------------------------
_KEEP_PUNCT = set("，。！？；：、（）“”‘’《》〈〉【】「」『』—…·～")
_ASCII_TO_ZH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJK = r"\u3400-\u9fff"

# lines that are web furniture whatever their length
_DEBRIS_STRONG = re.compile(
    r"ICP备|ICP证|公网安备|许可证[:：]|增值电信|版权所有|©|Copyright|All Rights Reserved|"
    r"仅代表该作者|不代表.{0,10}(?:观点|立场)|请用电脑访问|扫码下载|扫描二维码|二维码|下载客户端|"
    r"^原标题[:：]|^责任编辑|^编辑[:：]|^来源[:：]|^本文来源|^转载|^打印本页|^关闭窗口|上一篇|下一篇|返回顶部|"
    r"网站地图|联系我们|https?://|www\.", re.I)
# short lines (no sentence) that are counters, buttons and bylines
_DEBRIS_SHORT = re.compile(
    r"^(?:登录|注册|反馈|收藏|关注|分享|点赞|举报|我要举报|字号|阅读原文|相关附件|网民留言|热门推荐|打印|"
    r"返回|首页|更多|评论|留言|订阅|[+＋]\d+|•.*|[\d\s\-:/.年月日]+)$|"
    r"阅读\s*[:：]?\s*\d+|评论\s*[(（]\s*\d+\s*[)）]|点赞\s*\d+|分享到|Logo|\d{4}-\d{1,2}-\d{1,2}|"
    r"^[(（][^()（）]{1,10}[)）]$|_|点击蓝字|关注我们|^[^，。！？]{2,20}(?:今天|昨天|前天)$", re.I)
# a headline list follows; it ends where a real paragraph starts again
_LIST_MARKERS = re.compile(r"^(?:猜你喜欢|相关阅读|相关新闻|推荐阅读|延伸阅读|热门推荐|热点推荐|相关文章|更多阅读|"
                           r"精彩推荐|为你推荐|大家都在看|相关推荐|热门文章|最新文章|往期回顾|往期推荐|往期精选|"
                           r"往期阅读|往期文章|往期内容|历史文章|推荐文章|相关链接|近期热文|热文推荐|热门阅读|精选文章|"
                           r"更多精彩|猜你想看|你可能还想看|你可能感兴趣|点击阅读|戳这里)\s*[:：]?$")
# decoration around a list marker ("▼往期回顾▼", "- 往期推荐 -", "【相关阅读】")
_MARKER_DECOR = "▼▲▶▷►◀◁◆◇■□●○★☆-—–=~·>»<«|【】[]（）() "
# a headline behind a link arrow ("▶ 朱泾镇首家社区食堂开张"): after the last paragraph, a link list
_LINK_ITEM = re.compile(r"^[▶▷►▸→➤»>]")


def _table_cells(line: str) -> list[str] | None:
    """The cells of a table row written as space-separated columns, else None.

    "1 大宁路街道综合为老服务中心 大宁路街道 新建 2024年12月" (a table copied from a web
    page or a PDF) has three or more cells, two of them Chinese, and no sentence
    end; letter-spaced text ("社 区 食 堂") has one-character cells and is no table.
    """
    if "。" in line or "|" in line:
        return None
    cells = line.split()
    if len(cells) < 3 or any(re.fullmatch(rf"[{_CJK}]", c) for c in cells):
        return None
    if sum(1 for c in cells if re.search(rf"[{_CJK}]{{2}}", c)) < 2:
        return None
    return cells


def _normalize_line(line: str) -> str:
    out = "".join(c if c in _KEEP_PUNCT else unicodedata.normalize("NFKC", c) for c in line)
    out = re.sub(r"\s+", " ", out).strip()
    cells = _table_cells(out)
    if cells:  # a row is one record, its columns separated as in docx tables
        out = " | ".join(cells)
    # ASCII punctuation written in Chinese prose becomes Chinese punctuation
    out = re.sub(rf"(?<=[{_CJK}“”》）])\s*([,;:!?])\s*|\s*([,;:!?])\s*(?=[{_CJK}“《（])",
                 lambda m: _ASCII_TO_ZH[m.group(1) or m.group(2)], out)
    out = re.sub(rf"\(([^()]*[{_CJK}][^()]*)\)", r"（\1）", out)
    out = re.sub(rf'"([^"]*[{_CJK}][^"]*)"', r"“\1”", out)  # ASCII quotes around Chinese
    out = re.sub(rf"(?<=[{_CJK}]) (?=[{_CJK}])", "", out)  # spaces between Chinese characters
    return out


def _unwrap(lines: list[str]) -> list[str]:
    """Rejoin paragraphs that a web page wrapped mid-sentence ("…规划打造新" / "型菜场。").

    A long line (≥ 40 characters) that does not end a sentence continues on the
    next non-empty line when that starts with a Chinese character; headings are
    short and stay apart.
    """
    out: list[str] = []
    pending_blank = False
    for ln in lines:
        t = ln.strip()
        if not t:
            pending_blank = True
            continue
        prev = out[-1] if out else ""
        if (len(prev) >= 40 and prev[-1] not in _END_PUNCT and re.match(rf"[{_CJK}]", t) and not _table_cells(prev)
                and " | " not in prev  # a table row ends at its line: the signature after it is no cell
                and not re.match(r"[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第.{1,3}[章节条]", t)):
            out[-1] = prev + t
        else:
            if pending_blank and out:
                out.append("")
            out.append(t)
        pending_blank = False
    return out


def _is_sentence(line: str) -> bool:
    return "。" in line or len(line) >= 60


def clean_text(raw: str) -> str:
    """Drop web-page debris, normalise forms and glyphs (traditional → simplified); one paragraph a line.

    Parameters
    ----------
    raw : str
        Decoded text.

    Returns
    -------
    str
    """
    raw = _to_simplified(raw)
    out: list[str] = []
    seen: set[str] = set()
    in_list = False
    for line in _unwrap(raw.splitlines()):
        line = _normalize_line(line)
        if not line:
            continue
        if _LIST_MARKERS.match(line.strip(_MARKER_DECOR)):
            in_list = True
            continue
        if in_list:
            if "。" in line and len(line) >= 40:
                in_list = False
            else:
                continue
        if _DEBRIS_STRONG.search(line):
            continue
        if not _is_sentence(line) and _DEBRIS_SHORT.search(line):
            continue
        if not _is_sentence(line) and line in seen:  # repeated titles and bylines
            continue
        seen.add(line)
        out.append(line)
    while out and _LINK_ITEM.match(out[-1]) and "。" not in out[-1]:
        out.pop()  # links to other articles at the end of a post
    return "\n".join(out)


# ---------------------------------------------------------------------------------
# sentences and clauses
# ---------------------------------------------------------------------------------
_SENT_RE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|$)")
_OPEN_Q, _CLOSE_Q = "“‘「『《（", "”’」』》）"


def _sentences_of(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENT_RE.findall(paragraph) if s.strip()]


_SOFT_BREAK = re.compile(r"[，；：、,;:\s]")


def _bounded(sentences: list[str], limit: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of at most ``limit`` characters: a longer one (a text without sentence
    punctuation) is cut at the last clause mark or space before the limit, else at the limit.
    This bounds the work per sentence and the context stored with each mention."""
    out: list[str] = []
    for s in sentences:
        while len(s) > limit:
            cut = max((m.end() for m in _SOFT_BREAK.finditer(s, limit // 2, limit)), default=limit)
            out.append(s[:cut])
            s = s[cut:]
        out.append(s)
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of a cleaned text (a paragraph break always ends a sentence)."""
    return [s for para in text.splitlines() for s in _sentences_of(para)]


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of a sentence: split at ，；： outside quotes and brackets."""
    spans, depth, start = [], 0, 0
    for i, c in enumerate(sentence):
        if c in _OPEN_Q:
            depth += 1
        elif c in _CLOSE_Q:
            depth = max(0, depth - 1)
        elif c in "，；：,;:。！？" and depth == 0:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if b > a]


# ---------------------------------------------------------------------------------
# vocabulary of the rules (grammar, not facilities: the facility words live in geo.categories)
# ---------------------------------------------------------------------------------
# cues of status, strongest first in _status()
_UPGRADE = re.compile(r"改造|提升|升级|更新|改建|扩建|翻新|提质|焕新")
# 已, but not before a stage of an unfinished project (已完成招标, 已开工)
_DONE = re.compile(r"已(?!经?(?:完成|于)?(?:招标|立项|开工|选址|设计|审批|批复|评审|签约|启动|进场))")
_FUTURE = re.compile(r"将|计划|拟|规划|年内|月内|年底|即将|在建|待建|筹备|近期|力争|预计|下半年|明年|未来|"
                     r"新建|新设|增设|增配|新增|建设|推进|推动|打造|"
                     r"筹建|兴建|启动|完成|开工|谋划|争取|布局|补齐|补缺|配建|设置|开设|迁建")
_EXISTING = re.compile(r"建成|启用|投入使用|投入运营|运营|开放|落成|现有|已有|开业")
# under construction: started and not finished ("主体结构完工" is a stage, not the opening)
_BUILDING = re.compile(r"在建|正在(?:进行)?[^，。；]{0,4}?(?:建设|施工|装修|兴建|建造)|(?:建设|施工|装修)中|已开工|开工建设|"
                       r"已动工|动工建设|"
                       r"主体(?:结构)?(?:已经?|基本)?(?:完工|竣工|封顶)|结构封顶|已封顶")
# a construction verb with the perfective 了 reports done work ("小区内新增了一处社区花园")
_PERFECTIVE = re.compile(r"(?:新增|新建|建成|增设|建设|建起|开设|设置|打造|落成|配建|新设)了")
_STRONG_FUTURE = re.compile(r"将|计划|拟|年内|月内|年底|即将|力争|预计|下半年|明年|未来")
# completion said after the mention ("…迁建工程竣工启用"): done, unless the clause also looks ahead
_COMPLETED_AFTER = re.compile(r"竣工|启用|投入使用|投入运营|建成|落成|开业|开张|开放")
# an upgrade verb whose result is the mention ("由闲置空地改建而成"): a new facility, not an upgrade
_MADE_FROM = re.compile(r"(?:改造|改建|建设|建)而成")
# a paragraph that opens looking back ("过去一年，", "2021年以来，", "去年"): construction verbs report
# what was done; only the strong cues (将, 计划 …) still look ahead
_PAST_OPENING = re.compile(r"^(?:过去(?:的)?[一两三四五几]?年|去年|前年|上年|上一年|近年来|近几年|此前|截至|截止|回顾|"
                           r"[^，。；]{0,16}以来)")
# what precedes the name in the label of a list item ("（四）南桥体育中心游泳馆：正在建设")
_LIST_LABEL = re.compile(r"[\s\d.、（）()一二三四五六七八九十]*")
# a clause that only continues the previous one: "新建口袋公园三处，其中包括场中路口袋公园"
_CONTINUING = ("其中", "包括", "含")
# a following clause that dates the mention's clause: "两家长者食堂正在装修，预计今年底启用"
_FOLLOWING_FUTURE = re.compile(r"^(?:预计|计划|拟|将于|力争|争取|有望)")
# "现有2所幼儿园": a descriptor that says the mention exists
_HAVING = ("现有", "已有", "原有", "既有")
# a facility the clause only refers to ("结合/依托 X 打造 …") exists
_NEUTRAL_VERBS = ("结合", "依托", "利用", "联合", "借助", "用好", "围绕", "对接", "毗邻", "邻近", "依靠",
                  "位于", "联动", "统筹", "协调", "协同", "携手", "发挥", "用于")
# verbs that make a bare type noun ("增设社区食堂") a concrete facility
_BUILD_VERBS = ("新建", "新设", "增设", "增配", "新增", "建设", "建成", "启用", "打造", "改造", "升级", "提升", "改建",
                "扩建", "筹建", "兴建", "配建", "开设", "开办", "设置", "投入使用", "投入运营", "落成", "完成", "迁建")
_PROJECT_FOLLOW = ("建设", "改造", "提升", "升级", "更新", "项目", "工程", "改建", "扩建", "落成", "开放")
# stops of the backward walk from a head over its modifier
_STOP_WORDS = {"的", "和", "与", "及", "以及", "或", "或者", "等", "在", "于", "将", "把", "对", "向", "由", "从",
               "以", "为", "是", "有", "并", "还", "也", "都", "又", "即", "如", "让", "使", "给", "被", "至", "到",
               "已", "已经", "这", "那", "其", "该", "此", "个", "首个", "一批", "一个", "若干", "各", "每"}
_STOP_FLAGS = ("v", "p", "c", "u", "r", "d", "y", "e", "o", "w")
# descriptors that never sit inside a name: a place before them is the subject, not part of the name
# ("方松街道现有社区综合为老服务中心1家")
_NAME_BARRIERS = {"现有", "原有", "既有", "辖区", "周边", "附近", "各类", "相关", "其他", "其它", "这些", "所属"}
# single characters that end a name split into characters (verbs and function words)
_SPLIT_STOPS = set("建设造办开修增改扩迁成再把对向在将已并还也从由以为是有和与及或等")
# words after a head that are a branch or phase of the facility, part of its name
# ("区图书馆新馆", "社区卫生服务中心分中心", "…美术馆二期")
_BRANCH = re.compile(r"新馆|新址|分中心|分院|分部|分园|分所|分站|(?:[一二三四五六七八九十]|\d+)期")
# parts and surroundings of a facility after its head: the facility is still meant ("夏阳湖公园北入口改造")
_PART_AFTER = re.compile(r"[东南西北]?(?:侧)?(?:出入口|入口|出口|大门|门口|门前|一带|对面)|[东南西北]门|门诊楼|主楼|大楼|"
                         r"操场|跑道|礼堂|屋顶|楼顶|外立面|停车场|围墙|门头|大厅|[一二三四五六七八九十\d]+楼|附楼|裙楼|院内|"
                         r"主体|结构")
# nouns whose modifier a keyword is ("大讲堂工作", "…驿站品牌"), although jieba may tag them as verbs
_NOUN_AFTER = {"工作", "品牌", "模式", "理念", "体系", "机制", "经验", "课程", "讲座", "计划书"}
# a named site the one facility of a clause is built on: "在乳品八厂地块规划打造新型菜场"
_SITE_BEFORE = re.compile(r"在(?P<site>[^在，。；、“”（）]{2,12}?(?:地块|路|号|街|村|厂|园区|基地|弄))"
                          r"(?:规划|计划|拟|将)?(?:打造|建设|新建|建成|设置|开设|增设|配建|兴建|筹建|改建)$")
# a keyword inside the name of a housing estate ("中环公园里小区", "阳光花园小区"): no facility
_ESTATE_AFTER = re.compile(r"[里苑]?(?:小区|新村|公寓|大厦|家园|居民区|居委会?|住宅|别墅)")
# a branch with its own name after the main facility ("…社区卫生服务中心许泾分中心")
_NAMED_BRANCH = re.compile(rf"[{_CJK}]{{1,4}}?(?:分中心|分院|分部|分园|分所|分站)")
# a section heading that reports the past or plans ahead ("一、2023年主要工作" / "二、2024年工作计划")
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.、]|第.{1,3}[章节部分])?[^。，；]{0,30}$")
_PAST_HEADING = re.compile(r"总结|回顾|主要工作|工作情况|完成情况|主要成效|取得成效|进展情况|推进情况|基本情况|现状|"
                           r"已完成|已建成|已完工")
# the present, which a target section's counts may also state ("目前，…达到18个")
_NOW = re.compile(r"目前|当前|现有|现已|截至|截止|共有")
_AHEAD_HEADING = re.compile(r"计划|安排|打算|思路|目标|任务|举措|下一步|展望|重点项目")
# function words that jieba sometimes tags as nouns after a head ("天山公园经改造后…")
_FUNCTION_AFTER = {"经", "经过", "通过", "均", "仍", "正", "正在", "自", "因", "已", "将", "于", "则", "也", "还",
                   "计划", "预计", "预期", "拟", "力争", "争取", "有望", "开展", "推行", "推出", "实行", "实施", "举办"}
# descriptors that do not make a name proper
_GENERIC = {"社区", "街道", "居民区", "小区", "居住区", "片区", "区域", "区级", "市级", "街镇", "镇级", "村级",
            "基层", "综合", "公共", "共享", "专业", "专项", "特色", "示范", "标准化", "标准", "智慧", "数字",
            "一站式", "嵌入式", "家门口", "上门", "老年", "老年人", "长者", "儿童", "青少年", "居民", "市民",
            "百姓", "群众", "便民", "惠民", "党建", "党群", "微型", "小型", "大型", "中型", "新型", "新", "现有",
            "配套", "相关", "各类", "各级", "其他", "其它", "这些", "校园", "户外", "室内", "全龄", "适老化",
            "日间", "微", "小", "迷你", "口袋", "社区级", "邻里", "睦邻", "高品质", "品质", "服务", "养老",
            "为老", "文化", "体育", "健身", "卫生", "医疗", "教育", "助餐", "托育", "多功能", "区", "镇", "本区",
            "休闲", "生态", "滨水", "滨河", "沿街", "附属", "单位", "防护",
            "本街道", "全区", "全市", "全镇", "所属", "辖区", "周边", "附近", "地区", "内", "上海", "上海市"}
_GENERIC_CHARS = set("".join(_GENERIC))
# modifiers that make a name a programme or brand rather than a place
_ABSTRACT = {"幸福", "美好", "友好", "精品", "文明", "和谐", "平安", "活力", "魅力", "温馨", "温暖", "样板", "标杆",
             "品牌", "全覆盖", "理想", "梦想"}
# modifiers that make the noun an organisation or an abstraction
_ORG = re.compile(r"研究|创新|科技|科创|指挥|人民政府|政府|党委|党工委|区委|市委|委员会|管委会|办公室|联盟|协会|"
                  r"学会|基金|公司|集团|实验室|事务所|理事会|工作室|领导小组")
# verbs of speech and decision: their subject is an organisation ("…街道办事处表示")
_SPEECH = re.compile(r"^(?:相关)?(?:负责人|领导|主任|书记)?(?:表示|指出|认为|强调|要求|提出|印发|发布|召开|主办|"
                     r"承办|牵头|负责|审议|通知|介绍|说|称|透露|部署|号召)")
# words that name an area in running text although they are taxonomy keywords ("杨浦滨江", "世博滨江")
_AREA_WORDS = {"滨江"}
# abstract enumerations ("教育、卫生、…、公园绿地等8大方面")
_ABSTRACT_LIST = re.compile(r"等\s*(?:\d+|[一二三四五六七八九十]+)?\s*(?:大)?(?:方面|领域|类|功能|内容|需求|条线|要素)|各类|各种")
_DEICTIC_DISTRICT = ("本区", "全区", "区")
_WHOLE_DISTRICT = re.compile(r"(?<!在)(?:全区|全市|各街道|各街镇|全上海)(?!首|率先)")  # 全镇: the town itself
_DEICTIC_SUB = ("本街道", "街道", "本镇", "镇")

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_NUM = r"\d+|[零〇一二两三四五六七八九十百千万]+"
_CLASSIFIER = r"个|家|所|座|处|间|栋|幢|块|条|支|片|批"
_POST_COUNT_RE = re.compile(rf"[”」』]?\s*(?P<br>[（(]?)\s*(?P<num>{_NUM})\s*(?:{_CLASSIFIER})(?!月|年|天|小时|周|多月|工作日)")
# a count after the noun and a verb, closing the phrase: "助浴点新增3个，", "日间照料中心达到12家。"
# (its ``br`` group is always empty: the bracketed form "（2处）" has no verb)
_POST_VERB_COUNT_RE = re.compile(
    rf"\s*(?:再|又|共|仅|已|累计|合计|总计|将)?(?:新增|增加|增设|新建|建成|达到|达|增至|增到|有|为|计|设|设有)了?\s*"
    rf"(?P<br>)(?P<num>{_NUM})\s*(?:{_CLASSIFIER})(?=\s*(?:[，。；、）)|]|$))")
_COUNT_RE = re.compile(rf"(?P<num>{_NUM})\s*(?P<cls>{_CLASSIFIER})\s*(?P<q>[“「]?)(?P<mod>[^，。；：、,;:的和与及“”《》（）]{{0,12}})$")


def parse_chinese_number(s: str) -> int | None:
    """``"12" → 12``, ``"两" → 2``, ``"十二" → 12``, ``"二十三" → 23``, ``"一百零五" → 105``."""
    s = s.strip()
    if s.isdigit():
        return int(s)
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            return None
    return total + section + (digit or 0)


# ---------------------------------------------------------------------------------
# the tokenizer (one per gazetteer, built lazily once)
# ---------------------------------------------------------------------------------
@dataclass(eq=False)
class _NLP:
    pos: POSTokenizer
    keyword_re: re.Pattern
    keyword_cat: dict[str, str]
    gaz: Gazetteer
    safe_roots: dict[str, tuple[str, str]] = field(default_factory=dict)

    def tokens(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, word, flag) of ``text`` (dictionary words only: the HMM guesser is slow
        and glues unknown names to their neighbours)."""
        return self._tokens(text)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (few _NLP objects, themselves cached by _nlp)
    def _tokens(self, text: str) -> list[tuple[int, int, str, str]]:
        out, i = [], 0
        for w in self.pos.cut(text, HMM=False):
            out.append((i, i + len(w.word), w.word, w.flag))
            i += len(w.word)
        return out

    __hash__ = object.__hash__


@functools.lru_cache(maxsize=4)
def _nlp(gaz: Gazetteer) -> _NLP:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    keyword_cat: dict[str, str] = {}
    for cat in CATEGORIES.values():
        for kw in cat.keywords:
            keyword_cat.setdefault(kw, cat.key)
    for kw in keyword_cat:
        tok.add_word(kw, tag="n")
    for alias in gaz.aliases:
        if len(alias) >= 2:
            tok.add_word(alias, tag="ns")
    for w in ("街道", "镇"):
        tok.add_word(w, tag="n")
    # a POS tokenizer over our own Tokenizer; the word-tag table is shared with jieba's
    # default one (loading it again costs seconds)
    pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
    pos.tokenizer = tok
    pos.word_tag_tab = dict(jieba.posseg.dt.word_tag_tab)
    pos.makesure_userdict_loaded()
    kws = sorted(keyword_cat, key=len, reverse=True)
    keyword_re = re.compile("|".join(map(re.escape, kws)))
    # short forms safe to recognise at the start of a facility name (四平电影院, 三林体育中心):
    # not a common word (建设镇 → 建设) and not part of a facility keyword (书院镇 → 书院)
    base_tags = pos.word_tag_tab
    safe = {}
    for alias, val in gaz.aliases.items():
        common = tok.FREQ.get(alias, 0) > 300 and base_tags.get(alias, "ns")[:2] not in ("ns", "nr", "nz")
        if len(alias) >= 2 and not common and not any(alias in kw for kw in keyword_cat):
            safe[alias] = val
    return _NLP(pos, keyword_re, keyword_cat, gaz, safe)


# ---------------------------------------------------------------------------------
# places in a sentence
# ---------------------------------------------------------------------------------
def _place_mentions(nlp: _NLP, sentence: str, district: str | None) -> list[tuple[int, int, Resolution]]:
    """Subdistrict and district names in a sentence, misspelt ones (尹航街道) resolved."""
    out = []
    toks = nlp.tokens(sentence)
    for i, (a, b, w, _f) in enumerate(toks):
        hit = nlp.gaz.aliases.get(w)
        if hit and (w == hit[0] or hit[1] == "district" or w.endswith(("街道", "镇"))):
            res = nlp.gaz.resolve(w, district=district)
            if res:
                out.append((a, b, res))
            continue
        if w in ("街道", "镇") and i > 0:
            # the words before an admin suffix: a name the gazetteer may know under another spelling
            for j in (i - 1, i - 2):
                if j < 0:
                    break
                raw = sentence[toks[j][0]:a]
                if not re.fullmatch(rf"[{_CJK}]{{2,6}}", raw) or any(ch in raw for ch in "各个全本该区"):
                    continue
                res = nlp.gaz.resolve(raw + w, district=district, kind="subdistrict")
                if res:
                    out.append((toks[j][0], b, res))
                    break
    return out


def _prefix_place(nlp: _NLP, name: str, district: str | None) -> tuple[str, Resolution] | None:
    """A place that a facility name starts with: 五角场街道…, 四平电影院 → 四平路街道."""
    for n in range(min(8, len(name) - 1), 1, -1):
        head = name[:n]
        if head in nlp.safe_roots or head in nlp.gaz.aliases:
            hit = nlp.gaz.aliases.get(head)
            if hit and (head == hit[0] or head in nlp.safe_roots):
                res = nlp.gaz.resolve(head, district=district)
                if res:
                    return head, res
        if head.endswith(("街道", "镇")):
            res = nlp.gaz.resolve(head, district=district, kind="subdistrict")
            if res:
                return head, res
    return None


# ---------------------------------------------------------------------------------
# mentions
# ---------------------------------------------------------------------------------
@dataclass
class _Mention:
    name_raw: str
    modifier: str
    head: str
    category: str
    count: int | None
    mention_type: str
    start: int
    end: int
    deictic: str = ""
    ordinal: bool = False  # "第二家睦邻中心": one facility, the number is its rank


def _inside(spans: list[tuple[int, int]], i: int) -> bool:
    return any(a < i < b for a, b in spans)


def _book_title_spans(s: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"《[^《》]*》", s)]


def _walk_modifier(s: str, toks, lo: int, start: int) -> int:
    """Start of the modifier before ``start`` (tokens back to a stop, not before ``lo``)."""
    i = start
    k = max((n for n, t in enumerate(toks) if t[0] < start), default=-1)
    while k >= 0 and i > lo:
        a, b, w, f = toks[k]
        b = min(b, i)
        a = max(a, lo)
        piece = s[a:b]
        if not piece:
            break
        if piece[-1] in "”」』》":  # a quoted title right before: part of the name
            opener = {"”": "“", "」": "「", "』": "『", "》": "《"}[piece[-1]]
            j = s.rfind(opener, lo, b)
            if j < 0 or b - j > 30:
                break
            i = j
            k = max((n for n, t in enumerate(toks) if t[0] < i), default=-1)
            continue
        if piece in ("-", "－") and a > lo and s[a - 1].isalnum() and s[b:b + 1].isalnum():
            i = a
            k -= 1
            continue
        if piece in _STOP_WORDS or piece in _NAME_BARRIERS or any(ch in piece for ch in "，。；：、,;:（）()“”《》!?！？ |"):
            break
        if piece == "成" and k > 0 and toks[k - 1][3].startswith("v"):
            break  # a resultative complement: "改造成标准化菜市场"
        # jieba mis-tags descriptors such as 上门/微型 as verbs: those stay in the name
        if (f.startswith(_STOP_FLAGS) or f == "x") and not re.fullmatch(r"[A-Za-z0-9]+", piece) \
                and piece not in _GENERIC and f != "vn":
            break
        if piece.startswith(_BUILD_VERBS) or piece in _NEUTRAL_VERBS or _FUTURE.fullmatch(piece):
            break
        i = a
        k -= 1
        if start - i > 16:
            break
    return _take_split_name(s, toks, lo, i, start)


def _take_split_name(s: str, toks, lo: int, i: int, start: int) -> int:
    """Take back the characters of a name that jieba cut into single characters.

    Without its HMM, jieba cuts an unknown name into characters and tags some of
    them as adverbs or verbs (依托/共/康/幼儿园, 其中/淞/发/路/口袋公园); the walk then
    keeps only the last one. A modifier that starts with a one-character, non-
    descriptive token takes back the one-character tokens before it (at most three),
    up to a verb or function word; one that starts with a bare road or village
    suffix (国/和/路) takes them back even over a function word, which cannot end
    a name before 路.
    """
    n = next((n for n, t in enumerate(toks) if t[0] == i), None)
    if n is None or i >= start:
        return i
    first = toks[n][2]
    if len(first) != 1 or first in _GENERIC or not re.fullmatch(rf"[{_CJK}]", first):
        return i
    suffix, i0 = first in "路街弄巷村", i
    for _ in range(3 if not suffix else 2):
        if n == 0:
            break
        a, b, w, f = toks[n - 1]
        if suffix:  # the road's name, of one or more tokens, up to four characters
            if a < lo or i0 - a > 4 or not re.fullmatch(rf"[{_CJK}]+", w) or w in _GENERIC \
                    or w.startswith(_BUILD_VERBS) or w in _NEUTRAL_VERBS or _FUTURE.fullmatch(w) or len(w) > 3:
                break
        elif a < lo or len(w) != 1 or not re.fullmatch(rf"[{_CJK}]", w) or w in _GENERIC or w in _STOP_WORDS \
                or w in _SPLIT_STOPS:
            break
        i, n = a, n - 1
    return i


def _followed_by_noun(s: str, toks, end: int, clause_end: int) -> bool:
    """Is the keyword ending at ``end`` only a modifier of a longer noun (公园城市, 市场化)?"""
    while end < clause_end and s[end] in "”」』":
        end += 1
    if _ESTATE_AFTER.match(s, end):
        return True  # "中环公园里小区": the name of a housing estate
    for n, (a, b, w, f) in enumerate(toks):
        if a < end < b:
            return True  # the keyword ends inside a word
        if a == end:
            nxt = toks[n + 1] if n + 1 < len(toks) else None
            if w in _NOUN_AFTER:
                return True  # "市人民城市大讲堂工作": a programme
            if w in _FUNCTION_AFTER or w in _STOP_WORDS:
                return False  # "天山公园经改造后", "…中心将…"
            if _EXISTING.fullmatch(w) or (w.startswith(_BUILD_VERBS) and nxt is not None and nxt[2] not in "、，。；！？"):
                return False  # status verbs tagged as nouns: "邻里中心投入使用", "…中心新建家庭医生工作室";
                # not a verbal noun ending an enumeration ("优化社区食堂设置、提升…")
            if _PART_AFTER.match(s, end):
                return False  # "夏阳湖公园北入口改造工程": a part of the facility
            # a verbal noun that ends the clause is its predicate ("…食堂合作，"); before 、 it is
            # a noun of an enumeration ("优化社区食堂设置、提升…")
            if f == "vn" and (nxt is None or nxt[2] in ("，", "。", "；", "！", "？")):
                return False
            if f in ("vn", "ad", "d", "t", "m") and nxt is not None and nxt[3] == "v":
                return False  # used as an adverb: "凉城公园免费开放", "…中心夜间开放"
            if w in ("-", "－", "—") and end + 1 < clause_end and re.match(rf"[{_CJK}A-Za-z]", s[end + 1]):
                return True
            if w.startswith(_PROJECT_FOLLOW) or w in ("等", "内", "里", "中", "旁", "边", "周边"):
                return False
            if f == "eng" and not re.search(r"[A-Za-z]", w):
                return False  # digits ("社区食堂12个")
            return f[:1] in ("n", "j") or f in ("vn", "an", "eng") or w in ("化", "带", "区")
    return False


def _find_mentions(nlp: _NLP, s: str, toks) -> list[_Mention]:
    books = _book_title_spans(s)
    out = []
    clauses = _clauses(s)
    for m in nlp.keyword_re.finditer(s):
        start, end, head = m.start(), m.end(), m.group()
        if _inside(books, start):
            continue
        lo, hi = next(((a, b) for a, b in clauses if a <= start < b), (0, len(s)))
        branch = _BRANCH.match(s, end) or _NAMED_BRANCH.match(s, end, hi)
        if branch and not nlp.keyword_re.match(s, end) and not set(branch.group()) & _SPLIT_STOPS:
            end = branch.end()  # "区图书馆新馆", "…服务中心许泾分中心": the branch is the facility
        if head in _AREA_WORDS or _followed_by_noun(s, toks, end, hi):
            continue
        count = None
        mod_lo = lo
        cm = _COUNT_RE.search(s[lo:start])
        ordinal = cm is not None and s[lo + cm.start("num") - 1:lo + cm.start("num")] == "第"
        if cm:
            if not ordinal:
                n = parse_chinese_number(cm.group("num"))
                count = (n or 0) * _distributed_over(s, toks, lo, lo + cm.start("num")) or n
            mod_lo = lo + cm.start("q") + len(cm.group("q"))
        quoted = start > lo and s[start - 1] in "“「" and s[end:end + 1] in "”」" and not any(
            s[lo:start - 1].endswith(kw) for kw in nlp.keyword_cat if kw not in _AREA_WORDS)  # not 社区托育“宝宝屋”
        # a quoted brand after its place ("世博滨江“望江驿”"): the place is part of the name
        mstart = _walk_modifier(s, toks, mod_lo, start - 1 if quoted else start)
        if quoted and mstart == start - 1:
            mstart = start
        if cm and mstart > lo + cm.start("mod") + 0 and s[lo + cm.start("mod"):mstart].strip():
            # words between the count and the modifier the walk stopped at: not one phrase
            count, cm = None, None
        modifier = s[mstart:start]
        name_raw = _balance_quotes(s[mstart:start - 1] + s[start:end] if quoted and mstart < start else s[mstart:end])
        words = _mod_words(nlp, modifier)
        deictic = _deictic(modifier, words)
        mtype = "counted" if count else ("named" if deictic or _is_proper(nlp, _strip_generic_term(modifier, head))
                                         else "generic")
        post = _POST_COUNT_RE.match(s, end) or (_POST_VERB_COUNT_RE.match(s, end) if mtype != "counted" else None)
        if post and post.group("br") and not re.match(r"\s*[）)]", s[post.end():]):
            post = None
        if mtype == "generic" and post:  # "社区综合为老服务中心41家", "“家门口服务站”3个"
            count, mtype = parse_chinese_number(post.group("num")), "counted"
        elif mtype == "named" and post and (not deictic or post.re is _POST_VERB_COUNT_RE) \
                and re.match(r"\s*(?:[）)，。；、|]|$)", s[post.end():]):
            # "江宁路街道托育点（2处）": a place's facilities of a type, counted; a place's one
            # facility stays a name, a descriptive modifier's one is counted ("家庭病床服务站1个")
            n = parse_chinese_number(post.group("num"))
            if n and (n >= 2 or not _has_place(nlp, toks, mstart, start)):
                count, mtype = n, "counted"
        site = _SITE_BEFORE.search(s, lo, mstart) if mtype == "generic" else None
        if site and _is_proper(nlp, site.group("site")) and not site.group("site").startswith(("各", "每", "全", "本", "该")):
            # "在乳品八厂地块规划打造新型菜场": the one facility built on a named site is named by it
            modifier = site.group("site") + modifier
            name_raw, mtype = site.group("site") + name_raw, "named"
        category = _category(nlp, head, words)
        out.append(_Mention(name_raw, modifier, head, category, count, mtype, mstart, end, deictic, ordinal))
    return [m for m in out if not _is_alias(s, m, out)]


def _strip_generic_term(modifier: str, head: str) -> str:
    """The modifier without the part of a type name of :data:`geo.categories.GENERIC_TERMS` it ends
    with: "单位附属" + 绿地 → "", "隆安路沿街" + 绿地 → "隆安路"."""
    full = modifier + head
    for term in sorted(GENERIC_TERMS, key=len, reverse=True):
        if full.endswith(term) and len(term) > len(head):
            return full[:-len(term)]
    return modifier


def _distributed_over(s: str, toks, lo: int, num_start: int) -> int:
    """How many places a count is given to each of: "在东昌路和崂山路各新开一家" → 2, else 1.

    The places are the enumeration before 各 (back to 在/于/为/给 or the clause start),
    counted by its separator tokens (so 国和路 is one place)."""
    m = re.search(r"各\s*[\u4e00-\u9fff]{0,3}$", s[lo:num_start])
    if not m:
        return 1
    end = lo + m.start()
    begin = max([lo] + [b for a, b, w, f in toks if lo <= a and b <= end and w in ("在", "于", "为", "给")])
    seps = [(a, b) for a, b, w, f in toks if begin <= a and b <= end and (w == "、" or (w in ("和", "与", "及", "以及")
                                                                                     and f.startswith(("c", "p"))))]
    items: list[str] = []
    pos = items_end = begin
    for a, b in seps + [(end, end)]:
        piece = s[pos:a]
        if items and len(items[-1]) < 2:  # a one-character item is a cut name: 国/和/路 is 国和路
            items[-1] += s[items_end:a]
        else:
            items.append(piece)
        items_end, pos = a, b
    items = [x for x in items if len(x) >= 2]
    return len(items) if len(items) >= 2 else 1


def _has_place(nlp: _NLP, toks, a: int, b: int) -> bool:
    """Does the text between ``a`` and ``b`` name a place (gazetteer, place tag, road, number, letters)?"""
    for ta, tb, w, f in toks:
        if ta >= a and tb <= b and (f in ("ns", "nr", "nz", "nt", "eng") or w in nlp.gaz.aliases
                                     or re.search(r"[A-Za-z0-9]|[路街弄巷村]$", w)):
            return True
    return False


def _category(nlp: _NLP, head: str, words: list[str]) -> str:
    """Category of a head, or of its modifier when the head is a plain service word.

    Community-service heads (服务综合体, 服务站, 活动中心 …) take the category of a
    modifier word that the taxonomy uses for one other category only: 社区养老服务综合体
    is elderly care (养老 is only in elderly-care keywords), 健康服务站 health; 老年/长者
    are in elderly-care and canteen keywords and decide nothing.
    """
    cat = nlp.keyword_cat[head]
    if cat != "community_service":
        return cat
    for w in words:
        if len(w) < 2:
            continue
        cats = {c for kw, c in nlp.keyword_cat.items() if w in kw}
        if len(cats) == 1 and cat not in cats:
            return cats.pop()
    return cat


def _is_alias(s: str, m: _Mention, mentions: list[_Mention]) -> bool:
    """A name in brackets right after another mention is its alias: 图书馆分馆（“彭新书房”）."""
    j = m.start - 1
    while j >= 0 and s[j] in "“「":
        j -= 1
    if j < 0 or s[j] not in "（(":
        return False
    close = re.match(r"[”」]?\s*[）)]", s[m.end:])
    return bool(close) and any(o.end == j and o is not m for o in mentions)


def _deictic(modifier: str, words: list[str]) -> str:
    """The leading 区/街道/本镇 … that refers to the text's own district or subdistrict, or ''."""
    if words and words[0] in _DEICTIC_SUB + _DEICTIC_DISTRICT:
        return words[0]
    for d in ("本街道", "街道", "本镇", "本区"):
        if modifier.startswith(d):
            return d
    return ""


def _balance_quotes(name: str) -> str:
    """Drop a quote mark whose partner is outside the name (“上门服务站 → 上门服务站)."""
    for o, c in ("“”", "「」", "《》"):
        if name.count(o) != name.count(c):
            name = name.replace(o, "").replace(c, "")
    return name.strip()


def _mod_words(nlp: _NLP, modifier: str) -> list[str]:
    return [w for w in nlp.pos.tokenizer.lcut(re.sub(r"[“”「」《》\-－]", " ", modifier), HMM=False) if w.strip()]


def _is_proper(nlp: _NLP, modifier: str) -> bool:
    """A modifier with a part that is not a type descriptor: a place, road, number or title."""
    if not modifier.strip():
        return False
    if re.search(r"[A-Za-z0-9《]", modifier):
        return True
    words = _mod_words(nlp, modifier)  # quotes are transparent: “一站式”服务综合体 is generic
    # a word is descriptive when it is a descriptor, or made of descriptor characters (文体 = 文化+体育)
    rest = [w for w in words if w not in _GENERIC and w not in _ABSTRACT
            and (not set(w) <= _GENERIC_CHARS or re.fullmatch(r"(.)\1", w))]  # 人人会客厅: a brand
    return bool(rest)


def _governing_verb(nlp: _NLP, s: str, toks, lo: int, start: int, mention_spans) -> str:
    """The verb that governs a mention: the nearest before it, over enumerated mentions."""
    for a, b, w, f in reversed([t for t in toks if t[1] <= start and t[0] >= lo]):
        if any(ms <= a and b <= me for ms, me in mention_spans):
            continue
        if w in _HAVING:
            return w  # "现有2所幼儿园": a descriptor that says the mention exists
        if w in ("、", "和", "与", "及", "以及", "或", "“", "”") or w in _GENERIC or f in ("m", "q"):
            continue
        if w in ("在", "于", "位于"):
            return w  # a venue or location: what precedes does not act on it
        if w in _NEUTRAL_VERBS or w.startswith(_BUILD_VERBS) or _FUTURE.fullmatch(w) or _EXISTING.fullmatch(w) \
                or _UPGRADE.fullmatch(w):  # jieba may tag 更新 as an adverb: "微更新川杨河畔休闲绿林"
            return w
        if f.startswith("v") or w == "的":
            return w
    return ""


def _status(clause: str, after: str, opening: str, verb: str, following: str = "", past: bool = False,
            agent: bool = False, ahead: bool = False, named: bool = False) -> str:
    """Status of a mention.

    ``clause`` is its clause, ``after`` the part of the clause after it, ``opening``
    the context the clause inherits (a short opening phrase such as "下半年，", or
    the clauses before one that starts with 并/同时/还), ``verb`` the governing verb.
    Upgrading needs an upgrade verb that acts on the mention: the governing verb
    ("升级党群服务站") or one after it ("公园、绿地改造提升", "…服务站的升级改造"),
    not one whose result the mention is ("由闲置空地改建而成"). A completion after the
    mention ("…迁建工程竣工启用") makes it existing unless the clause looks ahead.
    ``following`` is the next clause ("…正在装修，预计今年底启用"); ``past`` marks a
    paragraph that opens looking back, where construction verbs report what was done.
    ``agent``: the mention is the subject of a construction verb whose object is another
    mention ("洋泾社区卫生服务中心将新增“智慧健康驿站”3个"), or the partner of one ("与X形成联动"):
    it exists. Under construction ("正在建设", "已开工", "主体结构完工") is ``building``, said in
    the clause itself: "X已开工，预计11月完工" is building, "X已建成，Y在建" decides each apart.
    An upgrade acting on the mention stays ``upgrading`` when done ("已完成改造"). ``ahead``: a
    section headed as targets or plans ("二、主要目标"), where a completion is a target
    ("2025年建成") and a count without cues is a target, planned ("日间照料中心达到12家"); a
    ``named`` facility without cues is one the plan refers to ("凉城公园免费开放"): existing.
    """
    if verb in _NEUTRAL_VERBS or verb in _HAVING or agent:
        return "existing"  # "在现有2所幼儿园内增设托班": the build verb is not the mention's
    upgrade = not _MADE_FROM.search(after) and (_UPGRADE.search(verb) or _UPGRADE.search(after))
    if upgrade and (_DONE.search(clause) or "完成" in after):
        return "upgrading"
    if _BUILDING.search(clause) and not _UPGRADE.search(after):
        return "building"
    if _DONE.search(clause) or _PERFECTIVE.search(clause):
        return "existing"
    if upgrade:
        return "upgrading"
    if _COMPLETED_AFTER.search(after) and not _STRONG_FUTURE.search(clause) and not ahead:
        return "existing"
    future = _STRONG_FUTURE if past else _FUTURE
    if future.search(clause) or _STRONG_FUTURE.search(opening) or _FOLLOWING_FUTURE.match(following) \
            or (ahead and not named and not _NOW.search(clause) and not _NOW.search(opening)):
        return "planned"  # "年内将新建…，并启用X": X opens in the future too
    return "existing"


def _doc_context(nlp: _NLP, lines: list[str], default_district: str | None) -> tuple[str | None, Resolution | None]:
    """District and subdistrict of the whole document.

    The subdistrict is the one its header names (title and issuer lines; the first
    three lines unless they are prose or table rows: a meeting "在五里桥街道…召开" is a
    venue, not the subject), or else the one that makes up at least two thirds of
    the subdistrict names in the whole text, named at least three times (a report
    about one subdistrict that names it only in its prose).
    """
    votes: dict[str, float] = {}
    header_subs: dict[str, list[Resolution]] = {}
    all_subs: dict[str, list[Resolution]] = {}
    issuer = re.compile(r"发布机构|出版|主办|印发|办事处$|人民政府|党工委|^中共")
    rows = [" | " in line for line in lines]
    for n, line in enumerate(lines):
        # a row of a table (a neighbour is a row too) is content, a lone spaced-out title is not
        in_table = rows[n] and ((n > 0 and rows[n - 1]) or (n + 1 < len(rows) and rows[n + 1]))
        header = (n < 3 and "。" not in line and not in_table) or bool(issuer.search(line))
        weight = 3.0 if header else 1.0
        places = [r for s in _bounded(_sentences_of(line)) for r in _place_mentions(nlp, s, None)]  # tokens reused later
        for _, _, res in places:
            votes[res.district] = votes.get(res.district, 0) + weight
            if res.kind == "subdistrict":
                all_subs.setdefault(res.name, []).append(res)
                if header:
                    header_subs.setdefault(res.name, []).append(res)

    def dominant(subs: dict[str, list[Resolution]], least: int) -> Resolution | None:
        if not subs:
            return None
        best = max(subs, key=lambda k: len(subs[k]))
        if len(subs[best]) >= least and len(subs[best]) * 3 >= 2 * sum(map(len, subs.values())):
            return subs[best][0]
        return None

    district = max(votes, key=lambda d: votes[d]) if votes else default_district
    sub = dominant(header_subs, 1) if header_subs else dominant(all_subs, 3)
    if sub is not None:
        district = sub.district
    return district or default_district, sub


def extract_mentions(text: str, *, source: str = "", default_district: str | None = None,
                     gazetteer: Gazetteer | None = None) -> pd.DataFrame:
    """Facility mentions of a cleaned policy text.

    Parameters
    ----------
    text : str
        Text as returned by :func:`read_text` (raw text is cleaned here too).
    source : str
        Written into the ``source`` column (usually the file name).
    default_district : str, optional
        District to assume when the text names none (e.g. ``杨浦区``).
    gazetteer : Gazetteer, optional
        Default :func:`geo.gazetteer.load_gazetteer`.

    Returns
    -------
    DataFrame
        :data:`COLUMNS` + :data:`EXTRA_COLUMNS`, one row per mention, in text order.
        ``count`` is 1 for a named facility, N for "N个…", empty for a generic one.
    """
    gaz = gazetteer or load_gazetteer()
    nlp = _nlp(gaz)
    text = clean_text(text)
    lines = text.splitlines()
    doc_district, doc_sub = _doc_context(nlp, lines, default_district)
    rows = []
    section_past = section_ahead = False
    for n_para, para in enumerate(lines):
        scope: Resolution | None = doc_sub
        scope_raw = doc_sub.raw if doc_sub else ""
        if n_para > 0 and _HEADING.match(para) and " | " not in para \
                and (_PAST_HEADING.search(para) or _AHEAD_HEADING.search(para)):  # a table row is no heading
            section_past = bool(_PAST_HEADING.search(para)) and not _AHEAD_HEADING.search(para)
            section_ahead = not section_past
        past = section_past or bool(_PAST_OPENING.match(para))
        if n_para == len(lines) - 1 and n_para > 2 and re.fullmatch(rf"[{_CJK}A-Za-z0-9（）()]{{2,20}}", para):
            continue  # the closing signature of a letter ("江川路街道办事处"): the issuer, not a facility
        for s in _bounded(_sentences_of(para)):
            places = _place_mentions(nlp, s, doc_district)
            opening_subs = [p for p in places if p[0] <= 12 and p[2].kind == "subdistrict"]
            local = False  # the scope was named in this sentence
            if opening_subs:
                scope = opening_subs[0][2]
                scope_raw = s[opening_subs[0][0]:opening_subs[0][1]]
                local = True
            toks = nlp.tokens(s)
            mentions = _find_mentions(nlp, s, toks)
            spans = [(m.start, m.end) for m in mentions]
            clauses = _clauses(s)
            # a subdistrict that opens a clause or fills a table cell is the subject of what follows
            # ("半淞园路街道年内建成一家社区食堂，打浦桥街道对…两个老年助餐点进行改造提升")
            subjects = _clause_subjects(s, places, clauses)
            for m in mentions:
                lo, hi = next(((a, b) for a, b in clauses if a <= m.start < b), (0, len(s)))
                subj = [p for p in subjects if p[0] <= m.start]
                if subj:
                    scope, scope_raw, local = subj[-1][2], subj[-1][2].raw, True
                clause = s[lo:hi]
                if _is_not_facility(nlp, m, s, hi):
                    continue
                verb = _governing_verb(nlp, s, toks, lo, m.start, spans)
                if m.mention_type == "generic" and not _generic_is_concrete(s, m, verb, clause, hi, spans):
                    continue
                if m.mention_type == "generic" and m.ordinal:
                    m.mention_type, m.count = "counted", 1  # "建设第二家睦邻中心": one more
                if m.mention_type != "named" and _ABSTRACT_LIST.search(clause):
                    continue
                first = s[clauses[0][0]:clauses[0][1]] if clauses else ""
                if (lo, hi) == clauses[0]:
                    opening = ""
                elif clause.startswith(("并", "且", "同时", "还", "以及", "随后")):
                    opening = s[:lo]
                else:
                    opening = first if len(first) <= 8 else ""
                k = clauses.index((lo, hi)) if (lo, hi) in clauses else -1
                cues, after = clause, s[m.end:hi]
                if k > 0 and clause.startswith(_CONTINUING):  # "…三处，其中包括场中路口袋公园"
                    cues = s[clauses[k - 1][0]:hi]
                if s[hi:hi + 1] == "：" and _LIST_LABEL.fullmatch(s[lo:m.start]):
                    cues = after = s[m.end:]  # a list item "（四）X：正在建设，…": its body says the status
                following = s[clauses[k + 1][0]:clauses[k + 1][1]] if 0 <= k < len(clauses) - 1 else ""
                status = _status(cues, after, opening, verb, following, past,
                                 _is_agent(s, toks, m, verb, hi, mentions) or _is_partner(s, m, hi),
                                 ahead=section_ahead and not past, named=m.mention_type == "named")
                rows.append(_row(nlp, m, s, lo, status, scope, scope_raw, doc_district, source, local))
    df = pd.DataFrame(rows, columns=COLUMNS + EXTRA_COLUMNS)
    df["count"] = df["count"].astype("Int64")
    df["confidence"] = df["confidence"].astype(float)
    return _dedupe(df)


def _is_agent(s: str, toks, m: _Mention, verb: str, clause_end: int, mentions: list[_Mention]) -> bool:
    """Is the mention the subject of a construction verb that builds a later mention of its clause?"""
    if verb.startswith(_BUILD_VERBS):
        return False
    nxt = next((o for o in mentions if m.end <= o.start < clause_end), None)
    if nxt is None:
        return False
    between = [w for a, b, w, f in toks if m.end <= a and b <= nxt.start]
    if any(w in ("、", "和", "与", "及", "以及", "或") for w in between):
        return False  # an enumeration: "推进A、B建设"
    if re.search(r"[把将对][^，。；]{0,4}$", s[:m.start]) or "成" in between or "为" in between:
        return False  # the object of 把/将/对, made into the next one: "把两个菜场改造成标准化菜市场"
    return any(w.startswith(_BUILD_VERBS) or w in ("新开", "开设", "增加") for w in between)


def _is_partner(s: str, m: _Mention, clause_end: int) -> bool:
    """Is the mention a party to a joint action ("将与X形成联动", "推进X与Y签约")? Then it exists."""
    joint = r"(?:形成|开展|建立|实现|进行)?(?:联动|合作|共建|对接|结对|衔接|互动|联建|签约)"
    if re.search(r"(?:与|同|跟|和)$", s[:m.start]) and re.match(joint, s[m.end:clause_end]):
        return True  # "将与X形成联动"
    return bool(re.match(rf"(?:与|同|跟)[^，。；]{{1,20}}?{joint}", s[m.end:clause_end]))  # "推进X与Y签约"


def _clause_subjects(s: str, places, clauses) -> list[tuple[int, int, Resolution]]:
    """Subdistricts that open a clause (after list numbering) or fill a whole table cell.

    A cell's subdistrict is the whole row's: its start is returned as 0."""
    out: list[tuple[int, int, Resolution]] = []
    starts = {a for a, _ in clauses}
    cells = set()
    if " | " in s:
        pos = 0
        for cell in s.split(" | "):
            cells.add((pos, pos + len(cell)))
            pos += len(cell) + 3
    for a, b, res in places:
        if res.kind != "subdistrict":
            continue
        lead = max((c for c in starts if c <= a), default=0)
        if (a, b) in cells:
            out.insert(0, (0, b, res))
        elif re.fullmatch(r"[\s\d.、（）()一二三四五六七八九十]*", s[lead:a]):
            out.append((a, b, res))
    return out


def _is_not_facility(nlp: _NLP, m: _Mention, s: str, clause_end: int) -> bool:
    """Organisations, programmes and abstractions (see module docstring)."""
    if _ORG.search(m.modifier):
        return True
    words = _mod_words(nlp, m.modifier)
    if any(w in _ABSTRACT for w in words) or any(a in m.modifier for a in _ABSTRACT if len(a) > 2):
        return True
    if _SPEECH.match(s[m.end:m.end + 8]) and not re.search(r"(?:在|于)$", s[:m.start]):
        return True  # "…办事处表示" speaks; "会议在…中心召开" is a venue
    return False


def _generic_is_concrete(s: str, m: _Mention, verb: str, clause: str, clause_end: int, spans) -> bool:
    """A bare type noun counts only when it is built, opened or upgraded here."""
    if verb and (verb.startswith(_BUILD_VERBS)):
        return True
    # "推进 X、Y 建设" / "X 改造提升": the project noun follows the enumeration
    j = m.end
    while j < clause_end:
        nxt = next(((a, b) for a, b in spans if a == j or a == j + 1 and s[j] in "、和与及"), None)
        if nxt is None:
            break
        j = nxt[1]
    tail = s[j:clause_end].lstrip("”」等")
    return tail.startswith(_PROJECT_FOLLOW)


def _row(nlp: _NLP, m: _Mention, s: str, clause_start: int, status: str, scope: Resolution | None,
         scope_raw: str, doc_district: str | None, source: str, local: bool = True) -> dict:
    """One output row. A district-level name (区图书馆新馆, 松江区第二社会福利院) keeps a
    subdistrict only when its own sentence names one (``local``): the document's or
    paragraph's subdistrict does not place a district facility."""
    name_raw = m.name_raw if m.mention_type == "named" else ""
    name = name_raw
    sub, sub_raw, district = scope, scope_raw, doc_district
    if _WHOLE_DISTRICT.search(s[clause_start:m.start]):
        sub, sub_raw = None, ""  # "全区已建成…41家" speaks of the whole district
    confidence = {"named": 0.9, "counted": 0.8, "generic": 0.5}[m.mention_type]
    if name_raw:
        first = m.deictic
        if first in _DEICTIC_SUB and scope is not None:
            name = scope.name + name_raw[len(first):]
            confidence = 0.8
        elif first in _DEICTIC_DISTRICT and doc_district:
            name = doc_district + name_raw[len(first):]
            confidence = 0.8
        elif first in _DEICTIC_SUB + _DEICTIC_DISTRICT:
            confidence = 0.6
        pref = None if name != name_raw else _prefix_place(nlp, name, district)
        if pref is not None and district and pref[1].district != district and pref[0] != pref[1].name:
            pref = None  # a short form of a place in another district is a road here ("新村路" in 普陀区)
        if pref is not None:
            raw, res = pref
            # a short form at the start of a name (长海路…, 四平…) places it unless its own sentence
            # names the subdistrict; the full name (五角场街道…) always does
            if res.kind == "subdistrict" and (raw == res.name or not local or scope is None):
                sub, sub_raw = res, raw
            district = res.district if sub is None or sub.name == res.name else sub.district
        district_named = pref is not None and pref[1].kind == "district" and pref[0].endswith(("区", "县"))
        if (first in _DEICTIC_DISTRICT or district_named) and not local:
            sub, sub_raw = None, ""  # "松江区第二社会福利院", not "浦东游泳馆" (a place name)
            branch = _branch_place(nlp, name, district)
            if branch is not None:  # "崇明区图书馆城桥分馆": the branch is in 城桥镇
                sub, sub_raw = branch, branch.raw
    if sub is not None:
        district = sub.district or district
    corrected = sub.corrected if sub is not None else ""
    if corrected:
        confidence -= 0.1
    return {
        "name": name, "category": m.category, "status": status,
        "count": 1 if m.mention_type == "named" else m.count,
        "district": district or "", "subdistrict": sub.name if sub is not None else "",
        "source": source, "sentence": s, "mention_type": m.mention_type, "name_raw": name_raw,
        "subdistrict_raw": sub_raw if sub is not None else "", "corrected": corrected,
        "confidence": round(confidence, 2),
    }


def _branch_place(nlp: _NLP, name: str, district: str | None) -> Resolution | None:
    """The subdistrict a branch of a district facility is named after ("…图书馆城桥分馆" → 城桥镇)."""
    m = re.search(rf"([{_CJK}]{{2,4}})(?:分馆|分中心|分院|分园|分所|分站)$", name)
    if m is None:
        return None
    for n in range(len(m.group(1)) - 1):
        raw = m.group(1)[n:]
        hit = nlp.gaz.aliases.get(raw)
        if hit and hit[1] == "subdistrict":
            res = nlp.gaz.resolve(raw, district=district)
            if res is not None and (not district or res.district == district):
                return res
    return None


def _dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """A named facility mentioned twice in one text is one row (the first mention); a name that
    is another one of the text with its own subdistrict or district before it ("石化街道卫零路邻里中心"
    and "卫零路邻里中心") is the same facility, kept under the shorter name."""
    named = df["mention_type"] == "named"
    dup = named & df.duplicated(subset=["source", "name", "category"], keep="first")
    names = set(zip(df.loc[named, "source"], df.loc[named, "category"], df.loc[named, "name"]))
    for i in df.index[named & ~dup]:
        r = df.loc[i]
        for place in {r["subdistrict"], r["subdistrict_raw"], r["district"]} - {""}:
            if r["name"].startswith(place) and (r["source"], r["category"], r["name"][len(place):]) in names:
                dup[i] = True
    return df[~dup].reset_index(drop=True)


def extract_files(paths: Iterable[str | Path], *, default_district: str | None = None,
                  errors: str = "raise") -> pd.DataFrame:
    """Read and extract several files into one table.

    Parameters
    ----------
    paths : iterable of path
    default_district : str, optional
    errors : {'raise', 'collect'}
        ``raise``: the first bad file raises :class:`~geo.errors.InputError`.
        ``collect``: bad files are skipped and their one-line messages listed in
        ``df.attrs["problems"]`` (the CLI uses this to name every bad file at once).

    Returns
    -------
    DataFrame
        As :func:`extract_mentions`; ``source`` is the file name.
    """
    frames, problems = [], []
    for p in paths:
        try:
            text = read_text(p)
            frames.append(extract_mentions(text, source=Path(p).name, default_district=default_district))
        except LifecircleError as exc:
            if errors == "raise":
                raise
            problems.append(exc)
    df = pd.concat(frames, ignore_index=True) if frames else extract_mentions("", source="")
    df.attrs["problems"] = problems
    return df


def print_problems(command: str, problems: Iterable[LifecircleError], lang: str) -> None:
    """One line on stderr per file that could not be used: ``lifecircle <command>: 错误: <file>: <why>``."""
    import sys

    from .i18n import t

    word = t("cli_error", lang)
    for exc in problems:
        print(f"lifecircle {command}: {word}: {exc.message(lang)}", file=sys.stderr)


def _summary(df: pd.DataFrame, lang: str) -> list[str]:
    from .i18n import t

    lines = []
    kinds = df["mention_type"].value_counts()
    lines.append(t("cli_mentions", lang, n=len(df), named=int(kinds.get("named", 0)),
                   counted=int(kinds.get("counted", 0)), generic=int(kinds.get("generic", 0))))
    if len(df):
        tab = df.groupby(["category", "status"]).size().unstack(fill_value=0)
        for cat, row in tab.iterrows():  # category and status values are str
            parts = [f"{label(str(st), lang)} {int(n)}" for st, n in row.items() if n]
            lines.append(f"  {label(str(cat), lang)}: " + ", ".join(parts))
    return lines


def cli_extract(args) -> int:
    """``lifecircle extract TEXT [TEXT ...] -o facilities.csv``.

    Each text succeeds or fails on its own (:func:`extract_files`, as the app
    and ``lifecircle plan`` read them): every text that can be read is
    extracted, each one that cannot gets one line on stderr naming it
    (:func:`print_problems`). With at least one text read, the table is
    written as UTF-8 with BOM, atomically, and a summary is printed; the exit
    code is 0 when every text was read and 2 when any could not be (the good
    ones' table is written all the same). When no text could be read nothing
    is written (a single bad file: the usual one-line error).
    """
    import sys

    lang = getattr(args, "lang", "zh")
    out = Path(args.output)
    if out.suffix.lower() != ".csv":
        raise InputError("输出文件须为 .csv。", "the output must be a .csv file.", out)
    from .i18n import t
    from .io import check_writable
    from .outdir import check_not_input

    check_writable(out)
    check_not_input(out, args.texts)
    if len(args.texts) == 1:
        df = extract_files(args.texts)  # the one bad file is the error
        problems = []
    else:
        df = extract_files(args.texts, errors="collect")
        problems = df.attrs.pop("problems", [])
    print_problems("extract", problems, lang)
    if problems and len(problems) == len(args.texts):
        return 2
    bad = {exc.path for exc in problems}
    gaz = load_gazetteer()
    with atomic_file(out) as tmp:
        to_csv_bom(df[COLUMNS + EXTRA_COLUMNS], tmp)
    for line in _summary(df, lang):
        print(line)
    for src in args.texts:
        if str(Path(src)) not in bad and not (df["source"] == Path(src).name).any():
            print(f"  {Path(src).name}: {t('cli_no_mentions', lang)}")
    if problems:
        print("  " + t("cli_files_unread", lang, n=len(problems)))
    if gaz.note:
        print(f"  {gaz.note}", file=sys.stderr)
    print(t("cli_written", lang, o=out))
    return 2 if problems else 0
