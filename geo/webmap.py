"""Folium maps of walking coverage, with local Leaflet assets and an OSM context background.

Pure functions: data in, :class:`folium.Map` out. Nothing here reads files
except :func:`install_assets`, which copies Leaflet (from the installed
``xstatic-leaflet`` package) into the app's ``static/`` folder so the map
renders with no internet.

Large layers are drawn as ONE GeoJSON layer each (:class:`FastGeoJson`), with
colours and tooltip values as per-feature arrays, never as thousands of
markers; coordinates are rounded to 1e-6 degrees (~0.1 m). Every vector layer
of a map is drawn on ONE shared Leaflet canvas (9,000 streets and buildings as
SVG nodes made the browser slow; one canvas per pane would block the tooltips
of the layers below), kept in z order, with one tooltip per layer.

The coverage map comes in two parts (:func:`coverage_base`,
:func:`coverage_overlay`): the shapes, which never change for an area, and a
small feature group with their colours, the gaps, facilities and legends for
one category/threshold/speed. The app hands the overlay to streamlit-folium
separately, so a parameter change recolours the map in place (view kept).

Assets
------
``assets`` selects where the browser gets Leaflet from:

- ``"inline"``: embedded as ``data:`` URIs (standalone HTML, notebooks; offline);
- a URL prefix such as ``"/app/static/leaflet"``: served locally by Streamlit
  (``server.enableStaticServing``, files copied by :func:`install_assets`);
- ``"cdn"``: folium's defaults (needs internet).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from jinja2 import Template
from matplotlib import colormaps
from matplotlib.colors import to_hex

from .categories import CATEGORY_KEYS, PARK_CLASSES, SOURCES, label
from .green import park_classes
from .i18n import column_label, t
from .io import WGS84

__all__ = [
    "OSM_ATTRIBUTION",
    "leaflet_source_dir",
    "install_assets",
    "distance_bins",
    "distance_colors",
    "geometry_json",
    "FastGeoJson",
    "base_map",
    "add_context",
    "add_boundaries",
    "add_streets",
    "add_buildings",
    "add_facilities",
    "add_gaps",
    "add_legend",
    "coverage_map",
    "coverage_base",
    "coverage_overlay",
    "street_style",
    "building_style",
    "green_map",
    "wgs84_bounds",
    "CATEGORY_COLORS",
]

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
LEAFLET_FILES = ("leaflet.js", "leaflet.css")
UNREACHABLE_COLOR = "#9e9e9e"

# one colour per category (tab10 + one), stable order of the taxonomy table
_TAB = [to_hex(c) for c in colormaps["tab10"](np.arange(10))] + ["#17becf"]
CATEGORY_COLORS: dict[str, str] = {k: _TAB[i % len(_TAB)] for i, k in enumerate(CATEGORY_KEYS)}
SOURCE_STROKE: dict[str, str] = {"osm": "#444444", "official": "#000000", "text": "#1565c0", "manual": "#d81b60",
                                 "siting": "#6a1b9a"}


# --------------------------------------------------------------------------- assets
def leaflet_source_dir() -> Path:
    """Folder of the installed Leaflet distribution (``xstatic-leaflet``)."""
    import xstatic.pkg.leaflet as xl  # installed as a dependency of lifecircle

    return Path(xl.BASE_DIR)


def install_assets(static_dir: str | Path) -> Path:
    """Copy Leaflet's JS, CSS and images into ``static_dir/leaflet`` (idempotent).

    Parameters
    ----------
    static_dir : path
        The app's static folder (``static/`` beside ``app.py``).

    Returns
    -------
    Path
        The ``leaflet`` folder written.
    """
    src = leaflet_source_dir()
    dst = Path(static_dir) / "leaflet"
    (dst / "images").mkdir(parents=True, exist_ok=True)
    for name in LEAFLET_FILES:
        s, d = src / name, dst / name
        if not d.exists() or d.stat().st_size != s.stat().st_size:
            shutil.copyfile(s, d)
    for s in (src / "images").glob("*.png"):
        d = dst / "images" / s.name
        if not d.exists():
            shutil.copyfile(s, d)
    return dst


@lru_cache(maxsize=1)
def _inline_urls() -> tuple[str, str]:
    src = leaflet_source_dir()
    js = base64.b64encode((src / "leaflet.js").read_bytes()).decode()
    css = base64.b64encode((src / "leaflet.css").read_bytes()).decode()
    return f"data:text/javascript;base64,{js}", f"data:text/css;base64,{css}"


def _set_assets(m: folium.Map, assets: str) -> None:
    """Point the map at Leaflet only (no jQuery/Bootstrap/FontAwesome: CircleMarkers need none)."""
    if assets == "cdn":
        return
    if assets == "inline":
        js, css = _inline_urls()
    else:
        base = assets.rstrip("/")
        js, css = f"{base}/leaflet.js", f"{base}/leaflet.css"
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]


# --------------------------------------------------------------------------- colours
def distance_bins(threshold_m: float) -> np.ndarray:
    """Bin edges in metres: quarters up to the threshold, then 1.5x, 2x and beyond."""
    t = float(threshold_m)
    return np.array([0.0, 0.25 * t, 0.5 * t, 0.75 * t, t, 1.5 * t, 2.0 * t, np.inf])


def _bin_colors() -> list[str]:
    cmap = colormaps["plasma"]
    return [to_hex(cmap(x)) for x in np.linspace(0.0, 0.85, 7)]


def distance_colors(dist_m: Iterable[float], threshold_m: float) -> np.ndarray:
    """Sequential colour (hex) per distance; NaN (unreachable) is grey."""
    d = np.asarray(list(dist_m) if not isinstance(dist_m, (np.ndarray, pd.Series)) else dist_m, float)
    edges = distance_bins(threshold_m)
    colors = np.array(_bin_colors() + [UNREACHABLE_COLOR], dtype=object)
    idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, 6)
    idx = np.where(np.isfinite(d), idx, 7)
    return colors[idx]


def _fmt_m(x: float) -> str:
    return f"{x:,.0f}"


def _fmt_min(x: float) -> str:
    """Minutes with one decimal (6.9), as in the app's tables and captions; 0 stays 0."""
    return "0" if x == 0 else f"{x:.1f}"


def legend_rows(threshold_m: float, speed_m_per_min: float, lang: str = "zh") -> list[tuple[str, str]]:
    """(colour, label) pairs of the distance legend, in metres AND minutes."""
    edges = distance_bins(threshold_m)
    cols = _bin_colors()
    rows = []
    for i in range(7):
        a, b = edges[i], edges[i + 1]
        if np.isfinite(b):
            text = f"{_fmt_m(a)}–{_fmt_m(b)} m · {_fmt_min(a / speed_m_per_min)}–{_fmt_min(b / speed_m_per_min)} min"
        else:
            text = f"> {_fmt_m(a)} m · > {_fmt_min(a / speed_m_per_min)} min"
        rows.append((cols[i], text))
    rows.append((UNREACHABLE_COLOR, column_label("unreachable", lang)))
    return rows


# --------------------------------------------------------------------------- GeoJSON
def geometry_json(geoms, *, ndigits: int = 6) -> str:
    """A GeoJSON FeatureCollection string of ``geoms`` (WGS-84) with ``properties.i`` = row position.

    Serialised by GEOS in one vectorised call; coordinates rounded to
    ``ndigits`` decimals; empty geometries become ``null`` so positions stay
    aligned with per-feature style arrays.
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    arr = arr.copy()
    arr[shapely.is_empty(arr) | pd.isna(arr)] = None
    arr = _round_coords(arr, ndigits)
    parts = shapely.to_geojson(arr)
    feats = [f'{{"type":"Feature","properties":{{"i":{i}}},"geometry":{g if g is not None else "null"}}}'
             for i, g in enumerate(parts)]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def _round_coords(geom: np.ndarray, ndigits: int) -> np.ndarray:
    return shapely.transform(geom, lambda xy: np.round(xy, ndigits))


@lru_cache(maxsize=64)
def _is_wgs84_srs(srs: str) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(srs).to_epsg() == 4326


def _is_wgs84(crs) -> bool:
    """True for EPSG:4326 (memoised on the CRS text: ``to_epsg`` costs milliseconds per call)."""
    return crs is None or _is_wgs84_srs(crs.srs or crs.to_wkt())


def _wgs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf if _is_wgs84(gdf.crs) else gdf.to_crs(WGS84)


def _jsonable(values) -> list:
    """Plain JSON values of a column: NaN/NA -> None, numpy scalars -> Python (vectorised for numbers)."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    if isinstance(values, pd.api.extensions.ExtensionArray):
        # pandas takes any na_value (documented "Any"); pandas-stubs leave None out
        values = values.to_numpy(dtype=object, na_value=None)  # type: ignore[arg-type]
    arr = values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object)
    kind = arr.dtype.kind
    if kind == "f":
        out = arr.astype(object)
        out[~np.isfinite(arr)] = None
        return out.tolist()
    if kind in "iubUS":
        return arr.tolist()
    out = arr.astype(object)
    out[pd.isna(out)] = None
    lst = out.tolist()
    for i, v in enumerate(lst):
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if isinstance(v, (float, np.floating)):
            lst[i] = float(v) if np.isfinite(v) else None
        elif isinstance(v, (np.integer, np.bool_)):
            lst[i] = v.item()
        elif not isinstance(v, (str, int, bool)):
            lst[i] = str(v)
    return lst


class FastGeoJson(folium.map.Layer):
    """One Leaflet GeoJSON layer whose style and tooltip come from per-feature arrays.

    Geometry is a pre-serialised FeatureCollection (:func:`geometry_json`,
    cacheable across reruns); ``styles`` maps a Leaflet path option to a list
    (one value per feature, ``None`` = ``base_style``) and ``props`` maps a
    tooltip field to a list. No per-feature Python style function runs, so a
    layer of 10 000 streets renders in milliseconds.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
          var S = {{ this.styles|tojson }}, P = {{ this.props|tojson }};
          var F = {{ this.fields|tojson }}, A = {{ this.aliases|tojson }}, base = {{ this.base_style|tojson }};
          function esc(v) { return String(v).replace(/[&<>"]/g, function (c) {
            return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
          var map = {{ this.map_name }}, pane = {{ this.pane|tojson }}, z = {{ this.z_index }};
          var keep = {{ this._parent.get_name() }} === map;  // on the map itself, not in a feature group
          if (pane && !map.getPane(pane)) { map.createPane(pane).style.zIndex = z; }
          // ONE canvas for every vector layer of the map: stacked canvases (one per pane) would each
          // swallow the mouse, so only the top one could show tooltips. Draw order = z (map._lcOrder).
          if (!map._lcCanvas) {
            map._lcCanvas = L.canvas({padding: 0.5, tolerance: 2});
            map._lcLayers = [];
            map._lcReg = {};
            map.on("overlayadd", function () { map._lcOrder(); });
            map._lcOrder = function () {
              map._lcLayers = map._lcLayers.filter(function (e) { return e[2] || map.hasLayer(e[1]); });
              map._lcLayers.slice().sort(function (a, b) { return a[0] - b[0]; })
                .forEach(function (e) { if (map.hasLayer(e[1])) { e[1].bringToFront(); } });
            };
          }
          function style(f) {
            var i = f.properties.i, s = Object.assign({}, base);
            for (var k in S) { if (S[k][i] !== null) s[k] = S[k][i]; }
            return s;
          }
          var layer = L.geoJson(null, {
            pane: pane || "overlayPane",
            renderer: map._lcCanvas,
            interactive: {{ this.interactive|tojson }},
            style: style,
            pointToLayer: function (f, ll) {
              var s = Object.assign({radius: {{ this.radius }}, pane: pane || "overlayPane",
                                     renderer: map._lcCanvas}, style(f));
              return L.circleMarker(ll, s);
            },
          });
          function tip(l) {  // ONE tooltip for the whole layer (not one per feature): the hovered feature fills it
            var i = l.feature ? l.feature.properties.i : -1, h = [];
            if (i < 0) return "";
            for (var j = 0; j < F.length; j++) {
              var v = P[F[j]][i];
              if (v === null || v === undefined || v === "") continue;
              h.push("<b>" + esc(A[j]) + "</b> " + esc(v));
            }
            return h.join("<br>");
          }
          function tips() {
            if (F.length && !layer.getTooltip()) { layer.bindTooltip(tip, {sticky: true}); }
            else if (!F.length && layer.getTooltip()) { layer.unbindTooltip(); }
          }
          tips();
          var ready = false;
          {% if this.live_key %}
          // colours and tooltip values arrive later, from a LiveStyle element (geometry stays in place)
          map._lcReg[{{ this.live_key|tojson }}] = function (S2, P2, F2, A2) {  // (tojson sorts object keys)
            S = S2; P = P2; F = F2; A = A2.length ? A2 : F2;
            tips();
            if (ready) { layer.setStyle(style); }
          };
          {% endif %}
          // map._lcPending counts layers whose data is still on its way; data-lc-loaded on the map's
          // container is "1" when none is (what the browser test waits for before timing the drawing)
          map._lcLayers.push([z, layer, keep]);
          map._lcPending = (map._lcPending || 0) + 1;
          map.getContainer().setAttribute("data-lc-loaded", "0");
          function loaded() {
            ready = true;
            map._lcPending -= 1;
            if (map._lcPending === 0) {
              map._lcOrder();  // data arrives in any order: restore the layer order once
              map.getContainer().setAttribute("data-lc-loaded", "1");
            }
          }
          {% if this.data_url %}
          fetch({{ this.data_url|tojson }}).then(function (r) { return r.json(); })
            .then(function (d) { layer.addData(d); }).finally(loaded);
          {% else %}
          layer.addData({{ this.data_js }});
          loaded();
          {% endif %}
          return layer;
        })();
        {% endmacro %}"""
    )

    def __init__(self, data_json: str, *, name: str, base_style: dict, styles: Mapping[str, Iterable] | None = None,
                 props: Mapping[str, Iterable] | None = None, aliases: Iterable[str] = (), radius: float = 6,
                 interactive: bool = True, show: bool = True, control: bool = True, pane: str | None = None,
                 z_index: int = 400, store: Callable[[str], str] | None = None, live_key: str | None = None):
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "FastGeoJson"
        self.live_key = live_key
        self.data_url = store(data_json) if store is not None else None
        self.data_js = "" if self.data_url else data_json.replace("</", "<\\/")  # never close <script> early
        self.pane = pane
        self.z_index = int(z_index)
        self.base_style = base_style
        self.styles = {k: _jsonable(v) for k, v in (styles or {}).items()}
        self.props = {k: _jsonable(v) for k, v in (props or {}).items()}
        self.fields = list(self.props)
        self.aliases = list(aliases) or self.fields
        self.radius = float(radius)
        self.interactive = bool(interactive)

    @property
    def map_name(self) -> str:
        """JS name of the map this layer is drawn on (its parent may be a feature group)."""
        return _map_name(self)

    # folium's Layer.render (like branca's MacroElement.render) returns nothing; only branca's
    # annotated base Element.render is typed as returning the HTML
    def render(self, **kwargs) -> None:  # type: ignore[override]
        """Like :meth:`folium.map.Layer.render`, but the (large) script is not compiled as a template.

        branca wraps every rendered script in ``Element(text)``, which makes
        jinja compile the whole GeoJSON as a template (~0.1 s per MB); the
        script is added verbatim instead.
        """
        if self.show and self._parent is not None:
            self.add_child(_AddTo(element_name=self.get_name(), element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        figure = cast(Figure, self.get_root())
        figure.script.add_child(_RawScript(self._template.module.script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


def _map_name(element) -> str:
    """JS name of the :class:`folium.Map` above ``element``; ``window.map`` (streamlit-folium) if none yet."""
    p = getattr(element, "_parent", None)
    while p is not None and not isinstance(p, folium.Map):
        p = getattr(p, "_parent", None)
    return p.get_name() if p is not None else "window.map"


class _RawScript(Element):
    """A rendered script kept as text (no template compilation)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _RawMacro(MacroElement):
    """A MacroElement whose rendered header/html/script go into the page verbatim.

    branca wraps each rendered part in ``Element(text)``, which compiles it as a
    jinja template (~1-2 ms each, twice per map and rerun); these parts are
    plain text already.
    """

    def render(self, **kwargs) -> None:  # type: ignore[override]  # as branca's MacroElement.render: nothing
        figure = cast(Figure, self.get_root())
        parts = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            fn = parts.get(part)
            if fn is not None:
                target.add_child(_RawScript(fn(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _AddTo(_RawMacro, ElementAddToElement):
    """``<layer>.addTo(<map>)`` without template compilation (see :class:`_RawMacro`)."""


# --------------------------------------------------------------------------- elements
class _Attribution(_RawMacro):
    """Adds a text to the map's attribution control (shown even without tiles)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = text


class _Legend(_RawMacro):
    """A Leaflet control with a title and colour swatches (HTML escaped by the template).

    Clicking the title folds the rows away (the legend must not hide the map on
    a small screen).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
          var legend = L.control({position: {{ this.position|tojson }}});
          legend.onAdd = function () {
            var div = L.DomUtil.create('div', 'lifecircle-legend');
            div.style.cssText = 'background:rgba(255,255,255,.92);padding:5px 8px;font:11px/1.4 sans-serif;'
              + 'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:320px';
            var head = document.createElement('b');
            head.textContent = {{ this.title|tojson }} + ' \u25BE';
            head.style.cursor = 'pointer';
            head.title = {{ this.fold_hint|tojson }};
            var body = document.createElement('div');
            var rows = {{ this.rows|tojson }};
            for (var i = 0; i < rows.length; i++) {
              var r = rows[i], line = document.createElement('div'), sw = document.createElement('span');
              sw.style.cssText = r[2] === 'dot'
                ? 'display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:-1px;background:'
                  + r[0] + ';border:' + (r[4] ? '2px dashed ' : (r[3] ? '2px solid ' : '1px solid ')) + (r[3] || '#333')
                : 'display:inline-block;width:18px;height:4px;margin:0 6px 3px 0;vertical-align:middle;background:' + r[0];
              line.appendChild(sw);
              line.appendChild(document.createTextNode(r[1]));
              body.appendChild(line);
            }
            head.onclick = function () {
              var open = body.style.display !== 'none';
              body.style.display = open ? 'none' : '';
              head.textContent = {{ this.title|tojson }} + (open ? ' \u25B8' : ' \u25BE');
            };
            div.appendChild(head);
            div.appendChild(body);
            L.DomEvent.disableClickPropagation(div);
            return div;
          };
          var owner = {{ this._parent.get_name() }};
          if (owner instanceof L.Map) { legend.addTo(owner); }
          else {  // in a feature group (the app's per-category overlay): shown while the group is
            owner.on("add", function () { legend.addTo(owner._map); });
            owner.on("remove", function () { legend.remove(); });
          }
        })();
        {% endmacro %}"""
    )

    def __init__(self, title: str, rows: list[tuple], *, kind: str = "line", position: str = "bottomright",
                 lang: str = "zh"):
        """``rows``: ``(colour, text)`` or, for dots, ``(fill, text, outline_colour, dashed)``."""
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.rows = [[r[0], r[1], kind, r[2] if len(r) > 2 else None, bool(r[3]) if len(r) > 3 else False]
                     for r in rows]
        self.position = position
        self.fold_hint = t("map_legend_fold", lang)


class _LiveStyle(_RawMacro):
    """Colours and tooltip values for a geometry layer drawn earlier with ``live_key`` (see :class:`FastGeoJson`).

    In a feature group it applies when the group is added to the map: the app
    swaps one small group per category/threshold/speed while the 9,000 street
    and building shapes stay on the map (no reload, the view is kept).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
          var owner = {{ this._parent.get_name() }}, key = {{ this.key|tojson }};
          var S = {{ this.styles|tojson }}, P = {{ this.props|tojson }};
          var F = {{ this.fields|tojson }}, A = {{ this.aliases|tojson }};
          function apply(m) { var f = m && m._lcReg && m._lcReg[key]; if (f) { f(S, P, F, A); } }
          if (owner instanceof L.Map) { apply(owner); }
          else { owner.on("add", function () { apply(owner._map); }); }
        })();
        {% endmacro %}"""
    )

    def __init__(self, key: str, styles: Mapping[str, Iterable], props: Mapping[str, Iterable],
                 aliases: Iterable[str] = ()):
        super().__init__()
        self._name = "LiveStyle"
        self.key = key
        self.styles = {k: _jsonable(v) for k, v in styles.items()}
        self.props = {k: _jsonable(v) for k, v in props.items()}
        self.fields = list(self.props)  # the tooltip order (JSON objects arrive with sorted keys)
        self.aliases = list(aliases)


class _MetricScale(_RawMacro):
    """Leaflet's scale bar in metres only (no miles)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 120}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def base_map(bounds: tuple[float, float, float, float] | None = None, *, assets: str = "inline",
             online_tiles: bool = False, lang: str = "zh", height: str | int = "100%") -> folium.Map:
    """An empty map: no tiles (the area's own context layers are the background), OSM attribution.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy) in WGS-84, optional
        The map is fitted to them.
    assets : str
        ``"inline"``, ``"cdn"`` or a URL prefix of locally served Leaflet files.
    online_tiles : bool
        Also offer the OpenStreetMap tile layer (off by default, needs internet).
        Only WGS-84 tiles are ever offered: GCJ-02 tiles (Amap, Tencent) would
        be offset by hundreds of metres under WGS-84 data.
    """
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=True, height=height,
                   zoom_start=14, location=[31.23, 121.47])
    _set_assets(m, assets)
    m.add_child(_Attribution(OSM_ATTRIBUTION))
    m.add_child(_MetricScale())
    if online_tiles:
        folium.TileLayer("OpenStreetMap", name=t("map_osm_tiles", lang),
                         attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
                         show=False, overlay=False, control=True).add_to(m)
    if bounds is not None and np.all(np.isfinite(bounds)):
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
        m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    return m


_GEOM_CACHE: dict[tuple, str] = {}
_GEOM_CACHE_MAX = 48


def _geom_json(gdf: gpd.GeoDataFrame, ndigits: int = 6) -> str:
    """:func:`geometry_json` of a layer, memoised on its content (reruns reuse it, ~1 ms per 10 000 lines).

    The key hashes every coordinate, the coordinate count and type of every
    geometry and the CRS, so a changed layer (new gaps at a new threshold) is
    never served from the memo; an unchanged one is never re-projected.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    h = hashlib.sha1(shapely.get_coordinates(geoms).tobytes())
    h.update(shapely.get_num_coordinates(geoms).tobytes())
    h.update(shapely.get_type_id(geoms).tobytes())
    key = (len(geoms), str(gdf.crs), h.hexdigest(), ndigits)
    hit = _GEOM_CACHE.get(key)
    if hit is None:
        hit = geometry_json(_wgs_geoms(geoms, gdf.crs), ndigits=ndigits)
        if len(_GEOM_CACHE) >= _GEOM_CACHE_MAX:
            _GEOM_CACHE.pop(next(iter(_GEOM_CACHE)))
        _GEOM_CACHE[key] = hit
    return hit


@lru_cache(maxsize=16)
def _to_wgs84_transformer(srs: str):
    from pyproj import Transformer

    return Transformer.from_crs(srs, WGS84, always_xy=True)


def _wgs_geoms(geoms: np.ndarray, crs) -> np.ndarray:
    """Geometries in WGS-84 (the pyproj transformer is built once per CRS, not per call)."""
    if _is_wgs84(crs):
        return geoms
    tr = _to_wgs84_transformer(crs.srs or crs.to_wkt())
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _dist_texts(lang: str) -> tuple[str, str]:
    return column_label("dist_m", lang), column_label("walk_min", lang)


def add_context(m: folium.Map, context: Mapping[str, gpd.GeoDataFrame] | None, *, lang: str = "zh",
                skip: Iterable[str] = (),
        store: Callable[[str], str] | None = None) -> None:
    """Background from the area's own OSM layers: water (blue), parks (green), streets (grey)."""
    if not context:
        return
    styles = {
        "water": ({"color": "#7fb2d9", "weight": 1, "fillColor": "#aad3df", "fillOpacity": 0.8}, "map_water"),
        "parks": ({"color": "#8fbf7f", "weight": 0.5, "fillColor": "#c8e6b5", "fillOpacity": 0.7},
                  "map_green_background"),
        "streets": ({"color": "#c8c8c8", "weight": 1}, "map_streets_background"),
    }
    for key, (style, name) in styles.items():
        layer = context.get(key)
        if key in skip or layer is None or len(layer) == 0:
            continue
        FastGeoJson(_geom_json(layer), name=t(name, lang), base_style=style,
                    interactive=False, pane="lc_context", z_index=380, store=store).add_to(m)


def add_boundaries(m: folium.Map, boundaries: gpd.GeoDataFrame | None, *, lang: str = "zh",
        store: Callable[[str], str] | None = None) -> None:
    """Subdistrict outlines (no fill), with the name as tooltip."""
    if boundaries is None or len(boundaries) == 0:
        return
    fields = [c for c in ("subdistrict", "district") if c in boundaries.columns]
    FastGeoJson(_geom_json(boundaries), name=t("map_subdistricts", lang),
                base_style={"color": "#263238", "weight": 2.5, "fill": False, "dashArray": "6 4"},
                props={c: boundaries[c].astype(str).to_numpy() for c in fields},
                aliases=[column_label(c, lang) for c in fields], pane="lc_bounds", z_index=420, store=store).add_to(m)


STREET_STYLE = {"weight": 3, "opacity": 0.9, "color": UNREACHABLE_COLOR}
BUILDING_STYLE = {"color": "#555555", "weight": 0.5, "fillOpacity": 0.75, "fillColor": UNREACHABLE_COLOR}


def street_style(streets: gpd.GeoDataFrame, category: str, threshold_m: float, speed_m_per_min: float,
                 lang: str = "zh") -> tuple[dict, dict, list[str]]:
    """(styles, tooltip props, tooltip aliases) of the streets for one category, threshold and speed."""
    col = f"dist_m_{category}"
    d = streets[col].to_numpy(float) if col in streets.columns else np.full(len(streets), np.nan)
    name = streets["name"].fillna("").astype(str).to_numpy() if "name" in streets.columns else np.full(len(d), "")
    a, b = _dist_texts(lang)
    return ({"color": distance_colors(d, threshold_m)},
            {"name": name, "dist_m": np.round(d), "walk_min": np.round(d / speed_m_per_min, 1)},
            [column_label("name", lang), a, b])


def building_style(buildings: gpd.GeoDataFrame, category: str, threshold_m: float, speed_m_per_min: float,
                   lang: str = "zh") -> tuple[dict, dict, list[str]]:
    """(styles, tooltip props, tooltip aliases) of the buildings for one category, threshold and speed."""
    col = f"dist_m_{category}"
    d = buildings[col].to_numpy(float) if col in buildings.columns else np.full(len(buildings), np.nan)
    a, b = _dist_texts(lang)
    props = {"dist_m": np.round(d), "walk_min": np.round(d / speed_m_per_min, 1)}
    aliases = [a, b]
    ncol = f"nearest_{category}"
    if ncol in buildings.columns:
        props["nearest"] = buildings[ncol].astype(object).to_numpy()
        aliases.append(column_label("nearest", lang))
    return {"fillColor": distance_colors(d, threshold_m)}, props, aliases


def _street_layer(streets: gpd.GeoDataFrame, lang: str, store, **kw) -> FastGeoJson:
    return FastGeoJson(_geom_json(streets), name=t("map_streets", lang),
                       base_style=STREET_STYLE, pane="lc_streets", z_index=400, store=store, **kw)


def _building_layer(buildings: gpd.GeoDataFrame, lang: str, store, **kw) -> FastGeoJson:
    return FastGeoJson(_geom_json(buildings), name=t("map_buildings", lang),
                       base_style=BUILDING_STYLE, pane="lc_buildings", z_index=390, store=store, **kw)


def add_streets(m: folium.Map | folium.FeatureGroup, streets: gpd.GeoDataFrame | None, category: str,
                threshold_m: float, speed_m_per_min: float, *, lang: str = "zh",
                store: Callable[[str], str] | None = None) -> None:
    """Streets coloured by walking distance to the nearest facility of ``category`` (one layer)."""
    if streets is None or len(streets) == 0:
        return
    styles, props, aliases = street_style(streets, category, threshold_m, speed_m_per_min, lang)
    _street_layer(streets, lang, store, styles=styles, props=props, aliases=aliases).add_to(m)


def add_buildings(m: folium.Map | folium.FeatureGroup, buildings: gpd.GeoDataFrame | None, category: str,
                  threshold_m: float, speed_m_per_min: float, *, lang: str = "zh", show: bool = True,
                  store: Callable[[str], str] | None = None) -> None:
    """Building footprints coloured like the streets (one layer)."""
    if buildings is None or len(buildings) == 0:
        return
    styles, props, aliases = building_style(buildings, category, threshold_m, speed_m_per_min, lang)
    _building_layer(buildings, lang, store, show=show, styles=styles, props=props, aliases=aliases).add_to(m)


_POINTS_MEMO: list[tuple] = []  # (facilities, points): the app passes the same scenario object on every rerun


def _facility_points(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Facilities as WGS-84 points (polygons at a representative point), memoised per input object."""
    for src, pts in _POINTS_MEMO:
        if src is facilities:
            return pts
    pts = _facility_points_of(facilities)
    _POINTS_MEMO.append((facilities, pts))  # keeps the input alive, so its id is not reused
    del _POINTS_MEMO[:-4]
    return pts


def _facility_points_of(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    f = _wgs(facilities)
    f = f[~(f.geometry.isna() | f.geometry.is_empty)].copy()
    poly = f.geom_type != "Point"
    if poly.any():
        f.loc[poly, "geometry"] = f.loc[poly].geometry.representative_point()
    return f[f.geom_type == "Point"]


def add_facilities(m: folium.Map | folium.FeatureGroup, facilities: gpd.GeoDataFrame | None, *,
                   categories: Iterable[str] | None = None, lang: str = "zh", name: str | None = None,
                   store: Callable[[str], str] | None = None) -> None:
    """Facilities as CircleMarkers in ONE GeoJSON layer.

    Fill colour = category; outline colour = source (OSM / official list /
    policy text match / manual placement); planned, under-construction or upgrading facilities are
    hollow with a dashed outline, existing ones filled. Polygons (parks) are
    drawn at a representative point.
    """
    if facilities is None or len(facilities) == 0:
        return
    f = _facility_points(facilities)
    if categories is not None:
        f = f[f["category"].isin(list(categories))]
    if len(f) == 0:
        return
    cat = f["category"].astype(str)
    status = f["status"].fillna("existing").astype(str) if "status" in f else pd.Series("existing", index=f.index)
    source = f["source"].fillna("osm").astype(str) if "source" in f else pd.Series("osm", index=f.index)
    planned = status.ne("existing").to_numpy()
    styles: dict[str, Iterable] = {
        "fillColor": [CATEGORY_COLORS.get(c, "#333333") for c in cat],
        "color": [SOURCE_STROKE.get(s, "#444444") for s in source],
        "fillOpacity": np.where(planned, 0.15, 0.9),
        "dashArray": np.array(["3 3" if p else None for p in planned], dtype=object),
        "weight": np.where(source.isin(["official", "manual", "text", "siting"]).to_numpy(), 2.5, 1.0),
    }
    props = {
        "name": f["name"].fillna("").astype(str).to_numpy() if "name" in f else np.full(len(f), ""),
        "category": [label(c, lang) for c in cat],
        "status": [label(s, lang) for s in status],
        "source": [label(s, lang) for s in source],
    }
    FastGeoJson(_geom_json(f), name=name or t("facilities", lang).capitalize(),
                base_style={"fill": True}, styles=styles, props=props, radius=6,
                aliases=[column_label(c, lang) for c in props], pane="lc_facilities", z_index=450, store=store).add_to(m)


def add_gaps(m: folium.Map | folium.FeatureGroup, gaps: gpd.GeoDataFrame | None, *, lang: str = "zh",
             store: Callable[[str], str] | None = None) -> None:
    """Gap clusters highlighted in red, with rank and label as tooltip."""
    if gaps is None or len(gaps) == 0:
        return
    g = gaps
    pts = (g.geom_type == "Point").to_numpy()
    if pts.any():  # give point gaps an area so they are visible at any zoom
        g = _wgs(gaps).copy()
        sub = g.loc[pts]
        g.loc[pts, "geometry"] = sub.to_crs(sub.estimate_utm_crs()).buffer(60).to_crs(WGS84)
    # otherwise the (metric) gaps go to _geom_json as they are: re-projected only when not memoised
    from .coverage import gap_labels

    fields = [c for c in ("rank", "label", "subdistrict", "category", "n_buildings", "street_m") if c in g.columns]
    props = {c: ([label(str(x), lang) for x in g[c]] if c == "category" else
                 gap_labels(g, lang).to_numpy() if c == "label" else
                 (np.round(g[c].to_numpy(float)) if c == "street_m" else g[c].to_numpy())) for c in fields}
    FastGeoJson(_geom_json(g), name=t("map_gaps", lang),
                base_style={"color": "#d50000", "weight": 2.5, "fillColor": "#ff1744", "fillOpacity": 0.18,
                            "dashArray": "4 3"},
                props=props, aliases=[column_label(c, lang) for c in fields], pane="lc_gaps", z_index=410, store=store).add_to(m)


def add_legend(m: folium.Map | folium.FeatureGroup, threshold_m: float, speed_m_per_min: float, category: str, *,
               lang: str = "zh", with_facilities: bool = True, all_facilities: bool = False) -> None:
    """Distance legend (metres and minutes) and, optionally, the facility symbols.

    The facility legend draws its swatches like the markers: fill = category
    colour, outline = source, hollow dashed = planned/building/upgrading.
    """
    title = t("map_distance_legend", lang, category=label(category, lang), metres=threshold_m,
              minutes=_fmt_min(threshold_m / speed_m_per_min))
    rows = legend_rows(threshold_m, speed_m_per_min, lang)
    rows.append(("#ff1744", t("map_gaps", lang)))
    m.add_child(_Legend(title, rows, lang=lang))
    if with_facilities:
        fill = "#bdbdbd" if all_facilities else CATEGORY_COLORS.get(category, "#333333")
        srows = [(fill, t("map_source_row", lang, source=label(k, lang)), SOURCE_STROKE[k], False) for k in SOURCES]
        statuses = "/".join(label(s, lang) for s in ("planned", "building", "upgrading"))
        srows.append(("rgba(255,255,255,0)", t("map_not_existing_row", lang, statuses=statuses),
                      fill if not all_facilities else "#444444", True))
        ftitle = (t("map_facilities_legend_all", lang) if all_facilities
                  else t("map_facilities_legend", lang, category=label(category, lang)))
        m.add_child(_Legend(ftitle, srows, kind="dot", position="bottomleft", lang=lang))


def wgs84_bounds(*layers: gpd.GeoDataFrame | None) -> tuple[float, float, float, float] | None:
    """``(minx, miny, maxx, maxy)`` in WGS-84 of the first layer that is not empty (None when all are).

    Only the bounding box is projected, not every feature.
    """
    for layer in layers:
        if layer is not None and len(layer):
            b = layer.total_bounds
            if not _is_wgs84(layer.crs):  # project the box, not every feature
                b = gpd.GeoSeries([shapely.box(*b)], crs=layer.crs).to_crs(WGS84).total_bounds
            if np.all(np.isfinite(b)):
                return float(b[0]), float(b[1]), float(b[2]), float(b[3])
    return None


def coverage_base(*, streets: gpd.GeoDataFrame | None = None, boundaries: gpd.GeoDataFrame | None = None,
                  buildings: gpd.GeoDataFrame | None = None, facilities: gpd.GeoDataFrame | None = None,
                  context: Mapping[str, gpd.GeoDataFrame] | None = None, lang: str = "zh", assets: str = "inline",
                  online_tiles: bool = False, show_buildings: bool = True, layer_control: bool = True,
                  height: str | int = "100%", store: Callable[[str], str] | None = None) -> folium.Map:
    """The part of the coverage map that does not change with category, threshold, speed or scenario.

    Context, subdistricts, and the street and building *shapes* (grey until a
    :func:`coverage_overlay` colours them). The app draws this once and swaps
    only the overlay, so the browser keeps the map, its 9,000 shapes and the
    planner's view when a parameter changes.
    """
    m = base_map(wgs84_bounds(boundaries, streets, buildings, facilities), assets=assets,
                 online_tiles=online_tiles, lang=lang, height=height)
    add_context(m, context, lang=lang, store=store)
    if buildings is not None and len(buildings):
        _building_layer(buildings, lang, store, show=show_buildings, live_key="buildings").add_to(m)
    if streets is not None and len(streets):
        _street_layer(streets, lang, store, live_key="streets").add_to(m)
    add_boundaries(m, boundaries, lang=lang, store=store)
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(m)
    return m


def coverage_overlay(*, category: str, threshold_m: float, speed_m_per_min: float,
                     streets: gpd.GeoDataFrame | None = None, buildings: gpd.GeoDataFrame | None = None,
                     facilities: gpd.GeoDataFrame | None = None, gaps: gpd.GeoDataFrame | None = None,
                     lang: str = "zh", all_facilities: bool = False,
                     store: Callable[[str], str] | None = None) -> folium.FeatureGroup:
    """What changes with category, threshold, speed or scenario, as ONE feature group over :func:`coverage_base`.

    Colours and tooltip values of the base's streets and buildings (no
    geometry), the gaps, the facilities of ``category`` and the legends.
    ``streets``/``buildings`` must be the same rows, in the same order, as the
    base's (the colours are matched by position).
    """
    fg = folium.FeatureGroup(name=t("map_walking_access", lang, category=label(category, lang)))
    if streets is not None and len(streets):
        _LiveStyle("streets", *street_style(streets, category, threshold_m, speed_m_per_min, lang)).add_to(fg)
    if buildings is not None and len(buildings):
        _LiveStyle("buildings", *building_style(buildings, category, threshold_m, speed_m_per_min, lang)).add_to(fg)
    if gaps is not None and "category" in gaps.columns:
        gaps = gaps[gaps["category"] == category]
    add_gaps(fg, gaps, lang=lang, store=store)
    add_facilities(fg, facilities, categories=None if all_facilities else [category], lang=lang, store=store)
    add_legend(fg, threshold_m, speed_m_per_min, category, lang=lang, all_facilities=all_facilities)
    return fg


def coverage_map(*, category: str, threshold_m: float, speed_m_per_min: float,
                 streets: gpd.GeoDataFrame | None = None, boundaries: gpd.GeoDataFrame | None = None,
                 facilities: gpd.GeoDataFrame | None = None, buildings: gpd.GeoDataFrame | None = None,
                 gaps: gpd.GeoDataFrame | None = None, context: Mapping[str, gpd.GeoDataFrame] | None = None,
                 lang: str = "zh", assets: str = "inline", online_tiles: bool = False,
                 show_buildings: bool = True, all_facilities: bool = False, layer_control: bool = True,
                 height: str | int = "100%", store: Callable[[str], str] | None = None) -> folium.Map:
    """The main map: context, subdistricts, streets and buildings by distance, facilities, gaps, legend.

    :func:`coverage_base` with its :func:`coverage_overlay` added (a standalone
    map; the app passes the overlay to streamlit-folium separately).

    Parameters
    ----------
    category : str
        Taxonomy key; colours come from ``dist_m_<category>`` of ``streets`` / ``buildings``.
    threshold_m, speed_m_per_min : float
        Threshold of the colour scale; speed turns metres into minutes.
    facilities : GeoDataFrame
        Facilities schema; only ``category`` is drawn unless ``all_facilities``.
    gaps : GeoDataFrame
        Gap clusters of this category (``rank``, ``label`` ...).
    store : callable, optional
        ``store(geojson_text) -> url``: geometry is fetched from that URL (the
        app serves it as a static file, cached by the browser) instead of being
        embedded in the page.
    """
    m = coverage_base(streets=streets, boundaries=boundaries, buildings=buildings, facilities=facilities,
                      context=context, lang=lang, assets=assets, online_tiles=online_tiles,
                      show_buildings=show_buildings, layer_control=False, height=height, store=store)
    coverage_overlay(category=category, threshold_m=threshold_m, speed_m_per_min=speed_m_per_min, streets=streets,
                     buildings=buildings, facilities=facilities, gaps=gaps, lang=lang,
                     all_facilities=all_facilities, store=store).add_to(m)
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(m)
    return m


# --------------------------------------------------------------------------- 500 m green
PARK_COLORS = {"large": "#1b7837", "small": "#7fbf7b", None: "#d9f0d3"}
GREEN_COLORS = {"served": "#4daf4a", "outside_300": "#fdae61", "outside_500": "#d7191c"}


def green_map(*, parks: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None,
              boundaries: gpd.GeoDataFrame | None = None, context: Mapping[str, gpd.GeoDataFrame] | None = None,
              park_dist_m: Iterable[float] | None = None, lang: str = "zh", assets: str = "inline",
              online_tiles: bool = False, height: str | int = "100%",
              store: Callable[[str], str] | None = None) -> folium.Map:
    """The 500 m green-space view: parks by size class, residential buildings outside 300 m / 500 m.

    Parameters
    ----------
    parks : GeoDataFrame
        Park polygons; ``park_class`` column if present (GB/T 50563 class key or
        ``too_small`` below 0.2 ha), else classed by :func:`geo.green.park_classes` of
        ``area_m2`` / the metric area.
    buildings : GeoDataFrame
        Residential buildings (every building counts as housing when untyped).
    park_dist_m : array, optional
        Per building, the walking distance (m) to the nearest qualifying park
        (>= 0.2 ha, any GB/T 50563 class); NaN when none is reachable. Buildings
        are drawn as within 300 m, 300-500 m, or outside 500 m.
    """
    m = base_map(wgs84_bounds(boundaries, buildings, parks), assets=assets, online_tiles=online_tiles,
                 lang=lang, height=height)
    add_context(m, context, lang=lang, skip=("parks",), store=store)
    if parks is not None and len(parks):
        p = parks
        if "park_class" in p.columns:
            klass = p["park_class"].to_numpy(object)
        else:
            area = p["area_m2"] if "area_m2" in p.columns else _wgs(p).to_crs(_wgs(p).estimate_utm_crs()).area
            klass, _ = park_classes(area)
        names = {pc.key: (pc.zh if lang == "zh" else pc.en) for pc in PARK_CLASSES}
        small = t("map_park_too_small", lang)
        props = {"name": p["name"].fillna("").astype(str).to_numpy() if "name" in p.columns else np.full(len(p), ""),
                 "class": [names.get(k, small) for k in klass]}
        aliases = [column_label("name", lang), column_label("park_class", lang)]
        if "area_m2" in p.columns:
            props["area_ha"] = np.round(p["area_m2"].to_numpy(float) / 1e4, 2)
            aliases.append(column_label("area_ha", lang))
        FastGeoJson(_geom_json(p), name=t("map_parks", lang),
                    base_style={"color": "#1b5e20", "weight": 1, "fillOpacity": 0.85},
                    styles={"fillColor": [PARK_COLORS.get(k if k in PARK_COLORS else None) for k in klass]},
                    props=props, aliases=aliases, pane="lc_parks", z_index=395, store=store).add_to(m)
    texts = {k: t(f"map_green_{k}", lang) for k in ("served", "outside_300", "outside_500")}
    if buildings is not None and len(buildings) and park_dist_m is not None:
        b = buildings
        d = np.asarray(park_dist_m, float)
        state = np.where(~(d <= 500.0), "outside_500", np.where(d > 300.0, "outside_300", "served"))
        FastGeoJson(_geom_json(b), name=t("map_residential", lang),
                    base_style={"color": "#555555", "weight": 0.5, "fillOpacity": 0.85},
                    styles={"fillColor": [GREEN_COLORS[s] for s in state]},
                    props={"state": [texts[s] for s in state]},
                    aliases=[t("map_green_access", lang)], pane="lc_buildings", z_index=400,
                    store=store).add_to(m)
    rows = [(GREEN_COLORS[k], text) for k, text in texts.items()]
    rows += [(PARK_COLORS[pc.key], pc.zh if lang == "zh" else pc.en) for pc in PARK_CLASSES]
    m.add_child(_Legend(t("view_green", lang), rows, kind="dot", lang=lang))
    add_boundaries(m, boundaries, lang=lang, store=store)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


#: Marker colour of a siting proposal by the planner's decision (geo.plan.PROPOSAL_STATES).
PROPOSAL_COLORS: dict[str, str] = {"proposed": "#6a1b9a", "accepted": "#2e7d32", "moved": "#ef6c00",
                                   "dropped": "#9e9e9e"}


def add_proposals(m: folium.Map | folium.FeatureGroup, proposals: gpd.GeoDataFrame | None, *,
                  lang: str = "zh") -> None:
    """Siting proposals as numbered square markers (number = position in the list), coloured by decision.

    The tooltip gives the facility of the text, the category, its rank in its request and the buildings it
    newly covers; dropped proposals are grey.
    """
    if proposals is None or not len(proposals):
        return
    from .plan import PROPOSAL_STATES

    p = _wgs(proposals)
    group = folium.FeatureGroup(name=t("proposals_layer", lang).capitalize())
    for n, (_, r) in enumerate(p.iterrows(), start=1):
        state = str(r.get("state") or "proposed")
        color = PROPOSAL_COLORS.get(state, PROPOSAL_COLORS["proposed"])
        gain = r.get("buildings_newly_covered")
        gain_text = "" if gain is None or pd.isna(gain) else f"{int(gain)}"
        what = str(r.get("mention_name") or "") or label(str(r["category"]), lang)
        tip = t("map_proposal_tip", lang, n=n, what=what, category=label(str(r["category"]), lang),
                rank=r.get("rank"), gain=gain_text, state=PROPOSAL_STATES.get(state, (state, state))[lang != "zh"])
        html = (f'<div class="lc-proposal lc-proposal-{state}" data-proposal="{n}" style="background:{color};'
                'color:white;font:bold 11px sans-serif;width:20px;height:20px;line-height:20px;text-align:center;'
                f'border:2px solid white;box-shadow:0 0 3px #000;">{n}</div>')
        pt = r.geometry.representative_point()
        folium.Marker([pt.y, pt.x], icon=folium.DivIcon(html=html, icon_size=(24, 24),
                                                                          icon_anchor=(12, 12)),
                      tooltip=tip).add_to(group)
    group.add_to(m)
