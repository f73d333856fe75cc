"""geo.i18n is the one home of zh/en display strings: every key used exists, nothing is written twice."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from geo.categories import SOURCES, label
from geo.i18n import COLUMNS, MAP, MATCH_STATUSES, REPORT, UI, UNITS, column_label, match_label, t, unit_label

ROOT = Path(__file__).resolve().parents[1]
SOURCES_PY = sorted((ROOT / "geo").glob("*.py")) + [ROOT / "app.py"]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in SOURCES_PY]


def _string_keys() -> tuple[set[str], set[str]]:
    """(literal keys, regexes of f-string keys) passed as first argument to ``t(...)`` in geo/ and app.py."""
    keys: set[str] = set()
    patterns: set[str] = set()
    for _, tree in _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t" and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.add(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                patterns.add("".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+" for v in arg.values))
            elif isinstance(arg, ast.BinOp):  # "scenario_" + key
                parts = [arg.left, arg.right]
                while isinstance(parts[0], ast.BinOp):
                    parts = [parts[0].left, parts[0].right, *parts[1:]]
                patterns.add("".join(re.escape(p.value) if isinstance(p, ast.Constant) else r"\w+" for p in parts))
    return keys, patterns


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_every_key_used_exists_in_both_languages():
    keys, patterns = _string_keys()
    # the scan sees the report, the app, the map and the command line
    assert {"title", "sheet_params", "app_title", "plan_made", "map_gaps", "cli_internal_error"} <= keys
    strings = {**UI, **REPORT, **MAP}
    assert sorted(keys - strings.keys()) == []
    for p in patterns:
        assert any(re.fullmatch(p, k) for k in strings), f"no string key matches t(f'{p}')"
    for key, (zh, en) in strings.items():
        assert zh.strip() and en.strip(), key
        assert _CJK_TEXT.search(zh) or zh == en, f"{key}: the Chinese text (or punctuation) comes first"
        assert _placeholders(zh) == _placeholders(en), f"{key}: zh and en fill different placeholders"


def test_one_lookup_for_app_and_report_strings():
    assert not (UI.keys() & REPORT.keys()) and not (UI.keys() & MAP.keys()) and not (REPORT.keys() & MAP.keys())
    assert all(k.startswith("map_") for k in MAP)
    assert t("sheet_params", "zh") == "参数与来源" and t("sheet_params", "en") == "Parameters and sources"
    assert t("page", "en", n=3) == "page 3" and t("page", "zh", n=3) == "第 3 页"
    assert t("app_title", "en") == UI["app_title"][1]
    assert t("no_such_key", "en") == "no_such_key"
    assert [unit_label(u, "zh") for u in UNITS] == ["米", "分钟"] and unit_label("min", "en") == "min"


def test_no_zh_en_pair_is_written_twice():
    """A (zh, en) table entry written in two places drifts apart: give the second one a reference instead."""
    seen: dict[tuple[str, str], list[str]] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for v in node.values:
                if (isinstance(v, ast.Tuple) and len(v.elts) == 2
                        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in v.elts)):
                    zh, en = (e.value for e in v.elts)  # type: ignore[attr-defined]
                    if _CJK.search(zh):
                        seen.setdefault((zh.strip(), en.strip().casefold()), []).append(f"{path.name}:{v.lineno}")
    assert len(seen) > 300  # the scan reads the tables (i18n, categories, errors, ...)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert twice == {}


def _is_lang_test(node: ast.expr) -> bool:
    """``zh``, ``lang == "zh"``, ``lang != "zh"`` (any name compared with the constant ``"zh"``)."""
    if isinstance(node, ast.Name):
        return node.id == "zh"
    return (isinstance(node, ast.Compare) and len(node.comparators) == 1
            and isinstance(node.ops[0], (ast.Eq, ast.NotEq))
            and any(isinstance(x, ast.Constant) and x.value == "zh" for x in (node.left, node.comparators[0])))


_CJK_TEXT = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # Chinese characters and punctuation


def _literal(node: ast.expr) -> str:
    """The literal parts of a string, f-string or ``+`` of them ('' for anything else)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left) + _literal(node.right)
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(v) for v in node.values)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _is_pair(zh: ast.expr, en: ast.expr) -> bool:
    """Two texts, one of them Chinese (``"zh" if zh else "en"`` or a key pair is no display text)."""
    return bool(_literal(zh).strip() and _literal(en).strip()
                and (_CJK_TEXT.search(_literal(zh)) or _CJK_TEXT.search(_literal(en))))


def _inline_pairs(tree: ast.AST) -> list[int]:
    """Lines of ``"…" if zh else "…"`` / ``"…" if lang == "zh" else "…"``: a zh/en text written inline."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.IfExp) and _is_lang_test(node.test) and _is_pair(node.body, node.orelse):
            found.append(node.lineno)
        elif (isinstance(node, ast.If) and _is_lang_test(node.test) and len(node.body) == len(node.orelse) == 1
              and all(isinstance(b, ast.Expr) and isinstance(b.value, ast.Call) and b.value.args
                      for b in (*node.body, *node.orelse))
              and _is_pair(node.body[0].value.args[0], node.orelse[0].value.args[0])):  # type: ignore[attr-defined]
            found.append(node.lineno)  # if lang == "zh": print("…") else: print("…")
    return found


# Inline zh/en pairs still allowed, per file, at most this many (the count may only shrink: move a text to
# geo/i18n.py and lower it); every file not listed must have none. The scan counts ``A if zh else B`` (or
# ``if lang == "zh": f(A) else: f(B)``) where A or B is a literal with Chinese text (letters or punctuation).
INLINE_PAIRS_ALLOWED = {
    "app.py": 1,  # must stay: the language switch names each language in itself ("中文" / "English")
}


def test_no_inline_zh_en_pairs_outside_the_string_table():
    """A zh/en text goes to geo/i18n.py (looked up with t()), never ``"…" if zh else "…"`` at its use."""
    assert _inline_pairs(ast.parse('x = "设施" if lang == "zh" else "Facilities"')) == [1]  # the scan sees one
    assert _inline_pairs(ast.parse('x = ("来源：" if zh else "source: ") + k')) == [1]
    assert _inline_pairs(ast.parse('x = pc.zh if lang == "zh" else pc.en')) == []  # a pair from a table: fine
    found = {p.name: lines for p, tree in _trees() if (lines := _inline_pairs(tree))}
    for name in ("webmap.py", "cli.py", "plan.py", "ui.py", "siting.py", "pipeline.py", "places.py", "areas.py",
                 "geocode.py", "i18n.py"):
        assert found.get(name, []) == [], f"{name}: inline zh/en text at lines {found.get(name)}: move it to geo/i18n.py"
    over = {name: lines for name, lines in found.items() if len(lines) > INLINE_PAIRS_ALLOWED.get(name, 0)}
    assert over == {}, "new inline zh/en text: move it to geo/i18n.py and look it up with t()"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_shared_headers(lang):
    i = 0 if lang == "zh" else 1
    assert column_label("n_buildings", lang) == column_label("buildings", lang) == ("建筑数", "Buildings")[i]
    assert match_label("manual", lang) == label("manual", lang) == SOURCES["manual"][i] == MATCH_STATUSES["manual"][i]
    # per-category columns: the category label, then the measure (lower case inside an English header)
    park = label("park", lang)
    expected = {"dist_m_park": (f"{park}步行距离(米)", f"{park} walking distance (m)"),
                "walk_min_park": (f"{park}步行时间(分钟)", f"{park} walking time (min)"),
                "unreachable_park": (f"{park}不可达", f"{park} unreachable"),
                "nearest_park": (f"{park}最近设施", f"{park} nearest facility"),
                "covered_km_park": (f"{park}覆盖长度(公里)", f"{park} covered length (km)")}
    assert {c: column_label(c, lang) for c in expected} == {c: e[i] for c, e in expected.items()}
    assert column_label("dist_m", lang) == ("步行距离(米)", "Walking distance (m)")[i]
    assert column_label("dist_m_nowhere", lang) == "dist_m_nowhere"  # not a category: the name itself
    assert COLUMNS["dist_m"][0] == "步行距离(米)"
