"""Display text in Chinese (first) and English: the one home of the zh/en strings people read.

``COLUMNS`` heads the tables' columns (:func:`column_label`), ``UI`` holds the
app's and the command line's strings, ``REPORT`` the XLSX/PDF report's prose and
sheet titles, ``MAP`` the web map's layer names, legends and tooltips
(:mod:`geo.webmap`); :func:`t` looks a key up in any of the three. Category, profile, status and
source labels come from :mod:`geo.categories`; a warning raised inline stays a
bilingual :class:`geo.errors.Message`. One text is written once: the app, the
report and the CLI summary share one wording (``tests/test_i18n.py`` checks it).
"""

from __future__ import annotations

import re

from .categories import CATEGORIES, SOURCES, label

__all__ = ["COLUMNS", "MAP", "MATCH_STATUSES", "REPORT", "UI", "UNITS", "column_label", "localize_columns", "match_label", "t",
           "unit_label"]

# column -> (zh, en). Per-category columns (dist_m_<cat> ...) are built below.
COLUMNS: dict[str, tuple[str, str]] = {
    "subdistrict": ("街道", "Subdistrict"),
    "district": ("区", "District"),
    "category": ("设施类别", "Category"),
    "threshold_m": ("步行阈值(米)", "Threshold (m)"),
    "threshold_min": ("步行阈值(分钟)", "Threshold (min)"),
    "buildings": ("建筑数", "Buildings"),
    "buildings_covered": ("覆盖建筑数", "Buildings covered"),
    "buildings_unreachable": ("不可达建筑数", "Buildings unreachable"),
    "share_buildings_covered": ("建筑覆盖率", "Share of buildings covered"),
    "residents": ("居民数", "Residents"),
    "residents_covered": ("覆盖居民数", "Residents covered"),
    "share_residents_covered": ("居民覆盖率", "Share of residents covered"),
    "floor_area_m2": ("居住建筑面积(平方米)", "Floor area (m²)"),
    "floor_area_m2_covered": ("覆盖建筑面积(平方米)", "Floor area covered (m²)"),
    "share_floor_area_m2_covered": ("建筑面积覆盖率", "Share of floor area covered"),
    "weighting": ("需求加权方式", "Demand weighting"),
    "street_km": ("道路长度(公里)", "Street length (km)"),
    "street_km_covered": ("覆盖道路长度(公里)", "Street length covered (km)"),
    "share_street_covered": ("道路覆盖率", "Share of street length covered"),
    "facilities": ("设施数", "Facilities"),
    "network_share_in_area": ("路网覆盖街道面积比例", "Share of area covered by the network"),
    "name": ("名称", "Name"),
    "status": ("状态", "Status"),
    "count": ("数量", "Count"),
    "source": ("来源", "Source"),
    "sentence": ("原文句子", "Sentence"),
    "mention_type": ("提及类型", "Mention type"),
    "name_raw": ("原文名称", "Name as written"),
    "subdistrict_raw": ("原文街道写法", "Subdistrict as written"),
    "corrected": ("名称纠正", "Correction"),
    "confidence": ("置信度", "Confidence"),
    "match_status": ("匹配状态", "Match status"),
    "match_score": ("匹配得分", "Match score"),
    "osm_id": ("OSM编号", "OSM id"),
    "osm_name": ("OSM名称", "OSM name"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "reason": ("说明", "Reason"),
    "provider": ("定位来源", "Located by"),
    "match_confidence": ("定位置信度", "Location confidence"),
    "address": ("地址", "Address"),
    "length_m": ("长度(米)", "Length (m)"),
    "snap_m": ("接入距离(米)", "Access leg (m)"),
    "rank": ("排名", "Rank"),
    "label": ("位置", "Location"),
    "street_m": ("道路长度(米)", "Street length (m)"),
    "area_m2": ("面积(平方米)", "Area (m²)"),
    "share_300m": ("300米内比例", "Share within 300 m"),
    "share_500m": ("500米内比例", "Share within 500 m"),
    "share_served": ("500米见绿覆盖率", "Green-space coverage (500 m)"),
    # report (geo.report): gaps, facilities, green, parameters sheet
    "gap_kind": ("缺口类型", "Gap kind"),
    "road_kind": ("道路类型", "Road kind"),
    "sources": ("合并来源", "Merged sources"),
    "facility_id": ("设施编号", "Facility id"),
    "source_detail": ("来源详情", "Source detail"),
    "buildings_300m": ("300米内建筑数", "Buildings within 300 m"),
    "buildings_500m": ("500米内建筑数", "Buildings within 500 m"),
    "buildings_served": ("见绿覆盖建筑数", "Buildings served by green space"),
    "section": ("项目", "Section"),
    "parameter": ("参数", "Parameter"),
    "value": ("取值", "Value"),
    "standard": ("依据/来源", "Standard / source"),
    # measures, also per category (dist_m_<cat> ...; see column_label)
    "dist_m": ("步行距离(米)", "Walking distance (m)"),
    "walk_min": ("步行时间(分钟)", "Walking time (min)"),
    "covered_km": ("覆盖长度(公里)", "Covered length (km)"),
    "unreachable": ("不可达", "Unreachable"),
    "nearest": ("最近设施", "Nearest facility"),
    # the plan (geo.plan): before/after per subdistrict, proposals, requests
    "buildings_covered_before": ("规划前覆盖建筑数", "Buildings covered before"),
    "buildings_covered_after": ("规划后覆盖建筑数", "Buildings covered after"),
    "share_before": ("规划前覆盖率", "Share covered before"),
    "share_after": ("规划后覆盖率", "Share covered after"),
    "gain": ("提升", "Gain"),
    "buildings_gained": ("新增覆盖建筑数", "Buildings gained"),
    "buildings_uncovered_after": ("规划后仍未覆盖建筑数", "Buildings still uncovered after"),
    "planned_added": ("规划设施数（已定位）", "Planned facilities (located)"),
    "proposals_added": ("建议选址数", "Proposed sites"),
    "facilities_added": ("新增设施数", "Facilities added"),
    "lscp_sites": ("全覆盖最少新增设施数", "Fewest new facilities for full coverage"),
    "lscp_status": ("最少设施数求解状态", "Set-covering solve status"),
    "after_counts": ("规划后计入的选址建议", "After the plan counts"),
    "proposal_id": ("建议编号", "Proposal id"),
    "n": ("编号", "No."),
    "state": ("处理状态", "Decision"),
    "scope": ("选址范围", "Sited in"),
    "request": ("请求类型", "Request"),
    "mention_name": ("文本中的设施", "Facility in the text"),
    "mention_key": ("提及编号", "Mention key"),
    "source_text": ("文本文件", "Text file"),
    "buildings_newly_covered": ("新覆盖建筑数", "Buildings newly covered"),
    "buildings_covered_total": ("累计覆盖建筑数", "Buildings covered in total"),
    "share_buildings_covered_total": ("累计建筑覆盖率", "Share of buildings covered in total"),
    # the 500 m green map's park tooltips (geo.webmap.green_map)
    "park_class": ("规模等级", "Size class"),
    "area_ha": ("面积(公顷)", "Area (ha)"),
}

COLUMNS["n_buildings"] = COLUMNS["buildings"]  # a gap's buildings: the same header

# The measures of one category: ``dist_m_<cat>`` is headed "<category label> + walking distance (m)".
_PER_CATEGORY = ("dist_m", "walk_min", "covered_km", "unreachable", "nearest")
_PER_CATEGORY_RE = re.compile(rf"^({'|'.join(_PER_CATEGORY)})_(\w+)$")


# match status of a geocoded mention -> (zh, en): the app's tables and `lifecircle geocode`'s summary
MATCH_STATUSES: dict[str, tuple[str, str]] = {
    "matched": ("已匹配", "matched"),
    "manual": SOURCES["manual"],  # corrected by hand: the facility source of the same name
    "ambiguous": ("待确认", "ambiguous"),
    "approximate": ("近似位置", "approximate"),  # placed near a named place ("X公园旁"), never a match
    "unmatched": ("未匹配", "unmatched"),
    "not_applicable": ("无名称", "not applicable"),
}


def match_label(status: str, lang: str = "zh") -> str:
    """Display label of a ``match_status`` value (the value itself when unknown)."""
    pair = MATCH_STATUSES.get(status)
    return status if pair is None else pair[0 if lang == "zh" else 1]


def column_label(col: str, lang: str = "zh") -> str:
    """Human header of a column name (falls back to the name itself)."""
    i = 0 if lang == "zh" else 1
    if col in COLUMNS:
        return COLUMNS[col][i]
    m = _PER_CATEGORY_RE.match(col)
    if m and m.group(2) in CATEGORIES:
        head = COLUMNS[m.group(1)][i]
        cat = label(m.group(2), lang)
        return f"{cat}{head}" if lang == "zh" else f"{cat} {head[:1].lower()}{head[1:]}"
    return col


def localize_columns(df, lang: str = "zh"):
    """A copy of ``df`` with human headers (geometry column kept as is)."""
    return df.rename(columns={c: column_label(c, lang) for c in df.columns if c != "geometry"})


# --------------------------------------------------------------------------- UI strings (app.py)
# key -> (zh, en); ``{name}`` placeholders are filled by :func:`t`.
UI: dict[str, tuple[str, str]] = {
    "app_title": ("15分钟社区生活圈 · 步行可达性检查", "15-minute community life circle · walking access check"),
    "area_missing": ("默认研究区尚未准备（{path} 不存在）。请在项目目录运行以下命令后刷新页面：",
                     "The default study area is not prepared ({path} does not exist). Run this command in the "
                     "project folder, then reload the page:"),
    "view": ("视图", "View"),
    "view_map": ("步行覆盖地图", "Coverage map"),
    "view_green": ("500米见绿", "500 m green space"),
    "view_material": ("我的资料", "My material"),
    "view_area": ("研究区", "Study area"),
    "view_export": ("导出", "Export"),
    "view_failed": ("“{view}”出错了（程序内部错误：{what}）。您的文件和工作区未被改动，其他视图和侧栏仍可使用；"
                    "详细信息已写入 {log}，请把该文件发给维护者。",
                    "“{view}” failed (an internal error: {what}). Your files and workspace are untouched and the "
                    "sidebar and other views still work; the details are in {log}: please send that file to the "
                    "maintainers."),
    "summary_strip": ("概览", "Summary"),
    "texts_failed": ("{n} 个文本未能读取（其余文本已提取并匹配）：", "{n} text(s) could not be read (the others were "
                     "extracted and matched):"),
    "area_subdistrict": ("另一个街道（离线，三步）", "Another 街道, offline, in three steps"),
    "step1_district": ("第 1 步：区", "Step 1: district"),
    "step1_subdistrict": ("第 1 步：街道/镇", "Step 1: 街道 / town"),
    "mirror_dir": ("共享数据文件夹", "Shared data folder"),
    "step2_survey": ("第 2 步：查看共享数据中已有的内容", "Step 2: see what the shared data has"),
    "step2_found": ("**{name}** 在 {mirror} 中已有：", "**{name}** in {mirror}:"),
    "step3_give": ("**第 3 步：只需提供缺少的内容**", "**Step 3: give only what is missing**"),
    "step3_network": ("步行路网（{formats}）", "Walking network ({formats})"),
    "step3_buildings": ("建筑轮廓（可选：GeoJSON、GPKG 或压缩的 Shapefile）",
                        "Buildings (optional: GeoJSON, GPKG or a zipped shapefile)"),
    "view_plan": ("规划方案", "The plan"),
    "plan_caption": (("规划前 = 现状设施；规划后 = 现状 + 已定位的在建与规划设施 + 已采纳或移动的选址建议。"
                      "选址建议来自政策文本中的“新增N个”类计数设施和未能定位的规划设施，保存在工作区（{path}）。"),
                     ("Before = existing facilities; after = existing + located under-construction and planned ones + "
                      "the proposals you accepted or moved. Proposals come from the texts' counted planned facilities "
                      "(\"5 new canteens\") and the planned ones that could not be located; they are kept in the "
                      "workspace ({path}).")),
    "plan_no_texts": ("还没有政策文本：请先在“我的资料”中读取文本（或使用文本中的设施）。",
                      "No policy texts yet: read them in “My material” first (or use the text facilities)."),
    "plan_make": ("根据政策文本生成选址建议", "Propose sites for the texts' planned facilities"),
    "plan_made": ("{n} 个规划设施需要选址：已提出 {sites} 处建议，{outside} 个在研究区外。",
                  "{n} planned facilities to site: {sites} proposals made, {outside} outside the study area."),
    "plan_after_rule": ("规划后计入的选址建议：{states}（lifecircle plan --after accepted 得到相同结果；默认的 --after all "
                        "还计入未决定的建议）。",
                        "After the plan counts the proposals: {states} (lifecircle plan --after accepted gives the same "
                        "figures; its default --after all also counts the undecided ones)."),
    "plan_shares": ("{category}：各街道建筑覆盖率，规划前与规划后",
                    "{category}: share of buildings covered per subdistrict, before and after"),
    "plan_after_metric": ("{name} 规划后", "{name} after the plan"),
    "plan_before_metric": ("{name} 规划前", "{name} before the plan"),
    "plan_proposals": ("选址建议（地图上的编号）", "Proposed sites (numbers on the map)"),
    "plan_no_proposals": ("还没有选址建议。", "No proposed sites yet."),
    "plan_pick": ("选择一处建议", "Pick a proposal"),
    "plan_accept": ("采纳", "Accept"),
    "plan_drop": ("放弃", "Drop"),
    "plan_move": ("移到地图上点击的位置", "Move to the point clicked on the map"),
    "plan_reset": ("恢复为建议", "Back to proposed"),
    "plan_click_hint": ("在地图上点击新位置，再点“移到地图上点击的位置”。",
                        "Click the new place on the map, then “Move to the point clicked on the map”."),
    "plan_saved": ("已保存：{what}（{path}）", "Saved: {what} ({path})"),
    "plan_close_gap": ("需要多少处新设施才能补齐这个缺口？", "How many new facilities would close this gap?"),
    "plan_close_gap_result": ("{name}：再新增 {n} 处{category}可使全部可达建筑进入 {threshold:.0f} 米内（集合覆盖）。",
                              ("{name}: {n} more {category} facilities would bring every reachable building within "
                               "{threshold:.0f} m (set covering).")),
    "area_online": ("在线准备研究区（OpenStreetMap，按地名）", "Prepare an area online (OpenStreetMap, by place name)"),
    "place": ("地名", "Place name"),
    "area_id": ("研究区编号（文件夹名）", "Area id (folder name)"),
    "prepare": ("准备研究区", "Prepare area"),
    "preparing": ("正在准备研究区…", "Preparing the study area…"),
    "area_ready": ("研究区已准备：{path}", "Study area ready: {path}"),
    "online_failed": ("在线获取失败：{error}。请检查网络，或改用离线文件。",
                      "Online download failed: {error}. Check the connection or use an offline file."),
    "area_offline": ("离线准备研究区（OSM/PBF 文件或道路线图层）", "Prepare an area offline (OSM/PBF file or road line layer)"),
    "upload_network": ("上传 OSM / PBF / 道路线图层（GeoJSON、GPKG）", "Upload OSM / PBF / road line layer (GeoJSON, GPKG)"),
    "local_path": ("或输入本机文件路径", "or type a local file path"),
    "prepared_areas": ("已准备的研究区", "Prepared areas"),
    "open_area": ("打开该研究区", "Open this area"),
    "area_caption": ("研究区：{name}（{area}）", "Study area: {name} ({area})"),
    "category": ("设施类别", "Facility category"),
    "profile": ("步行人群", "Walker"),
    "speed": ("步行速度（米/分钟）", "Walking speed (m/min)"),
    "threshold": ("步行距离阈值（米）", "Walking threshold (m)"),
    "threshold_caption": ("约 {minutes:.1f} 分钟步行。依据：{standard}", "About {minutes:.1f} min on foot. Source: {standard}"),
    "include_planned": ("包含规划和在建设施（规划后）", "Include planned and under-construction facilities (after the plan)"),
    "include_planned_help": ("关闭即为规划前的现状（现状和改造提升中的设施），用于对比。",
                             "Switch off for the before-the-plan situation (existing and upgrading facilities only)."),
    "show_buildings": ("显示建筑", "Show buildings"),
    "online_tiles": ("提供在线 OSM 底图（需联网）", "Offer the online OSM tile layer (needs internet)"),
    "online_tiles_help": ("默认底图为研究区自带的 OSM 水系、绿地图层，无需联网。",
                          "The default background is the area's own OSM water and green layers; no internet needed."),
    "computing": ("正在计算步行距离（每个研究区和设施情景只算一次）…",
                  "Computing walking distances (once per area and facility scenario)…"),
    "gaps_title": ("{category}服务缺口（点击一行在地图上定位）", "{category}: service gaps (click a row to zoom)"),
    "zoomed_to": ("地图已定位到：{label}", "Map zoomed to: {label}"),
    "gap_hint": ("按未覆盖建筑数排序。点击一行，地图定位到该缺口。", "Ranked by uncovered buildings. Click a row to zoom the map."),
    "no_gaps": ("该类别在当前阈值下没有服务缺口。", "No service gaps for this category at this threshold."),
    "warnings": ("提示（{n}）", "Notes ({n})"),
    "sub_table_title": ("各街道覆盖情况：{category}（{threshold:.0f} 米 / {minutes:.1f} 分钟）",
                        "Coverage by subdistrict: {category} ({threshold:.0f} m / {minutes:.1f} min)"),
    "all_categories": ("全部设施类别", "All categories"),
    "scope": ("街道范围", "Subdistrict"),
    "scope_all": ("全部街道", "All subdistricts"),
    "scope_help": ("地图范围、缺口列表和各表只显示所选街道。",
                   "The map extent, the gap list and the tables show the selected subdistrict only."),
    "gaps_outside": ("另有 {n} 处缺口不在任何街道边界内，未列出。", "{n} more gaps lie outside every subdistrict and are not listed."),
    "gaps_other": ("其余 {n} 处缺口在其他街道。", "{n} more gaps are in other subdistricts."),
    "strip_caption": ("{scope}：各类设施步行覆盖率（{basis}）", "{scope}: covered share per category ({basis})"),
    "strip_buildings": ("按建筑", "of buildings"),
    "strip_streets": ("按道路长度", "of street length"),
    "strip_help": ("阈值 {threshold:.0f} 米（约 {minutes:.1f} 分钟）；已覆盖 {covered} / {total}。",
                   "Threshold {threshold:.0f} m (about {minutes:.1f} min); {covered} of {total} covered."),
    "no_green": ("该研究区没有可用于500米见绿检查的公园或建筑数据。",
                 "This area has no parks or buildings for the 500 m green-space check."),
    "green_caption": ("依据 GB/T 50563-2010：≥0.5公顷公园绿地服务半径500米，0.2–0.5公顷服务半径300米（步行网络距离）。",
                      "GB/T 50563-2010: parks ≥ 0.5 ha serve 500 m, 0.2–0.5 ha serve 300 m (network walking distance)."),
    "green_metric": ("{name} 500米见绿覆盖率", "{name}: 500 m green coverage"),
    "green_metric_help": ("按居住建筑计（共 {n} 栋）。", "Share of residential buildings ({n} in total)."),
    "official_title": ("导入官方设施名录", "Import an official facility list"),
    "upload_official": ("上传设施表（CSV、XLSX、GeoJSON、GPKG）", "Upload a facility table (CSV, XLSX, GeoJSON, GPKG)"),
    "datum": ("坐标系", "Coordinate system"),
    "add_official": ("加入分析", "Add to the analysis"),
    "official_added": ("已从 {name} 加入 {n} 个设施。", "Added {n} facilities from {name}."),
    "own_layers": ("已加入的自有设施：", "Your facility layers:"),
    "remove": ("移除", "Remove"),
    "texts_title": ("从政策文本提取设施", "Facilities from policy texts"),
    "upload_texts": ("上传政策文本（TXT、DOCX、PDF，可多选）", "Upload policy texts (TXT, DOCX, PDF; several allowed)"),
    "extract": ("提取并匹配", "Extract and match"),
    "extracting": ("正在提取设施并匹配 OSM…", "Extracting facilities and matching them to OSM…"),
    "match_counts": ("匹配结果：{counts}", "Match results: {counts}"),
    "correct_hint": ("在表中修改名称、类别、状态或经纬度，或选择一个未匹配设施后在地图上点击其位置，然后保存。"
                     "校正保存在 `{path}`，以后每次运行都会自动应用。",
                     "Edit name, category, status or coordinates in the table, or pick an unmatched facility and "
                     "click its location on the map, then save. Corrections are kept in `{path}` and re-applied on "
                     "every later run."),
    "provider": ("在线地理编码（可选，需密钥）", "Online geocoding (optional, needs a key)"),
    "provider_none": ("不使用", "None"),
    "provider_key": ("密钥（留空则读取环境变量 {env}）", "Key (empty: read the environment variable {env})"),
    "provider_help": ("OSM 中找不到的设施和只有地址的官方名录行，用天地图或高德查询；结果缓存在 data/cache/providers。",
                      ("Facilities OSM does not know and official rows with only an address are looked up with "
                       "Tianditu or Amap; answers are cached in data/cache/providers.")),
    "unlocated": ("未定位的名录行（{n}）", "Rows not located ({n})"),
    "place_on_map": ("在地图上放置未匹配的设施", "Place an unmatched facility on the map"),
    "clicked": ("已点击位置：{lon:.6f}, {lat:.6f}", "Clicked at {lon:.6f}, {lat:.6f}"),
    "save_corrections": ("保存校正", "Save corrections"),
    "corrections_saved": ("已保存 {n} 条校正到 {path}。", "Saved {n} corrections to {path}."),
    "use_text_facilities": ("将 {n} 个已匹配/已放置的设施加入分析", "Add the {n} matched/placed facilities to the analysis"),
    "export_caption": ("导出当前参数下的全部结果（各表中文表头；含参数与数据来源）。",
                       "Export every result at the current parameters (headers in the UI language; parameters and sources included)."),
    "export_xlsx": ("下载 Excel（XLSX）", "Download Excel (XLSX)"),
    "export_csv": ("下载 CSV（UTF-8 BOM，ZIP）", "Download CSV (UTF-8 BOM, ZIP)"),
    "export_gpkg": ("下载 GeoPackage", "Download GeoPackage"),
    "export_geojson": ("下载服务缺口 GeoJSON", "Download gaps as GeoJSON"),
    "export_pdf": ("下载 PDF 报告", "Download the PDF report"),
    "thresholds_title": ("各类设施步行阈值（米或分钟）", "Walking thresholds (metres or minutes)"),
    "thr_value": ("阈值", "Threshold"),
    "thr_unit": ("单位", "Unit"),
    "unit_m": ("米（距离）", "m (distance)"),
    "unit_min": ("分钟（步行时间）", "min (walking time)"),
    "thr_standard": ("依据标准", "Standard"),
    "thresholds_help": ("按分钟设定的阈值随步速换算为距离：老年人步速较慢，同样分钟数覆盖更小范围。本次会话内一直保留。",
                        "A threshold in minutes becomes a distance at the walking speed: a slower (elderly) walker covers "
                        "less ground in the same minutes. Kept for the whole session."),
    "threshold_caption_kind": ("阈值 {threshold}（{kind}）= {metres:.0f} 米 ≈ {minutes:.1f} 分钟。依据：{standard}",
                               "Threshold {threshold} ({kind}) = {metres:.0f} m ≈ {minutes:.1f} min. Source: {standard}"),
    "official_again": ("{name} 已在本研究中（同一文件只计一次）：{n} 个设施。",
                       "{name} is already in this study (the same file counts once): {n} facilities."),
    "merged_note": ("与研究区已有设施合并了 {n} 个重复设施（同一编号，或同名且位置相近）。",
                    "{n} duplicate facilities were merged with those already in the area (same id, or similar name nearby)."),
    "texts_layer": ("政策文本设施", "policy-text facilities"),
    "study_title": ("研究（全部参数与来源）", "Study (every parameter and source)"),
    "study_name": ("研究名称", "Study name"),
    "save_study": ("保存研究", "Save study"),
    "study_saved": ("研究已保存：{path}", "Study saved: {path}"),
    "saved_studies": ("已保存的研究", "Saved studies"),
    "open_study": ("打开研究", "Open study"),
    "study_opened": ("已打开研究“{name}”。", "Opened study '{name}'."),
    "export_scenario": ("情景：{scenario}。设施来源：{layers}。", "Scenario: {scenario}. Facility sources: {layers}."),
    "footer": ("地图数据 © OpenStreetMap contributors（ODbL）。本页用时 {seconds:.2f} 秒。",
               "Map data © OpenStreetMap contributors (ODbL). Page built in {seconds:.2f} s."),
    # the command line (geo/cli.py and the cli_* functions): line prefixes and the closing line
    "cli_error": ("错误", "error"),
    "cli_warning": ("警告：", "warning: "),
    "cli_note": ("注意：", "note: "),
    "cli_written": ("已写入 {o}", "written to {o}"),
    "cli_texts_unread": ("未能读取 {n} 个文本（见上方错误），规划只含其余文本",
                         "{n} text(s) could not be read (see the errors above); the plan holds the others"),
    "cli_after_counts": ("规划后计入的选址建议：{states}", "after the plan counts the proposals: {states}"),
    "cli_out_of_memory": ("内存不足：输入太大。", "out of memory: the input is too large."),
    "cli_internal_error": ("内部错误（{what}）；详情已写入 {log}", "internal error ({what}); details written to {log}"),
    "cli_app_ready": ("缓存已就绪（{s:.1f} 秒），启动应用…", "caches ready ({s:.1f} s), starting the app…"),
    # lifecircle plan's summary (geo.plan.cli_plan); its table is headed with COLUMNS where they fit
    "cli_plan_requests": (("{n} 个规划设施需要选址：{sited} 个已选址（{sites} 处建议），{outside} 个在研究区外，"
                           "{other} 个无需或无法新增"),
                          ("{n} planned facilities to site: {sited} sited ({sites} proposals), {outside} outside the "
                           "study area, {other} needing or allowing no new site")),
    "cli_plan_category": ("类别", "Category"),
    "cli_plan_before": ("规划前%", "Before %"),
    "cli_plan_after": ("规划后%", "After %"),
    "cli_plan_added": ("新增设施", "Added"),
    "cli_plan_lscp": ("全覆盖最少新增", "LSCP"),
    # lifecircle site / coverage / locate / extract summaries (geo.siting, geo.pipeline, geo.places, geo.texts)
    "cli_site_summary": (("{category}：新增 {proposed} 处（{n} 个 {candidates} 候选点），新覆盖 {objective:g}（{unit}），"
                          "求解 {solver}/{status}{gap}"),
                         ("{category}: {proposed} new sites ({n} {candidates} candidates), newly covered {objective:g} "
                          "({unit}), solver {solver}/{status}{gap}")),
    "cli_site_gap": ("，与上界差距 {gap:.1%}", ", gap to bound {gap:.1%}"),
    "cli_site_lscp": ("覆盖全部可达建筑最少需新增 {sites} 处{opt}", "fewest new sites to cover every reachable building: {sites}{opt}"),
    "cli_site_lower_bound": ("（下界 {bound:g}）", " (lower bound {bound:g})"),
    "cli_network_share": ("路网覆盖%", "network%"),
    "cli_coverage_head": ("步行覆盖率（建筑% / 道路长度%；步速 {s:g} 米/分钟）",
                          "walking coverage (buildings % / street length %; speed {s:g} m/min)"),
    "cli_demand_weighting": ("需求加权：{label}", "demand weighting: {label}"),
    "cli_locate_summary": ("{n} 个设施（其中 {by_address} 个按地址定位），{missing} 行未定位 → {out}",
                           "{n} facilities ({by_address} located by address), {missing} rows not located → {out}"),
    "cli_no_mentions": ("未找到设施提及", "no facility mentions found"),
    "cli_files_unread": ("未能读取 {n} 个文件（见上方错误）", "{n} file(s) could not be read (see the errors above)"),
    # lifecircle prepare (geo.areas): the study area written, its network repair
    "cli_survey_head": ("{s}（{d}）：共享数据中已有", "{s} ({d}): what the shared data has"),
    "cli_area_written": ("研究区 {a}（{n}）已写入 {o}", "study area {a} ({n}) written to {o}"),
    "cli_area_network": ("路网：{nodes} 个节点，{edges} 条边，{km:.1f} km", "network: {nodes} nodes, {edges} edges, {km:.1f} km"),
    "cli_area_facilities": ("设施：{n} 个（{c}）", "facilities: {n} ({c})"),
    "cli_area_boundaries": ("街道边界：{s}", "boundaries: {s}"),
    "cli_area_buildings": ("建筑：{n} 栋", "buildings: {n}"),
    "repair_before": ("修复前：{n} 个连通分量，最大分量占 {s:.1%} 长度",
                      "before repair: {n} components, largest holds {s:.1%} of the length"),
    "repair_after": ("修复后：{n} 个连通分量，最大分量占 {s:.1%} 长度，共 {km:.1f} km",
                     "after repair: {n} components, largest holds {s:.1%} of the length, {km:.1f} km in all"),
    "repair_excluded_ways": ("排除高架等不可步行道路", "non-walkable ways excluded"),
    "repair_ends_snapped": ("吸附断头端点", "loose ends snapped"),
    "repair_crossings_noded": ("补充交叉口节点", "crossings noded"),
    "list_separator": ("；", "; "),
    "comma": ("，", ", "),
    # lifecircle extract's summary (geo.texts); a corrections file's unusable rows (geo.workspace)
    "cli_mentions": ("共 {n} 条设施提及（具名 {named}，计数 {counted}，泛指 {generic}）",
                     "{n} facility mentions (named {named}, counted {counted}, generic {generic})"),
    "row_problem": ("第 {row} 行：{text}", "row {row}: {text}"),
    # a study's threshold kinds and scenario (geo.study)
    "threshold_kind_time": ("步行时间（随步速变化）", "walking time (ground covered depends on speed)"),
    "threshold_kind_distance": ("步行距离（与步速无关）", "walking distance (the same for every walker)"),
    "study_scenario_after": ("规划后（现状 + 在建 + 规划设施）",
                             "after the plan (existing + under-construction + planned facilities)"),
    "study_scenario_before": ("规划前（仅现状设施）", "before the plan (existing facilities only)"),
    # composing a label with a value, or a text with a note, in either language's punctuation
    "labelled": ("{label}：{text}", "{label}: {text}"),
    "bracketed": ("{text}（{inner}）", "{text} ({inner})"),
    # another 街道 offline: what the shared data lacks (geo.offline.LayerSurvey.line)
    "survey_none": ("没有", "none"),
    "survey_missing": ("缺少", "missing"),
    # the demand weighting of a result (geo.demand.DemandWeights.description; stored in both languages)
    "weighting_population": ("按人口加权（列“{column}”）{tail}", "weighted by population (column '{column}'){tail}"),
    "weighting_households": ("按户数加权（列“{column}”× 每户 {pph:g} 人）{tail}",
                             "weighted by households (column '{column}' x {pph:g} persons per household){tail}"),
    "weighting_floor_area": ("按建筑面积加权（占地面积 ×“{column}”层数{per}）{tail}",
                             "weighted by floor area (footprint x '{column}'{per}){tail}"),
    "weighting_per_person": (" ÷ 每人 {m2:g} 平方米", " / {m2:g} m2 per person"),
    "weighting_missing": ("；{n} 栋缺值按 0 计", "; {n} missing values count as 0"),
    "weighting_no_levels": ("；{n} 栋无层数按 1 层计", "; {n} without levels count as one storey"),
    "weighting_count": ("按建筑栋数计（无人口、户数或层数信息）", "buildings counted (no population, household or levels data)"),
    # lifecircle geocode (geo.geocode.cli_geocode)
    "cli_correction_unused": ("{path} 第 {row} 行未使用：{text}", "{path} row {row} not used: {text}"),
    "cli_geocoded": ("地理编码完成：{counts} → {out}", "geocoded: {counts} → {out}"),
    "cli_no_boundaries": ("提示：未提供 --boundaries，匹配未限定区/街道范围。",
                          "note: no --boundaries given, matches are not scoped to districts or subdistricts."),
    "cli_unmatched": ("未匹配的名称：{names}", "unmatched names: {names}"),
    "cli_ambiguous": ("{status}：{name} → {candidates}", "{status}: {name} → {candidates}"),
    # the siting proposals as a facility layer (app) and on the map (geo.webmap.add_proposals)
    "proposals_layer": ("选址建议", "siting proposals"),
    "proposal_detail": ("选址建议：{what}（{source}）", "siting proposal: {what} ({source})"),
    "plan_outside_subdistrict": ("{place}不在研究区内：请先准备该街道的研究区再选址。",
                                 "{place} is not in the study area: prepare that area to site it."),
    "plan_outside_district": ("{place}不在研究区内：请先准备该区的研究区再选址。",
                              "{place} is not in the study area: prepare that area to site it."),
}


# --------------------------------------------------------------------------- report prose (geo/report.py)
# key -> (zh, en), looked up with :func:`t` like UI (the keys of the two tables are distinct).
# Column headers are in COLUMNS; category, profile, status and source labels in geo.categories.
REPORT: dict[str, tuple[str, str]] = {
    "title": ("15分钟社区生活圈 步行覆盖与缺口报告", "15-minute life circle: walking coverage and gap report"),
    "area": ("研究范围", "Study area"),
    "date": ("生成日期", "Date"),
    "walking_speed": ("步行速度", "Walking speed"),
    "scenario": ("情景", "Scenario"),
    "scenario_after": ("规划后", "After the plan"),
    "scenario_before": ("规划前", "Before the plan"),
    "scenario_after_note": ("现状设施 + 在建设施 + 规划设施", "existing + under-construction + planned facilities"),
    "scenario_before_note": ("仅现状设施（在建和规划设施不计）",
                             "existing facilities only (under-construction and planned ones left out)"),
    "kind_time": ("步行时间阈值，随步速变化", "walking-time threshold: depends on the speed"),
    "kind_distance": ("步行距离阈值", "walking-distance threshold"),
    "sec_layers": ("设施来源", "Facility sources"),
    "corrections": ("校正文件", "corrections"),
    "merged": ("合并的重复设施", "duplicates merged"),
    "thresholds": ("各类设施步行阈值", "Walking thresholds by category"),
    "overall": ("总体覆盖（全部街道）", "Overall coverage (all subdistricts)"),
    "sec_sub_note": ("建筑覆盖率 = 步行网络距离在阈值内的建筑比例；道路覆盖率 = 阈值内的道路长度比例；不可达 = 与设施不连通的建筑。",
                     "Share of buildings (street length) within the walking threshold on the network; "
                     "unreachable = not connected to any facility."),
    "sec_green_note": ("按 GB/T 50563-2010 公园绿地服务半径：≥0.5公顷公园绿地服务500米，0.2-0.5公顷服务300米。",
                       "By GB/T 50563-2010 park service radius: parks ≥ 0.5 ha serve 500 m, 0.2-0.5 ha serve 300 m."),
    "sec_gapmap": ("缺口分布图", "Map of gaps"),
    "sec_cat": ("分类覆盖与缺口", "Coverage and gaps by category"),
    "gaps_top": ("缺口清单（按影响排序）", "Ranked gaps"),
    "gaps_none": ("无缺口。", "No gaps."),
    "sec_plan": ("规划方案：规划前后对比与建议选址", "The plan: before and after, proposed sites"),
    "sec_plan_note": (("规划前 = 现状设施；规划后 = 现状 + 已定位的在建与规划设施 + 建议选址（已放弃的不计）。"
                       "全覆盖最少新增 = 使本街道全部可达建筑进入阈值所需的最少新设施数（集合覆盖，LSCP），作参考。"),
                      ("Before = existing facilities; after = existing + located under-construction and planned ones + "
                       "proposed sites (dropped ones left out). Fewest new facilities for full coverage = the "
                       "set-covering (LSCP) reference for every reachable building of the subdistrict.")),
    "plan_map_title": ("{cat}：规划前（左）与规划后（右）阈值 {thr:.0f} 米内的建筑，★ 为建议选址",
                       "{cat}: buildings within {thr:.0f} m before (left) and after (right) the plan; ★ proposed sites"),
    "covered": ("阈值内", "within the threshold"),
    "not_covered": ("阈值外", "beyond the threshold"),
    "proposal_list": ("建议选址清单", "Proposed sites"),
    "no_proposals": ("没有建议选址。", "No proposed sites."),
    "sec_warnings": ("提示", "Warnings"),
    "page": ("第 {n} 页", "page {n}"),
    "map_title": ("{cat}：沿路网步行距离（阈值 {thr:.0f} 米 ≈ {mins:.0f} 分钟）",
                  "{cat}: walking distance on the network (threshold {thr:.0f} m ≈ {mins:.0f} min)"),
    "facilities": ("设施", "facilities"),
    "gaps": ("缺口", "gaps"),
    "gapmap_title": ("各类设施步行缺口（括号内为缺口数，编号为排名）", "Walking gaps by category (count in brackets, numbers are ranks)"),
    "colorbar_threshold": ("色条红线：阈值", "red line on the colour bar: threshold"),
    "m_per_min": ("米/分钟", "m/min"),
    "sec_thr": ("步行阈值", "Walking thresholds"),
    "sec_demand": ("需求加权", "Demand weighting"),
    "sec_park": ("公园分级（500米见绿）", "Park classes (500 m green)"),
    "sec_inputs": ("输入数据", "Inputs"),
    "sec_sources": ("数据来源", "Data sources"),
    "sec_run": ("计算参数", "Computation settings"),
    "osm": ("OpenStreetMap 数据（路网、设施、绿地）", "OpenStreetMap data (network, facilities, green space)"),
    "generated": ("生成于", "generated"),
    "outdir": ("结果文件夹", "output folder"),
    "radius": ("服务半径 {r:.0f} 米，面积 ≥ {a:.0f} 平方米", "radius {r:.0f} m, area ≥ {a:.0f} m²"),
    # the kind of a gap (``gaps.kind``)
    "gap_kind_buildings": ("建筑群", "building cluster"),
    "gap_kind_streets": ("街段", "street stretch"),
    # sheet titles (XLSX) and CSV names; the subdistrict and parameter ones also head their PDF sections
    "sheet_subdistricts": ("分街道覆盖", "Coverage by subdistrict"),
    "sheet_green": ("绿地500米", "Green 500 m"),
    "sheet_gaps": ("缺口清单", "Gaps"),
    "sheet_facilities": ("设施清单", "Facilities"),
    "sheet_named_streets": ("分道路覆盖", "Coverage by street"),
    "sheet_streets": ("街道明细", "Streets"),
    "sheet_params": ("参数与来源", "Parameters and sources"),
    "sheet_plan": ("规划前后对比", "Before and after the plan"),
    "sheet_proposals": ("建议选址", "Proposed sites"),
}


# --------------------------------------------------------------------------- the web map (geo/webmap.py)
# key -> (zh, en), looked up with :func:`t` like UI (keys start with ``map_``). Tooltip headers are COLUMNS,
# category, status and source labels come from geo.categories, park classes from geo.categories.PARK_CLASSES.
MAP: dict[str, tuple[str, str]] = {
    "map_legend_fold": ("点击收起/展开图例", "click to fold/unfold the legend"),
    "map_osm_tiles": ("OpenStreetMap 底图", "OpenStreetMap"),
    "map_water": ("水系", "Water"),
    "map_green_background": ("绿地（底图）", "Green (background)"),
    "map_streets_background": ("道路（底图）", "Streets (background)"),
    "map_subdistricts": ("街道边界", "Subdistricts"),
    "map_streets": ("街道步行距离", "Streets, walking distance"),
    "map_buildings": ("建筑步行距离", "Buildings, walking distance"),
    "map_gaps": ("服务缺口", "Gaps"),  # the layer and its legend row
    "map_walking_access": ("步行覆盖：{category}", "Walking access: {category}"),
    "map_distance_legend": ("至最近{category}的步行距离（阈值 {metres:.0f} 米 / {minutes} 分钟）",
                            "Walk to nearest: {category} (threshold {metres:.0f} m / {minutes} min)"),
    "map_source_row": ("来源：{source}", "source: {source}"),
    "map_not_existing_row": ("{statuses}（空心虚线）", "{statuses} (hollow, dashed)"),
    "map_facilities_legend_all": ("设施（填色 = 类别，外圈 = 来源）", "Facilities (fill = category, outline = source)"),
    "map_facilities_legend": ("{category}设施（外圈颜色 = 来源）", "{category} facilities (outline = source)"),
    "map_parks": ("公园绿地（按规模）", "Parks by size class"),
    "map_park_too_small": ("<0.2公顷（不计入）", "< 0.2 ha (not counted)"),
    "map_residential": ("居住建筑", "Residential buildings"),
    "map_green_access": ("见绿", "Green access"),
    "map_green_served": ("300米内有公园绿地", "Park within 300 m"),
    "map_green_outside_300": ("300米外、500米内", "Outside 300 m, within 500 m"),
    "map_green_outside_500": ("500米外：未见绿", "Outside 500 m: no green"),
    "map_proposal_tip": ("#{n} {what}（{category}）· 排名 {rank} · 新覆盖 {gain} 栋 · {state}",
                         "#{n} {what} ({category}) · rank {rank} · newly covers {gain} buildings · {state}"),
}

_STRINGS: dict[str, tuple[str, str]] = {**UI, **REPORT, **MAP}

# units of a threshold (``geo.study.Threshold``) and of the report's numbers
UNITS: dict[str, tuple[str, str]] = {"m": ("米", "m"), "min": ("分钟", "min")}


def t(key: str, lang: str = "zh", **kw) -> str:
    """A UI or report string in ``lang`` (Chinese first), with ``{placeholders}`` filled from ``kw``.

    Parameters
    ----------
    key : str
        A key of :data:`UI`, :data:`REPORT` or :data:`MAP` (an unknown key is returned as is).
    lang : str
        ``"zh"`` or ``"en"``.
    **kw
        Values of the ``{placeholders}``.
    """
    pair = _STRINGS.get(key)
    if pair is None:
        return key
    text = pair[0 if lang == "zh" else 1]
    return text.format(**kw) if kw else text


def unit_label(unit: str, lang: str = "zh") -> str:
    """``"米"``/``"m"`` or ``"分钟"``/``"min"`` for a unit key of :data:`UNITS` (the key itself when unknown)."""
    pair = UNITS.get(unit)
    return unit if pair is None else pair[0 if lang == "zh" else 1]
