"""Locating and registering the CJK font for matplotlib and reportlab.

Static maps and PDF reports must show Chinese glyphs, not boxes, and the PDF
must embed the font. ``scripts/setup`` installs WenQuanYi Zen Hei (Debian
``fonts-wqy-zenhei``); any other CJK TrueType font found by fontconfig or named
in ``LIFECIRCLE_CJK_FONT`` works as well.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from .errors import InputError
from .settings import cjk_font_path

__all__ = ["find_cjk_font", "reportlab_font", "matplotlib_font", "matplotlib_rc", "REPORTLAB_NAME"]

REPORTLAB_NAME = "LifecircleCJK"

KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # CFF outlines: matplotlib only
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
)
_TRUETYPE = (".ttf", ".ttc")


def _fc_match() -> list[Path]:
    """Fonts fontconfig proposes for simplified Chinese (empty without fc-match)."""
    exe = shutil.which("fc-match")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-s", "-f", "%{file}\n", "sans-serif:lang=zh-cn"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines()[:20]:
        p = Path(line.strip())
        if p.suffix.lower() in _TRUETYPE and ("wqy" in p.name.lower() or "cjk" in p.name.lower()
                                               or "hei" in p.name.lower() or "song" in p.name.lower()
                                               or "droidsansfallback" in p.name.lower()):
            found.append(p)
    return found


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> Path:
    """Path of a TrueType CJK font (``.ttf``/``.ttc``) reportlab can embed.

    Looks at ``LIFECIRCLE_CJK_FONT``, then known install paths, then fontconfig.

    Raises
    ------
    InputError
        No CJK font is installed; the message says to run ``scripts/setup``.
    """
    p = cjk_font_path()
    if p is not None:
        if p.is_file():
            return p
        raise InputError("LIFECIRCLE_CJK_FONT 指向的字体文件不存在。", "LIFECIRCLE_CJK_FONT names a font file that does not exist.", p)
    candidates = [Path(p) for p in KNOWN_PATHS if "Noto" not in p] + _fc_match()
    for p in candidates:
        if p.is_file():
            return p
    raise InputError("未找到中文字体（文泉驿正黑）。请运行 scripts/setup 安装 fonts-wqy-zenhei。",
                     "no Chinese (CJK) font found; run scripts/setup to install fonts-wqy-zenhei.")


@functools.lru_cache(maxsize=1)
def reportlab_font() -> str:
    """Register the CJK font with reportlab (embedded subset) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_cjk_font()
    kw = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    try:
        pdfmetrics.registerFont(TTFont(REPORTLAB_NAME, str(path), **kw))
    except Exception as exc:  # TTFError for CFF-flavoured or broken fonts
        raise InputError(f"中文字体无法用于 PDF（{exc}）。请运行 scripts/setup 安装 fonts-wqy-zenhei。",
                         f"the CJK font cannot be embedded in PDF ({exc}); run scripts/setup to install fonts-wqy-zenhei.",
                         path) from None
    return REPORTLAB_NAME


@functools.lru_cache(maxsize=1)
def matplotlib_font() -> str:
    """Add the CJK font to matplotlib's font manager and return its family name.

    Use it as ``rc_context({"font.family": matplotlib_font()})`` so every
    text element (titles, ticks, legends) is drawn with it.
    """
    from matplotlib import font_manager

    path = find_cjk_font()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def matplotlib_rc() -> dict:
    """rcParams drawing all text with the CJK font (use with ``matplotlib.rc_context``).

    WenQuanYi Zen Hei has a single "medium" (500) face; asking for it by that
    weight keeps matplotlib from logging a fallback warning for every text.
    """
    weight = "medium"
    return {"font.family": matplotlib_font(), "font.weight": weight, "axes.titleweight": weight,
            "axes.labelweight": weight, "figure.titleweight": weight, "axes.unicode_minus": False}
