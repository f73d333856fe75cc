"""15分钟社区生活圈 — the planner's app.

Thin by design: widgets, cached calls into ``geo`` (see ``geo/ui.py``), rendering.
Run with ``.venv/bin/lifecircle app`` (caches filled before the port opens) or ``.venv/bin/streamlit run app.py``;
the default study area is
``data/areas/xinjiangwan`` (``LIFECIRCLE_DATA_DIR`` moves ``data/``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import ui, webmap
from geo.areas import StudyArea
from geo.categories import CATEGORIES, CATEGORY_KEYS, PROFILES, STATUSES, label
from geo.coords import DATUMS
from geo.coverage import gap_labels
from geo.errors import LifecircleError
from geo.i18n import MATCH_STATUSES, column_label, localize_columns, match_label, t
from geo.providers import KEY_ENV, PROVIDERS, provider_label
from geo.study import FacilityLayer, Study, Threshold

st.set_page_config(page_title="15分钟社区生活圈", page_icon="🚶", layout="wide")
ui.clean_temp_on_start()
T0 = time.perf_counter()

LANGS = ("zh", "en")


def choice(widget: Callable, text: str, options: Sequence[str], key: str, fmt: Callable[[str, str], str],
           lang: str, **kw) -> str:
    """A radio or selectbox whose value is an option *key* that survives a language switch.

    Streamlit keeps a choice widget's value as the label it shows, and our
    labels change with the language: with one widget for both languages the
    browser sent back a label of the other language, which ``format_func``
    (``label()`` returns an unknown key unchanged) let through as the value --
    ``KeyError: '一般步行'`` at ``PROFILES[profile]``. So each language has its
    own widget (``key`` in Chinese, ``<key>.en`` in English), which only ever
    sees its own labels, started from the option last chosen in either
    language (``st.session_state["_chosen"]``). ``st.session_state[key]`` set
    from outside (opening a saved study) is taken in either language.
    """
    state = st.session_state
    chosen: dict = state.setdefault("_chosen", {})
    wkey = key if lang == "zh" else f"{key}.{lang}"
    if wkey != key and key in state:  # set from outside while the Chinese widget is not drawn
        outside = state.pop(key)
        if outside in options and outside != chosen.get(key):
            chosen[key] = outside
            state.pop(wkey, None)
    cur = chosen.get(key)
    # a widget whose state exists (its own, or set from outside) must not also get an index
    start = {} if wkey in state else {"index": list(options).index(cur) if cur is not None and cur in options else 0}
    value = widget(text, options, format_func=lambda k: fmt(k, lang), key=wkey, **start, **kw)
    chosen[key] = value
    return value


# ----------------------------------------------------------------------------- sidebar: language, area
with st.sidebar:
    lang = st.radio("语言 / Language", LANGS, format_func=lambda k: "中文" if k == "zh" else "English",
                    horizontal=True, key="lang")
st.title(t("app_title", lang))
strip = st.container()  # the summary strip: filled once the result is known, shown above everything else

area_id = st.session_state.get("area_id", ui.DEFAULT_AREA)
area_path = ui.area_dir(area_id)
area: StudyArea | None = None
with ui.guard(t("view_area", lang), lang):  # a damaged area that breaks the reader: one line, the area view stays
    try:
        area = ui.load_area(area_path)
    except LifecircleError as exc:
        if area_id == ui.DEFAULT_AREA and not (area_path / "area.json").exists():
            st.error(t("area_missing", lang, path=str(area_path)))
            st.code(ui.prepare_command(area_id), language="bash")
        else:
            st.error(exc.message(lang))

VIEWS = ["map", "green", "material", "plan", "area", "export"]
if area is None:
    VIEWS = ["area"]
view = choice(st.radio, t("view", lang), VIEWS, "view", lambda k, lg: t(f"view_{k}", lg), lang, horizontal=True,
              label_visibility="collapsed")


def show_error(exc: LifecircleError) -> None:
    """One clear line, never a traceback."""
    st.error(exc.message(lang))


def flash(kind: str, text: str) -> None:
    """Queue a message for the next run: ``st.rerun()`` right after ``st.success`` would erase it unseen."""
    st.session_state.setdefault("_flash", []).append((kind, text))


for _kind, _text in st.session_state.pop("_flash", []):
    {"success": st.success, "warning": st.warning, "error": st.error}[_kind](_text)


# ----------------------------------------------------------------------------- load another area
def prepare_and_open(prepare) -> None:
    """Run ``prepare(progress)`` with a progress bar, then open the area it wrote."""
    bar = st.progress(0.0, text=t("preparing", lang))
    path = prepare(lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg))
    # a freshly prepared area starts clean, even under an id used before: no layers or texts of another area
    for key in ("layers", "geocoded"):
        st.session_state.get(key, {}).pop(path.name, None)
    st.session_state["area_id"] = path.name
    flash("success", t("area_ready", lang, path=str(path)))
    st.rerun()


def subdistrict_steps() -> None:
    """Another 街道 offline: 1 pick it, 2 see what the shared data has, 3 give only what is missing."""
    st.subheader(t("area_subdistrict", lang))
    gaz = ui.gazetteer()
    if gaz.note:
        st.caption(gaz.note)
    dists = sorted(gaz.districts["name"])
    if not dists:
        return
    c1, c2 = st.columns(2)
    district = c1.selectbox(t("step1_district", lang), dists, key="off_district",
                            index=dists.index("杨浦区") if "杨浦区" in dists else 0)
    subs = ui.subdistricts_of(district)
    sub = c2.selectbox(t("step1_subdistrict", lang), subs, key="off_subdistrict")
    mirror = st.text_input(t("mirror_dir", lang), value=str(ui.mirror_dir()), key="off_mirror")
    if sub and st.button(t("step2_survey", lang), key="survey"):
        try:
            st.session_state["subdistrict_survey"] = ui.survey_subdistrict(sub, district, mirror)
        except LifecircleError as exc:
            show_error(exc)
    sv = st.session_state.get("subdistrict_survey")
    if sv is None or sv.subdistrict != sub:
        return
    st.markdown(t("step2_found", lang, name=sv.subdistrict, mirror=str(sv.mirror)))
    for line in sv.lines(lang):
        st.write("• " + line)
    from geo.offline import NETWORK_FORMATS, area_id_for, missing_message

    need = "network" in sv.missing
    if need:
        st.info(missing_message(sv)[0 if lang == "zh" else 1])
    st.markdown(t("step3_give", lang))
    net_up = st.file_uploader(t("step3_network", lang, formats=NETWORK_FORMATS[0 if lang == "zh" else 1]),
                              type=list(ui.NETWORK_TYPES), key=f"up_net_{sub}", max_upload_size=ui.MAX_UPLOAD_MB)
    net_local = st.text_input(t("local_path", lang), key=f"local_net_{sub}")
    bld_up = st.file_uploader(t("step3_buildings", lang), type=list(ui.BUILDING_TYPES), key=f"up_bld_{sub}",
                              max_upload_size=ui.MAX_UPLOAD_MB)
    new_id = st.text_input(t("area_id", lang), value=area_id_for(sv.subdistrict), key=f"off_area_{sub}")
    if st.button(t("prepare", lang), key="prepare_subdistrict", disabled=need and not (net_up or net_local)):
        try:
            with ui.temp_dir("upload") as folder:
                net = ui.save_upload(net_up, ui.NETWORK_TYPES, folder=folder / "network") if net_up else \
                    ui.require_local(net_local) if net_local else None
                bld = ui.save_upload(bld_up, ui.BUILDING_TYPES, folder=folder / "buildings") if bld_up else None
                prepare_and_open(lambda progress: ui.prepare_subdistrict(sv, net, bld, new_id, progress))
        except LifecircleError as exc:
            show_error(exc)


def area_view() -> None:
    subdistrict_steps()
    st.subheader(t("area_online", lang))
    with st.form("online"):
        place = st.text_input(t("place", lang), value="新江湾城街道, 杨浦区, 上海市", key="online_place")
        new_id = st.text_input(t("area_id", lang), value="online_area", key="online_id")
        go = st.form_submit_button(t("prepare", lang), key="prepare_online")
    if go:
        try:
            prepare_and_open(lambda progress: ui.prepare_online(new_id, place, progress))
        except LifecircleError as exc:
            show_error(exc)
        except Exception as exc:  # network errors from osmnx/requests: one line
            st.error(t("online_failed", lang, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    st.subheader(t("area_offline", lang))
    up = st.file_uploader(t("upload_network", lang), type=list(ui.NETWORK_TYPES), key="up_network",
                          max_upload_size=ui.MAX_UPLOAD_MB)
    local = st.text_input(t("local_path", lang), key="local_network")
    off_id = st.text_input(t("area_id", lang), value="my_area", key="offline_id")
    if st.button(t("prepare", lang), key="prepare_offline", disabled=not (up or local)):
        try:
            with ui.temp_dir("upload") as folder:
                src = ui.save_upload(up, ui.NETWORK_TYPES, folder=folder) if up else ui.require_local(local)
                prepare_and_open(lambda progress: ui.prepare_from_file(off_id, src, progress))
        except LifecircleError as exc:
            show_error(exc)

    areas = ui.list_areas()
    if areas:
        pick = st.selectbox(t("prepared_areas", lang), areas,
                            index=areas.index(area_id) if area_id in areas else 0, key="pick_area")
        if pick != area_id and st.button(t("open_area", lang)):
            st.session_state["area_id"] = pick
            st.rerun()


if area is None:
    with ui.guard(t("view_area", lang), lang):
        area_view()
    st.stop()

# ----------------------------------------------------------------------------- the study: every parameter in one value
# kept in plain session state (not only in widgets, whose state Streamlit drops when they are not drawn), so a
# threshold or a speed set once holds for the whole session, whatever category or walker is shown
state = st.session_state
if "thresholds" not in state:
    state["thresholds"] = {c: Threshold(CATEGORIES[c].threshold_m, "m") for c in CATEGORY_KEYS}
speeds: dict = state.setdefault("speeds", {})  # walking profile -> m/min the planner set
layers: dict = state.setdefault("layers", {}).setdefault(area_id, {})  # this area's own layers: digest -> layer
geocoded: dict = state.setdefault("geocoded", {})  # area id -> the mention table read from its texts

with st.sidebar:
    st.caption(t("area_caption", lang, name=area.meta.get("name", area_id), area=area_id))
    cat = choice(st.selectbox, t("category", lang), CATEGORY_KEYS, "category", label, lang)
    scope_opts = [ui.ALL_SUBDISTRICTS, *ui.subdistricts(area.boundaries)]
    scope = choice(st.selectbox, t("scope", lang), scope_opts, "scope",
                   lambda k, lg: t("scope_all", lg) if k == ui.ALL_SUBDISTRICTS else k, lang,
                   help=t("scope_help", lang))
    profile = choice(st.radio, t("profile", lang), list(PROFILES), "profile", label, lang, horizontal=True)
    speed = st.number_input(t("speed", lang), min_value=20.0, max_value=150.0, step=1.0, format="%.0f",
                            value=float(speeds.get(profile, PROFILES[profile].speed_m_per_min)),
                            key=f"speed_{profile}", help=PROFILES[profile].cite(lang))
    speeds[profile] = float(speed)
    with st.expander(t("thresholds_title", lang), expanded=False):
        cc = st.column_config
        edited = st.data_editor(
            ui.threshold_table(state["thresholds"], speed, lang), hide_index=True,
            key=f"thresholds_{state.get('thresholds_version', 0)}", disabled=["category", "threshold_m",
                                                                               "threshold_min", "standard"],
            column_config={"category": cc.TextColumn(column_label("category", lang)),
                           "value": cc.NumberColumn(t("thr_value", lang), min_value=0.1, format="%g"),
                           "unit": cc.SelectboxColumn(t("thr_unit", lang), options=["m", "min"], required=True,
                                                      format_func=lambda u: t(f"unit_{u}", lang)),
                           "threshold_m": cc.NumberColumn(column_label("threshold_m", lang), format="%.0f"),
                           "threshold_min": cc.NumberColumn(column_label("threshold_min", lang), format="%.1f"),
                           "standard": cc.TextColumn(t("thr_standard", lang))})
        state["thresholds"] = ui.thresholds_from_table(edited, state["thresholds"], speed)
        st.caption(t("thresholds_help", lang))
    thr_spec = state["thresholds"][cat]
    thr = thr_spec.metres(speed)
    st.caption(t("threshold_caption_kind", lang, threshold=thr_spec.text(lang), metres=thr, minutes=thr / speed,
                 kind=thr_spec.kind(lang), standard=CATEGORIES[cat].cite(lang)))
    include_planned = st.toggle(t("include_planned", lang), value=True, key="include_planned",
                                help=t("include_planned_help", lang))
    show_buildings = st.checkbox(t("show_buildings", lang), value=True, key="show_buildings")
    online_tiles = st.checkbox(t("online_tiles", lang), value=False, key="online_tiles",
                               help=t("online_tiles_help", lang))

with ui.guard(t("computing", lang), lang) as computed, st.spinner(t("computing", lang)):
    ui.sync_siting_layer(layers, area_id, lang)  # the workspace's proposals, with the planner's decisions
    study = Study(area=str(area_path.resolve()), layers=tuple(layers.values()), thresholds=state["thresholds"],
                  profile=profile, include_planned=include_planned, lang=lang, name=state.get("study_name", ""),
                  speed_m_per_min=None if speed == PROFILES[profile].speed_m_per_min else float(speed))
    run = ui.run(study)
if computed.failed:
    st.stop()
result, facilities, dist = run.coverage, run.facilities, run.distances
assets = ui.leaflet_url()
store = ui.geometry_store()


SHARE_COLS = ("share_buildings_covered", "share_street_covered", "network_share_in_area", "share_300m",
              "share_500m", "share_served")
# display formats: minutes with one decimal, km with two, metres whole
NUM_FORMATS = {"threshold_m": "%.0f", "threshold_min": "%.1f", "street_km": "%.2f", "street_km_covered": "%.2f",
               "street_m": "%.0f", "area_m2": "%.0f", "residents": "%.0f", "residents_covered": "%.0f",
               "floor_area_m2": "%.0f", "floor_area_m2_covered": "%.0f"}


def sub_table(df: pd.DataFrame) -> pd.DataFrame:
    """Subdistrict table for display: human headers, category labels, shares as 54.9 % ('—' if none)."""
    out = df.round({"threshold_min": 1, "street_km": 2, "street_km_covered": 2})
    if "category" in out:
        out["category"] = [label(c, lang) for c in out["category"]]
    for c in SHARE_COLS:
        if c in out:
            out[c] = ["—" if pd.isna(v) else f"{v:.1%}" for v in out[c]]
    return localize_columns(out, lang)


def num_config(df: pd.DataFrame, **extra) -> dict:
    """``column_config`` with the display formats of :data:`NUM_FORMATS` for the columns of ``df``."""
    cfg = {column_label(c, lang): st.column_config.NumberColumn(format=f) for c, f in NUM_FORMATS.items() if c in df}
    cfg.update({column_label(c, lang): v for c, v in extra.items() if c in df})
    return cfg


# ----------------------------------------------------------------------------- summary strip (top of the page)
def summary_strip() -> None:
    """The selected 街道's covered share for every category, visible without scrolling."""
    shares = ui.scope_shares(result.subdistricts, scope)
    if not len(shares):
        return
    name = t("scope_all", lang) if scope == ui.ALL_SUBDISTRICTS else scope
    basis = t("strip_buildings" if shares["basis"].iloc[0] == "buildings" else "strip_streets", lang)
    st.caption(t("strip_caption", lang, scope=name, basis=basis))
    for col, row in zip(st.columns(len(shares)), shares.to_dict("records")):
        fmt = "{:.0f}" if row["basis"] == "buildings" else "{:.2f} km"
        col.metric(label(row["category"], lang), "—" if pd.isna(row["share"]) else f"{row['share']:.1%}",
                   help=t("strip_help", lang, threshold=row["threshold_m"], minutes=row["threshold_min"],
                          covered=fmt.format(row["covered"]), total=fmt.format(row["total"])))



with strip, ui.guard(t("summary_strip", lang), lang):
    summary_strip()


# ----------------------------------------------------------------------------- views
def map_view() -> None:
    assert area is not None  # the page stops before the views when no area opened
    cat_gaps = result.gaps[result.gaps["category"] == cat] if len(result.gaps) else result.gaps
    gaps, n_outside, n_other = ui.scope_gaps(cat_gaps, scope)
    ranked = gaps.sort_values("rank") if len(gaps) else gaps
    table_key = f"gap_table_{cat}_{scope}"
    # the row picked in the gap list (its state exists before the list is drawn): the map is drawn first, so
    # the browser starts loading it before the list's grid
    picked = ((st.session_state.get(table_key) or {}).get("selection") or {}).get("rows") or []
    center, zoom = ui.scope_view(area.boundaries, scope)
    zoomed = None
    if picked and picked[0] < len(ranked):
        zoomed = ranked.iloc[[picked[0]]].to_crs(4326)
        c = zoomed.geometry.iloc[0].centroid
        center, zoom = (c.y, c.x), 17
    left, right = st.columns([3, 2])
    with left:
        # the base (shapes, context, boundaries) stays the same for every category, threshold, speed and
        # scenario, so the browser keeps the map and the planner's view; only the overlay is swapped
        base = webmap.coverage_base(streets=result.streets, boundaries=area.boundaries, buildings=result.buildings,
                                    context=area.context, lang=lang, assets=assets, online_tiles=online_tiles,
                                    show_buildings=show_buildings, store=store)
        overlay = webmap.coverage_overlay(category=cat, threshold_m=thr, speed_m_per_min=speed,
                                          streets=result.streets, buildings=result.buildings,
                                          facilities=facilities, gaps=gaps, lang=lang, store=store)
        # render=False: st_folium renders the map itself once more anyway (same page, half the work)
        st_folium(base, render=False, key="main_map", height=600, use_container_width=True, returned_objects=[],
                  feature_group_to_add=overlay, center=center, zoom=zoom)
    with right:
        st.markdown(f"**{t('gaps_title', lang, category=label(cat, lang))}**")
        if len(gaps):
            shown = ranked.drop(columns="geometry")
            shown["label"] = gap_labels(shown, lang)
            # rank, the size of the gap (uncovered buildings; street length when it has no buildings), 街道, where
            size = "n_buildings" if (shown.get("n_buildings", pd.Series(dtype=float)) > 0).any() else "street_m"
            cols = [c for c in ("rank", size, "subdistrict", "label") if c in shown]
            tbl = localize_columns(shown[cols].round({"street_m": 0}), lang)
            small = st.column_config.NumberColumn(width="small")
            st.dataframe(tbl, hide_index=True, on_select="rerun", selection_mode="single-row", key=table_key,
                         height=260, column_config=num_config(shown[cols], rank=small, n_buildings=small,
                                                              street_m=st.column_config.NumberColumn(
                                                                  format="%.0f", width="small")))
            if zoomed is not None:
                st.caption(t("zoomed_to", lang, label=str(gap_labels(zoomed, lang).iloc[0])))
            else:
                st.caption(t("gap_hint", lang))
        else:
            st.info(t("no_gaps", lang))
        if n_other and scope != ui.ALL_SUBDISTRICTS:
            st.caption(t("gaps_other", lang, n=n_other))
        if n_outside:
            st.caption(t("gaps_outside", lang, n=n_outside))
        if result.warnings:
            with st.expander(t("warnings", lang, n=len(result.warnings))):
                for w in result.warnings:
                    st.write("• " + w.text(lang))
    sub = ui.in_scope(result.subdistricts, scope)
    st.markdown(f"**{t('sub_table_title', lang, category=label(cat, lang), threshold=thr, minutes=thr / speed)}**")
    weighting = result.params.get("demand_weighting") or {}
    if weighting.get("label"):  # which demand weighting the table counts (also plain counts)
        st.caption(t("labelled", lang, label=column_label("weighting", lang),
                     text=weighting["label" if lang == "zh" else "label_en"]))
    cur = sub[sub["category"] == cat].drop(columns=["category", "threshold_m", "threshold_min", "weighting"],
                                           errors="ignore")  # in the title and the caption
    st.dataframe(sub_table(cur), hide_index=True, key="sub_table", column_config=num_config(cur))
    with st.expander(t("all_categories", lang)):
        st.dataframe(sub_table(sub), hide_index=True, column_config=num_config(sub))


def green_view() -> None:
    assert area is not None  # the page stops before the views when no area opened
    if result.green is None or not len(result.green):
        st.info(t("no_green", lang))
        return
    st.caption(t("green_caption", lang))
    g = ui.in_scope(result.green, scope)
    cols = st.columns(max(1, len(g)))
    for col, row in zip(cols, g.to_dict("records")):
        v = row.get("share_served")
        col.metric(t("green_metric", lang, name=row["subdistrict"]), "—" if pd.isna(v) else f"{v:.1%}",
                   help=t("green_metric_help", lang, n=row.get("buildings", 0)))
    m = webmap.green_map(parks=result.green_parks, buildings=result.buildings,
                         park_dist_m=ui.green_park_distance(dist), boundaries=area.boundaries,
                         context=area.context, lang=lang, assets=assets, online_tiles=online_tiles, store=store)
    st_folium(m, render=False, key="green_map", height=560, use_container_width=True, returned_objects=[])
    st.dataframe(sub_table(g), hide_index=True, column_config=num_config(g))


def provider_choice():
    """Optional online geocoding (Tianditu / Amap): the provider and its key (password field); None without a key."""
    with st.expander(t("provider", lang)):
        name = st.selectbox(t("provider", lang), ["", *PROVIDERS], key="provider", label_visibility="collapsed",
                            format_func=lambda k: t("provider_none", lang) if not k else provider_label(k, lang))
        key = st.text_input(t("provider_key", lang, env=KEY_ENV.get(name, "LIFECIRCLE_…_KEY")), type="password",
                            key="provider_key", disabled=not name)
        st.caption(t("provider_help", lang))
    return ui.geocoding_provider(name, key)


def material_view() -> None:
    assert area is not None  # the page stops before the views when no area opened
    provider = provider_choice()
    # --- official facility list
    st.subheader(t("official_title", lang))
    c1, c2 = st.columns([3, 2])
    with c1:
        up = st.file_uploader(t("upload_official", lang), type=list(ui.TABLE_TYPES), key="up_official",
                              max_upload_size=ui.MAX_UPLOAD_MB)
    with c2:
        datum = choice(st.selectbox, t("datum", lang), list(DATUMS), "datum",
                       lambda k, lg: DATUMS[k][0 if lg == "zh" else 1], lang)
    if up is not None and st.button(t("add_official", lang), key="add_official"):
        try:
            path = ui.keep_upload(up, ui.TABLE_TYPES, area_id)  # kept in the workspace: the study can read it again
            tab = ui.read_official(path, datum, provider, lang=lang)
            layer_datum = datum
            if tab.attrs.get("located_by_address"):  # rows placed by address: the study reads the located copy
                path, layer_datum = ui.keep_located(tab, path, area_id), "wgs84"
            layer = FacilityLayer.of_file("table", path, datum=layer_datum, name=up.name)
            again = layer.digest in layers
            layers[layer.digest] = layer  # the same file twice is one layer
            unlocated = tab.attrs.get("unlocated")
            if unlocated is not None and len(unlocated):
                st.session_state.setdefault("unlocated", {})[layer.digest] = unlocated
            flash("success", t("official_again" if again else "official_added", lang, n=len(tab), name=up.name))
            for w in [tab.attrs.get("provider_error"), *tab.attrs.get("warnings", [])]:
                if w:
                    flash("warning", w.text(lang))
            st.rerun()
        except LifecircleError as exc:
            show_error(exc)
    if layers:
        st.write(t("own_layers", lang))
        counts = {x.get("digest"): x.get("features") for x in run.params.get("facility_layers", [])}
        for k, v in list(layers.items()):
            a, b = st.columns([4, 1])
            a.write(f"• {v.describe(lang)} — {counts.get(k, '?')}")
            if b.button(t("remove", lang), key=f"rm_{k}"):
                layers.pop(k)
                st.rerun()
            missing = st.session_state.get("unlocated", {}).get(k)
            if missing is not None and len(missing):  # rows with no coordinates: what is missing and why
                with a.expander(t("unlocated", lang, n=len(missing))):
                    st.dataframe(localize_columns(missing, lang), hide_index=True)
        merged = int(run.params.get("facilities_merged", 0))
        if merged:
            st.caption(t("merged_note", lang, n=merged))

    # --- policy texts
    st.subheader(t("texts_title", lang))
    ups = st.file_uploader(t("upload_texts", lang), type=list(ui.TEXT_TYPES), accept_multiple_files=True,
                           key="up_texts", max_upload_size=ui.MAX_UPLOAD_MB)
    if ups and st.button(t("extract", lang), key="extract"):
        try:  # each text succeeds or fails on its own: the good ones are used, each bad one is one line
            with ui.temp_dir("upload") as folder:
                paths, problems = ui.save_uploads(ups, ui.TEXT_TYPES, folder)
                with st.spinner(t("extracting", lang)):
                    got, problems = ui.extract_and_geocode(paths, area, ui.area_stamp(area_path), provider, problems)
            if got is not None:
                geocoded[area_id] = got
                if problems:
                    st.warning(t("texts_failed", lang, n=len(problems)))
            for problem in problems:
                show_error(problem)
        except LifecircleError as exc:
            show_error(exc)
    geo_df = geocoded.get(area_id)
    if geo_df is None:
        return
    if geo_df.attrs.get("provider_error"):  # no internet, key refused, quota: one line, never "not found"
        st.warning(geo_df.attrs["provider_error"].text(lang))
    corr_path = ui.corrections_path(area_id)
    geo_df = ui.reapply_corrections(geo_df, corr_path)
    st.caption(t("match_counts", lang, counts=", ".join(f"{match_label(str(k), lang)}: {v}" for k, v in
                                                         geo_df["match_status"].value_counts().items())))
    st.markdown(t("correct_hint", lang, path=str(corr_path)))
    cols = [c for c in ("mention_key", "name", "category", "status", "match_status", "match_score", "osm_name",
                        "provider", "lon", "lat", "sentence") if c in geo_df]
    cc = st.column_config
    edited = st.data_editor(
        geo_df[cols], hide_index=True, key="editor", disabled=["mention_key", "match_status", "match_score",
                                                              "osm_name", "provider", "sentence"],
        column_config={  # headers and choices in the UI language; the values stay taxonomy keys
            "mention_key": None,  # internal key, kept in the returned table for the corrections file
            "name": cc.TextColumn(column_label("name", lang)),
            "category": cc.SelectboxColumn(column_label("category", lang), options=list(CATEGORY_KEYS),
                                           format_func=lambda k: label(str(k), lang)),
            "status": cc.SelectboxColumn(column_label("status", lang), options=list(STATUSES),
                                         format_func=lambda k: label(str(k), lang)),
            "match_status": cc.SelectboxColumn(column_label("match_status", lang), options=list(MATCH_STATUSES),
                                               format_func=lambda k: match_label(str(k), lang)),
            "match_score": cc.NumberColumn(column_label("match_score", lang), format="%.0f"),
            "osm_name": cc.TextColumn(column_label("osm_name", lang)),
            "provider": cc.TextColumn(column_label("provider", lang)),
            "lon": cc.NumberColumn(column_label("lon", lang), format="%.6f"),
            "lat": cc.NumberColumn(column_label("lat", lang), format="%.6f"),
            "sentence": cc.TextColumn(column_label("sentence", lang), width="large"),
        })
    # place by clicking the map
    keys = list(geo_df["mention_key"])
    unmatched = [k for k, s in zip(keys, geo_df["match_status"]) if s not in ("matched", "manual")]
    pick = st.selectbox(t("place_on_map", lang), [""] + unmatched, key="place_key",
                        format_func=lambda k: "—" if not k else
                        f"{geo_df.loc[geo_df['mention_key'] == k, 'name'].iloc[0]} ({k})")
    mm = webmap.base_map(webmap.wgs84_bounds(area.boundaries), assets=assets, lang=lang)
    webmap.add_context(mm, area.context, lang=lang, store=store)
    webmap.add_boundaries(mm, area.boundaries, lang=lang, store=store)
    webmap.add_facilities(mm, facilities, lang=lang, store=store)
    clicked = st_folium(mm, render=False, key="click_map", height=420, use_container_width=True,
                        returned_objects=["last_clicked"])
    pt = (clicked or {}).get("last_clicked")
    if pt:
        st.caption(t("clicked", lang, lon=pt["lng"], lat=pt["lat"]))
    if st.button(t("save_corrections", lang), key="save_corr"):
        try:
            n = ui.save_corrections(corr_path, geo_df, edited, pick, pt)
            flash("success", t("corrections_saved", lang, n=n, path=str(corr_path)))
            st.rerun()
        except LifecircleError as exc:
            show_error(exc)
    fac = ui.geocoded_facilities(geo_df)
    if st.button(t("use_text_facilities", lang, n=len(fac)), key="use_text", disabled=not len(fac)):
        # the mention table is kept in the workspace and read with the corrections file at every run,
        # so a correction saved later changes the result too
        path = ui.keep_geocoded(geocoded[area_id], area_id)
        layer = FacilityLayer.of_file("texts", path, corrections=str(corr_path), name=t("texts_layer", lang))
        for k in [k for k, v in layers.items() if v.kind == "texts"]:
            layers.pop(k)
        layers[layer.digest] = layer
        st.rerun()


def plan_view() -> None:
    """规划方案: proposals for the texts' planned facilities, accept / move / drop, before and after side by side."""
    st.caption(t("plan_caption", lang, path=str(ui.workspace(area_id).root)))
    mentions = ui.plan_mentions(study, geocoded.get(area_id), area_id)
    if mentions is None:
        st.info(t("plan_no_texts", lang))
    elif st.button(t("plan_make", lang), key="plan_make"):
        try:
            with st.spinner(t("computing", lang)):
                res = ui.make_proposals(study, mentions, area_id)
            r = res.requests
            flash("success", t("plan_made", lang, n=len(r), sites=len(res.proposals),
                               outside=int((r["outcome"] == "outside").sum())))
            st.rerun()
        except LifecircleError as exc:
            show_error(exc)
    try:
        with st.spinner(t("computing", lang)):
            before, after = ui.run(study.replace(include_planned=False)), ui.run(study.replace(include_planned=True))
    except LifecircleError as exc:
        show_error(exc)
        return
    st.markdown(f"**{t('plan_shares', lang, category=label(cat, lang))}**")
    st.caption(t("plan_after_rule", lang, states=ui.after_rule_label(lang)))
    for row in ui.plan_shares(before, after, cat).to_dict("records"):
        a, b = st.columns(2)
        before_pct, after_pct = ("—" if pd.isna(v) else f"{v:.1%}" for v in (row["share_before"], row["share_after"]))
        a.metric(t("plan_before_metric", lang, name=row["subdistrict"]), before_pct)
        b.metric(t("plan_after_metric", lang, name=row["subdistrict"]), after_pct,
                 delta=None if pd.isna(row["gain"]) else f"{row['gain'] * 100:+.1f}")
    props = ui.proposals(area_id)
    here = area
    if here is None:
        return
    left, right = st.columns([3, 2])
    with left:
        mm = webmap.base_map(webmap.wgs84_bounds(here.boundaries), assets=assets, lang=lang)
        webmap.add_context(mm, here.context, lang=lang, store=store)
        webmap.add_boundaries(mm, here.boundaries, lang=lang, store=store)
        webmap.add_facilities(mm, after.facilities[after.facilities["source"] != "siting"], categories=[cat],
                              lang=lang, store=store)
        webmap.add_proposals(mm, props, lang=lang)
        clicked = st_folium(mm, render=False, key="plan_map", height=520, use_container_width=True,
                            returned_objects=["last_clicked"])
        pt = (clicked or {}).get("last_clicked")
        st.caption(t("clicked", lang, lon=pt["lng"], lat=pt["lat"]) if pt else t("plan_click_hint", lang))
    with right:
        st.markdown(f"**{t('plan_proposals', lang)}**")
        if props is None or not len(props):
            st.info(t("plan_no_proposals", lang))
        else:
            from geo.plan import PROPOSAL_STATES

            shown = pd.DataFrame({"n": range(1, len(props) + 1),
                                  "category": [label(c, lang) for c in props["category"]],
                                  "mention_name": props["mention_name"].fillna(""),
                                  "rank": props["rank"], "buildings_newly_covered": props["buildings_newly_covered"],
                                  "state": [PROPOSAL_STATES[s][lang != "zh"] for s in props["state"]]})
            st.dataframe(localize_columns(shown, lang), hide_index=True, key="plan_table", height=240)
            ids = [str(x) for x in props["proposal_id"]]
            names = [f"#{i + 1} {m or c}" for i, (m, c) in enumerate(zip(shown["mention_name"], shown["category"]))]
            pick = names.index(st.selectbox(t("plan_pick", lang), names, key="plan_pick") or names[0])
            c1, c2, c3, c4 = st.columns(4)
            choice = None
            if c1.button(t("plan_accept", lang), key="plan_accept"):
                choice = ("accepted", None)
            if c2.button(t("plan_drop", lang), key="plan_drop"):
                choice = ("dropped", None)
            if c3.button(t("plan_move", lang), key="plan_move", disabled=not pt):
                choice = ("moved", pt)
            if c4.button(t("plan_reset", lang), key="plan_reset"):
                choice = ("proposed", None)
            if choice is not None:
                state_key, where = choice
                try:
                    ui.decide(area_id, ids[pick], state_key, lon=where["lng"] if where else None,
                              lat=where["lat"] if where else None)
                    flash("success", t("plan_saved", lang, what=f"#{pick + 1} {PROPOSAL_STATES[state_key][lang != 'zh']}",
                                       path=str(ui.workspace(area_id).proposal_states)))
                    st.rerun()
                except LifecircleError as exc:
                    show_error(exc)
        if here.boundaries is not None and st.button(t("plan_close_gap", lang), key="plan_close_gap"):
            with st.spinner(t("computing", lang)):
                ref = ui.close_gap(after, here.boundaries, cat)
            for r in ref.to_dict("records"):
                st.write(t("plan_close_gap_result", lang, name=r["subdistrict"], n=r["lscp_sites"],
                           category=label(cat, lang), threshold=thr))


def open_study(name: str) -> None:
    """Callback: load a saved study into the widgets' state before they are drawn."""
    try:
        saved = Study.load(ui.workspace(area_id).study_path(name))
    except LifecircleError as exc:
        flash("error", exc.message(lang))
        return
    state["thresholds"] = {c: saved.threshold(c) for c in CATEGORY_KEYS}
    state["thresholds_version"] = state.get("thresholds_version", 0) + 1  # a fresh table shows the loaded values
    state["profile"] = saved.profile
    if saved.speed_m_per_min:
        speeds[saved.profile] = float(saved.speed_m_per_min)
    state.pop(f"speed_{saved.profile}", None)
    state["include_planned"] = saved.include_planned
    layers.clear()
    layers.update({x.digest or x.path: x for x in saved.layers if x.kind != "area"})
    state["study_name"] = saved.name or name
    flash("success", t("study_opened", lang, name=name))


def study_box() -> None:
    """Save the study on screen, or open a saved one (the planner's workspace, which prepare never touches)."""
    ws = ui.workspace(area_id)
    st.markdown(f"**{t('study_title', lang)}**")
    a, b = st.columns(2)
    with a:
        name = st.text_input(t("study_name", lang), value=state.get("study_name") or "study", key="study_name_input")
        if st.button(t("save_study", lang), key="save_study"):
            try:
                path = study.replace(name=name).save(ws.study_path(name))
                state["study_name"] = name
                st.success(t("study_saved", lang, path=str(path)))
            except LifecircleError as exc:
                show_error(exc)
    with b:
        saved = ws.list_studies()
        pick = st.selectbox(t("saved_studies", lang), saved, key="pick_study", disabled=not saved)
        st.button(t("open_study", lang), key="open_study", disabled=not saved, on_click=open_study, args=(pick,))


def export_view() -> None:
    st.caption(t("export_caption", lang))
    st.caption(t("export_scenario", lang, scenario=study.scenario_label(lang),
                 layers="; ".join(x.get("label", "") for x in run.params.get("facility_layers", []))))
    outputs = run.outputs()
    outputs.plan = ui.plan_outputs(study, area_id)  # 规划前后对比 and 建议选址, as `lifecircle plan --report` writes them
    name = f"lifecircle_{area_id}_{cat}"
    for kind, mime in (("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                       ("csv", "application/zip"), ("gpkg", "application/geopackage+sqlite3"),
                       ("geojson", "application/geo+json"), ("pdf", "application/pdf")):
        st.download_button(t(f"export_{kind}", lang), data=ui.exporter(outputs, kind, lang),
                           file_name=f"{name}.{ 'zip' if kind == 'csv' else kind}", mime=mime,
                           key=f"dl_{kind}", on_click="ignore")
    study_box()


VIEW_FUNCTIONS = {"map": map_view, "green": green_view, "material": material_view, "plan": plan_view,
                  "area": area_view, "export": export_view}
with ui.guard(t(f"view_{view}", lang), lang):  # a bug in a view: one line and the log file, the page stays usable
    VIEW_FUNCTIONS[view]()
st.caption(t("footer", lang, seconds=time.perf_counter() - T0))
