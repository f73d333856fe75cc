"""The facility taxonomy and planning standards: the one table every stage reads.

Each category names how it is found in OpenStreetMap (tags and Geofabrik
``fclass`` values), how it is written in Chinese policy texts (keywords for the
text reader and the geocoder), and how far residents should have to walk to it,
with the standard that threshold comes from.

Sources cited below
-------------------
- SH2016: 上海市规划和国土资源管理局《上海市15分钟社区生活圈规划导则（试行）》, 2016.
- TD/T 1062-2021: 自然资源部《社区生活圈规划技术指南》, 2021.
- GB 50180-2018: 《城市居住区规划设计标准》 (5/10/15-minute life circles at
  300 m / 500 m / 800-1000 m walking distance).
- GB/T 50563-2010: 《城市园林绿化评价标准》, park-green-space service radius
  (parks of 0.5 ha and more serve 500 m; 0.2-0.5 ha serve 300 m).
- Knoblauch, Pietrucha & Nitzburg (1996), "Field studies of pedestrian walking
  speed and start-up time", Transportation Research Record 1538: 15th-percentile
  walking speed 1.25 m/s for younger and 0.97 m/s for older pedestrians.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

__all__ = [
    "Category",
    "CATEGORIES",
    "CATEGORY_KEYS",
    "WalkProfile",
    "PROFILES",
    "ParkClass",
    "PARK_CLASSES",
    "STATUSES",
    "VOCABULARY",
    "GENERIC_TERMS",
    "STATUS_ALIASES",
    "SCENARIO_STATUSES",
    "SOURCES",
    "category_for_fclass",
    "category_for_tags",
    "osmnx_tags",
    "label",
    "taxonomy_table",
]


@dataclass(frozen=True)
class Category:
    """One facility category of the 15-minute life circle.

    Attributes
    ----------
    key : str
        Stable identifier used in every column name (``dist_m_<key>``).
    zh, en : str
        Display labels.
    osm_tags : dict
        OSM ``key -> [values]`` that identify the category (osmnx ``tags`` form;
        ``True`` means any value).
    fclass : tuple of str
        Geofabrik free-shapefile ``fclass`` values.
    keywords : tuple of str
        Chinese head words as written in policy texts, then those of
        :data:`VOCABULARY` (the standards' facility lists and district brand
        names). The text reader builds its jieba user dictionary from these;
        the geocoder uses them to check a name's category.
    threshold_m : float
        Default walking threshold (network metres).
    standard, standard_en : str
        Where the threshold comes from, in Chinese and English (:meth:`cite`).
    """

    key: str
    zh: str
    en: str
    osm_tags: dict
    fclass: tuple[str, ...]
    keywords: tuple[str, ...]
    threshold_m: float
    standard: str
    standard_en: str
    polygon_access: bool = False  # reached at its boundary (parks, squares)

    def cite(self, lang: str) -> str:
        """The cited standard in ``lang``."""
        return self.standard if lang == "zh" else self.standard_en


_CATS: tuple[Category, ...] = (
    Category(
        "elderly_care", "养老服务", "Elderly care",
        {"amenity": ["nursing_home", "social_facility"],
         "social_facility": ["nursing_home", "assisted_living", "day_care", "group_home"]},
        ("nursing_home",),
        ("综合为老服务中心", "为老服务中心", "为老服务站", "养老服务中心", "养老服务站",
         "养老综合体", "长者照护之家", "日间照料中心", "老年人日间照料中心", "养老院",
         "敬老院", "护理院", "颐养院", "福利院", "老年公寓", "睦邻点", "助老服务社",
         "老年活动室", "养老驿站", "嵌入式养老", "助浴点"),
        500.0,
        "TD/T 1062-2021 表A: 养老服务站/日间照料 5-10 分钟(≤500 m); SH2016: 日间照料中心 5-10 分钟",
        "TD/T 1062-2021 Table A: elderly service station / day care 5-10 min (≤500 m); SH2016: day care centre 5-10 min",
    ),
    Category(
        "canteen", "社区食堂", "Community canteen",
        {"amenity": ["canteen", "social_facility"], "social_facility": ["soup_kitchen"]},
        (),
        ("社区食堂", "长者食堂", "老年食堂", "睦邻食堂", "助餐点", "老年助餐点", "社区餐厅",
         "助餐服务点", "老年就餐点", "就餐点", "食堂"),
        500.0,
        "TD/T 1062-2021 表A: 社区食堂 5-10 分钟(≤500 m); SH2016: 社区食堂 5-10 分钟",
        "TD/T 1062-2021 Table A: community canteen 5-10 min (≤500 m); SH2016: community canteen 5-10 min",
    ),
    Category(
        "park", "公园绿地", "Parks and green space",
        {"leisure": ["park", "garden", "playground"], "landuse": ["recreation_ground", "village_green"]},
        ("park",),
        ("口袋公园", "街心公园", "社区公园", "郊野公园", "城市公园", "公园", "绿地", "游园",
         "街心花园", "花园", "绿道", "滨江", "林荫道", "广场"),
        500.0,
        "GB/T 50563-2010 公园绿地服务半径: ≥0.5 ha 按 500 m (500米见绿); SH2016",
        "GB/T 50563-2010 park service radius: parks ≥0.5 ha at 500 m (green space within 500 m); SH2016",
        polygon_access=True,
    ),
    Category(
        "culture", "文化设施", "Culture",
        {"amenity": ["library", "arts_centre", "theatre", "cinema"], "tourism": ["museum", "gallery"]},
        ("library", "arts_centre", "theatre", "cinema", "museum"),
        ("文化活动中心", "社区文化活动中心", "文化活动副中心", "文化中心", "文化馆", "文化站", "图书馆", "分馆",
         "书房", "书院", "阅览室", "美术馆", "博物馆", "陈列馆", "纪念馆", "展示馆", "艺术馆",
         "剧院", "剧场", "影院", "电影院", "文化客厅"),
        1000.0,
        "GB 50180-2018 表B: 文化活动中心 15 分钟(800-1000 m); SH2016: 社区文化活动中心 15 分钟",
        "GB 50180-2018 Table B: cultural activity centre 15 min (800-1000 m); SH2016: community cultural centre 15 min",
    ),
    Category(
        "sports", "体育设施", "Sports",
        {"leisure": ["sports_centre", "pitch", "swimming_pool", "fitness_centre",
                     "fitness_station", "stadium", "track"]},
        ("sports_centre", "pitch", "swimming_pool", "stadium", "fitness_centre", "track"),
        ("市民健身中心", "体育中心", "体育馆", "体育场", "游泳馆", "游泳池", "健身中心",
         "健身房", "健身苑点", "健身步道", "健身驿站", "健身点", "运动场", "球场", "篮球场", "足球场",
         "多功能运动场", "百姓健身房", "体育公园", "运动场地"),
        1000.0,
        "GB 50180-2018 表B: 大型多功能运动场地 15 分钟(800-1000 m); SH2016: 综合健身馆 15 分钟",
        "GB 50180-2018 Table B: large multi-purpose sports ground 15 min (800-1000 m); SH2016: fitness hall 15 min",
    ),
    Category(
        "health", "医疗卫生", "Health",
        {"amenity": ["hospital", "clinic", "doctors"], "healthcare": True},
        ("hospital", "clinic", "doctors"),
        ("社区卫生服务中心", "卫生服务中心", "卫生服务站", "卫生站", "医院", "诊所", "门诊部",
         "卫生院", "医疗中心", "健康驿站", "健康小屋", "护理站"),
        1000.0,
        "GB 50180-2018 表B: 社区卫生服务中心 15 分钟(800-1000 m); SH2016: 社区卫生服务中心 15 分钟",
        "GB 50180-2018 Table B: community health service centre 15 min (800-1000 m); SH2016: community health service centre 15 min",
    ),
    Category(
        "community_service", "社区服务", "Community services",
        {"amenity": ["community_centre", "townhall", "social_centre"], "office": ["government"]},
        ("community_centre", "town_hall"),
        ("党群服务中心", "党群服务站", "社区事务受理服务中心", "社区服务中心", "社区服务站",
         "家门口服务站", "家门口服务中心", "社区服务综合体", "服务综合体", "邻里中心", "邻里汇", "睦邻中心", "市民驿站", "居委会",
         "街道办事处", "服务站", "活动中心"),
        1000.0,
        "GB 50180-2018 表B: 社区服务中心(街道级) 15 分钟(800-1000 m); SH2016: 社区事务受理/党群服务 15 分钟",
        "GB 50180-2018 Table B: community service centre (subdistrict level) 15 min (800-1000 m); "
        "SH2016: community affairs / Party-and-public service 15 min",
    ),
    Category(
        "market", "菜市场", "Markets",
        {"amenity": ["marketplace"], "shop": ["supermarket", "greengrocer", "convenience"]},
        ("marketplace", "supermarket", "greengrocer"),
        ("标准化菜市场", "菜市场", "菜场", "农贸市场", "生鲜超市", "社区菜店", "菜店",
         "生鲜店", "超市", "市场"),
        500.0,
        "GB 50180-2018 表B: 菜市场或生鲜超市 10 分钟(500 m); SH2016: 菜场 5-10 分钟",
        "GB 50180-2018 Table B: food market or fresh-food supermarket 10 min (500 m); SH2016: food market 5-10 min",
    ),
    Category(
        "education", "教育设施", "Education",
        {"amenity": ["kindergarten", "school", "childcare"]},
        ("kindergarten", "school"),
        ("幼儿园", "宝宝屋", "托育园", "托育点", "托儿所", "托育", "小学", "中学", "初中", "学校"),
        500.0,
        "GB 50180-2018 表B: 小学 10 分钟(500 m), 幼儿园 5 分钟(300 m); SH2016: 幼儿园/小学 5-10 分钟",
        "GB 50180-2018 Table B: primary school 10 min (500 m), kindergarten 5 min (300 m); SH2016: kindergarten / primary school 5-10 min",
    ),
)

# Facility words from the standards and from the brands Shanghai districts use, by where each list
# comes from. They join each category's ``keywords`` (the words seen in policy texts, above); the
# text reader, the geocoder's category check and official-list category columns all read them.
VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    # 上海市15分钟社区生活圈规划导则（试行）2016, 社区公共服务设施配置一览表 (养老/医疗/文化/教育/体育/
    # 商业/行政管理与其他) and its 公共空间 list
    "SH2016": {
        "elderly_care": ("老年人日间照料中心", "长者照护之家", "养老院", "老年活动室"),
        "canteen": ("社区食堂", "助餐服务点"),
        "park": ("社区公园", "小游园", "街头绿地", "广场"),
        "culture": ("社区文化活动中心", "文化活动室", "社区学校", "老年学校", "青少年活动中心", "老年活动中心"),
        "sports": ("综合健身馆", "游泳池", "游泳馆", "运动场", "健身点", "健身步道", "室外综合健身场地"),
        "health": ("社区卫生服务中心", "卫生服务点", "卫生服务站"),
        "community_service": ("社区事务受理服务中心", "社区服务中心", "社区服务站", "居委会", "生活服务中心"),
        "market": ("菜市场", "菜场", "生鲜超市"),
        "education": ("幼儿园", "托儿所", "小学", "初中", "中学"),
    },
    # GB 50180-2018 城市居住区规划设计标准, 附录B 表B.0.1 (15/10-minute) and 表B.0.3 (5-minute
    # 居住街坊) facility lists, and 4.0.4 居住区公园
    "GB 50180-2018": {
        "elderly_care": ("养老院", "老年养护院", "托老所"),
        "canteen": ("社区食堂",),
        "park": ("居住区公园",),
        "culture": ("文化活动中心", "文化活动站", "青少年活动站", "老年活动站"),
        "sports": ("多功能运动场地", "运动场地", "健身房", "室外综合健身场地"),
        "health": ("社区医院", "门诊部"),
        "community_service": ("社区服务站", "街道办事处"),
        "market": ("菜市场", "生鲜超市"),
        "education": ("幼儿园", "托儿所", "小学", "初中"),
    },
    # names Shanghai districts give their community facilities (Pudong 家门口服务站/望江驿/滨江驿站,
    # Yangpu 人人会客厅/人人讲堂/党建微花园, Jing'an/Putuo/Minhang 邻里汇/睦邻中心/社区客厅,
    # city-wide 家庭医生工作室/长者照护之家/市民健身驿站/口袋公园/社区花园 …)
    "brands": {
        "elderly_care": ("长者照护之家", "综合为老服务中心", "养老综合体", "助浴点", "睦邻点"),
        "canteen": ("长者食堂", "老年助餐点"),
        "park": ("口袋公园", "社区花园", "微花园", "农园", "绿林", "城市森林", "滨江森林", "森林公园", "林荫道"),
        "culture": ("城市书房", "书房", "讲堂", "文化一条街", "文化街", "文化客厅"),
        "sports": ("市民健身驿站", "健身驿站", "市民球场", "百姓健身房", "益智健身苑点"),
        "health": ("家庭医生工作室", "健康驿站", "健康小屋"),
        "community_service": ("邻里汇", "睦邻中心", "社区客厅", "会客厅", "党群服务站", "党群服务中心", "望江驿",
                              "滨江驿站", "市民驿站", "家门口服务站", "邻里中心"),
        "market": ("标准化菜市场", "社区菜店"),
        "education": ("宝宝屋", "托育点", "社区托育点"),
    },
}
# Type names of green space (CJJ/T 85-2017 城市绿地分类标准; GB 50180-2018 4.0.4-4.0.7): they
# classify green, they never name one ("对沿街绿地和单位附属绿地进行梳理").
GENERIC_TERMS: tuple[str, ...] = (
    "附属绿地", "单位附属绿地", "居住用地附属绿地", "道路附属绿地", "道路绿地", "沿街绿地", "街旁绿地", "街头绿地",
    "防护绿地", "集中绿地", "宅旁绿地", "公共绿地", "广场绿地", "区域绿地", "公园绿地",
)


def _with_vocabulary(c: Category) -> Category:
    extra = [w for table in VOCABULARY.values() for w in table.get(c.key, ())]
    return replace(c, keywords=tuple(dict.fromkeys((*c.keywords, *extra))))


_CATS = tuple(_with_vocabulary(c) for c in _CATS)
CATEGORIES: dict[str, Category] = {c.key: c for c in _CATS}
CATEGORY_KEYS: tuple[str, ...] = tuple(CATEGORIES)


@dataclass(frozen=True)
class WalkProfile:
    """A walking speed with its citation."""

    key: str
    zh: str
    en: str
    speed_m_per_min: float
    source: str
    source_zh: str

    def cite(self, lang: str) -> str:
        """Where the speed comes from, in ``lang``."""
        return self.source_zh if lang == "zh" else self.source


PROFILES: dict[str, WalkProfile] = {
    "default": WalkProfile(
        "default", "一般步行", "Default walker", 72.0,
        "1.2 m/s; Knoblauch et al. (1996) TRR 1538: 15th-percentile speed of younger pedestrians 1.25 m/s",
        "1.2 米/秒；Knoblauch 等 (1996) TRR 1538：青年行人步速第 15 百分位 1.25 米/秒",
    ),
    "elderly": WalkProfile(
        "elderly", "老年人步行", "Elderly walker", 60.0,
        "1.0 m/s; Knoblauch et al. (1996) TRR 1538: 15th-percentile speed of older pedestrians 0.97 m/s",
        "1.0 米/秒；Knoblauch 等 (1996) TRR 1538：老年行人步速第 15 百分位 0.97 米/秒",
    ),
}


@dataclass(frozen=True)
class ParkClass:
    """A park-size class and the walking radius it must serve (GB/T 50563)."""

    key: str
    zh: str
    en: str
    min_area_m2: float
    radius_m: float
    source: str = "GB/T 50563-2010 城市园林绿化评价标准, 公园绿地服务半径覆盖率"
    source_en: str = "GB/T 50563-2010 Standard for urban landscaping evaluation: park service radius coverage"

    def cite(self, lang: str) -> str:
        """The cited standard in ``lang``."""
        return self.source if lang == "zh" else self.source_en


PARK_CLASSES: tuple[ParkClass, ...] = (
    ParkClass("large", "≥0.5公顷公园绿地", "Park ≥ 0.5 ha", 5000.0, 500.0),
    ParkClass("small", "0.2-0.5公顷公园绿地", "Park 0.2-0.5 ha", 2000.0, 300.0),
)

STATUSES: dict[str, tuple[str, str]] = {
    "existing": ("现状", "existing"),
    "upgrading": ("改造提升", "upgrading"),
    "building": ("在建", "under construction"),
    "planned": ("规划", "planned"),
}
# Other words official lists use in a status column (the keys and labels above are always accepted).
STATUS_ALIASES: dict[str, tuple[str, ...]] = {
    "existing": ("已建", "已建成", "建成", "已完工", "现有", "运营", "在用", "已投用"),
    "upgrading": ("改造", "改建", "扩建", "提升", "改扩建", "升级"),
    "building": ("建设中", "施工中", "正在建设", "已开工"),
    "planned": ("拟建", "待建", "新建", "规划新建", "计划"),
}
# The scenarios of a plan: before it only what stands (upgrading sites stay open or reopen);
# after it also what is being built and what is planned.
SCENARIO_STATUSES: dict[str, tuple[str, ...]] = {
    "before": ("existing", "upgrading"),
    "after": ("existing", "upgrading", "building", "planned"),
}

SOURCES: dict[str, tuple[str, str]] = {
    "osm": ("OSM", "OpenStreetMap"),
    "official": ("官方名录", "official list"),
    "text": ("政策文本", "policy text"),
    "manual": ("人工校正", "manual"),
    "siting": ("选址建议", "siting proposal"),
}

_FCLASS_INDEX: dict[str, str] = {f: c.key for c in _CATS for f in c.fclass}


def label(key: str, lang: str = "zh") -> str:
    """Display label of a category, profile, status or source key."""
    if key in CATEGORIES:
        c = CATEGORIES[key]
        return c.zh if lang == "zh" else c.en
    if key in PROFILES:
        p = PROFILES[key]
        return p.zh if lang == "zh" else p.en
    for table in (STATUSES, SOURCES):
        if key in table:
            return table[key][0 if lang == "zh" else 1]
    return key


def category_for_fclass(fclass: str | None) -> str | None:
    """Taxonomy key for a Geofabrik ``fclass`` value, or None."""
    return _FCLASS_INDEX.get(fclass or "")


def category_for_tags(tags: dict) -> str | None:
    """Taxonomy key for a dict of OSM tags, or None (first category wins)."""
    for c in _CATS:
        for k, vals in c.osm_tags.items():
            v = tags.get(k)
            if v is None or (isinstance(v, float) and v != v):
                continue
            if vals is True or str(v) in vals:
                if k == "amenity" and v == "social_facility":
                    sf = str(tags.get("social_facility", ""))
                    target = str(tags.get("social_facility:for", ""))
                    if c.key == "elderly_care" and ("senior" in target or sf in ("nursing_home", "assisted_living")):
                        return c.key
                    if c.key == "canteen" and sf == "soup_kitchen":
                        return c.key
                    continue
                return c.key
    return None


def osmnx_tags() -> dict[str, bool | str | list[str]]:
    """Union of every category's OSM tags, in osmnx ``features_from_*`` ``tags`` form."""
    tags: dict[str, bool | str | list[str]] = {}
    for c in _CATS:
        for k, vals in c.osm_tags.items():
            prev = tags.get(k)
            if vals is True or prev is True:
                tags[k] = True
            else:
                tags[k] = sorted({*(prev or []), *vals})
    return tags


def taxonomy_table(lang: str = "zh") -> pd.DataFrame:
    """The taxonomy as a table, for the app, the report's sources sheet and docs."""
    rows = []
    for c in _CATS:
        rows.append({
            "key": c.key,
            "label": c.zh if lang == "zh" else c.en,
            "threshold_m": c.threshold_m,
            "standard": c.cite(lang),
            "fclass": ", ".join(c.fclass),
            "osm_tags": "; ".join(f"{k}={'*' if v is True else '|'.join(v)}" for k, v in c.osm_tags.items()),
            "keywords": "、".join(c.keywords),
        })
    return pd.DataFrame(rows)
