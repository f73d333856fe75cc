"""Opt-in online geocoding: Tianditu (天地图) and Amap (高德), key-gated, cached, rate-limited, WGS-84.

Nothing here touches the network without a key: :func:`make_provider` returns
``None`` when neither the caller nor the environment (:data:`KEY_ENV`) gives
one, and every caller skips the lookup then.

What is implemented, against each API's documented request/response format:

- **Tianditu geocoder** (地理编码, http://lbs.tianditu.gov.cn/server/geocodinginterface.html):
  ``GET https://api.tianditu.gov.cn/geocoder?ds={"keyWord": ADDRESS}&tk=KEY`` →
  ``{"status": "0", "msg": "ok", "location": {"lon", "lat", "score", "level", "keyWord"}}``;
  ``status`` ``101`` = no result, ``404`` = error. CGCS2000, equal to WGS-84 at metre level.
- **Tianditu place search V2.0** (地名搜索, http://lbs.tianditu.gov.cn/server/search2.html),
  administrative-area search (``queryType`` 12) inside ``specify`` (Shanghai ``156310000``):
  ``GET https://api.tianditu.gov.cn/v2/search?postStr={...}&type=query&tk=KEY`` →
  ``{"resultType": 1, "count": N, "pois": [{"name", "address", "lonlat": "lon,lat", "county", "hotPointID", ...}],
  "status": {"infocode": 1000, "cndesc": "服务正常"}}``; ``infocode`` other than 1000 is an error.
  A rejected key or an exhausted daily quota is answered by the gateway, not the service:
  HTTP 403/429 with a JSON body ``{"code": ..., "msg": ..., "resolve": ...}`` (this shape is not in
  the published docs; the wording of ``msg`` decides between key and quota).
- **Amap POI search 2.0** (搜索POI 2.0 关键字搜索, https://lbs.amap.com/api/webservice/guide/api-advanced/newpoisearch):
  ``GET https://restapi.amap.com/v5/place/text?key=KEY&keywords=Q&region=上海市&city_limit=true`` →
  ``{"status": "1", "info": "OK", "infocode": "10000", "count": "N", "pois": [{"name", "id", "location":
  "lon,lat", "address", "adname", "type", ...}]}``; errors are ``status "0"`` with ``info``/``infocode``
  from the error-code table (https://lbs.amap.com/api/webservice/guide/tools/info): 10001
  INVALID_USER_KEY, 10003 DAILY_QUERY_OVER_LIMIT, 10004 ACCESS_TOO_FREQUENT ... Coordinates are
  GCJ-02 and converted with :func:`geo.coords.to_wgs84`.

Answers (successful ones, including "nothing found") are cached on disk under
``<data>/cache/providers/<provider>/`` keyed by provider, endpoint and query
(never the key). Requests are spaced per provider (:data:`MIN_INTERVAL_S`).
Failures raise :class:`ProviderError` with one line that says what happened:
no internet / no answer, a rejected key, a used-up quota — never "not found".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .coords import to_wgs84
from .errors import InputError, LifecircleError
from .io import atomic_file
from .names import nfkc, strip_punct

__all__ = [
    "KEY_ENV",
    "MIN_INTERVAL_S",
    "PROVIDERS",
    "TIMEOUT_S",
    "Amap",
    "Place",
    "Provider",
    "ProviderError",
    "Tianditu",
    "cache_dir",
    "make_provider",
    "provider_from_env",
    "provider_key",
    "provider_label",
]

# provider -> (zh, en) display name
PROVIDERS: dict[str, tuple[str, str]] = {
    "tianditu": ("天地图", "Tianditu"),
    "amap": ("高德", "Amap"),
}
# the one place keys are read from the environment
KEY_ENV: dict[str, str] = {"tianditu": "LIFECIRCLE_TIANDITU_KEY", "amap": "LIFECIRCLE_AMAP_KEY"}
# seconds between two requests to one provider (at most 2.5 a second): below the per-second limits
# Amap sets for personal web-service keys (流量限制说明, a few queries a second) and polite to
# Tianditu, which publishes daily quotas per key but no rate. A planner's text has tens of misses.
MIN_INTERVAL_S: dict[str, float] = {"tianditu": 0.4, "amap": 0.4}
TIMEOUT_S = 10.0
SHANGHAI_TIANDITU = "156310000"  # 9-digit admin code (行政区划编码) of 上海市 for V2.0 search `specify`


def provider_label(provider: str, lang: str = "zh") -> str:
    """Display name of a provider (the key itself when unknown)."""
    pair = PROVIDERS.get(provider)
    return provider if pair is None else pair[0 if lang == "zh" else 1]


@dataclass(frozen=True)
class Place:
    """One answer of a provider, in WGS-84.

    ``confidence`` is 0-1: the provider's own score where it gives one (the
    Tianditu geocoder), otherwise how well the returned name or address agrees
    with the query. ``kind`` is ``poi`` or ``address``.
    """

    name: str
    address: str
    lon: float
    lat: float
    provider: str
    confidence: float
    kind: str = "poi"
    ref: str = ""  # the provider's id (Amap id, Tianditu hotPointID)
    district: str = ""


class ProviderError(LifecircleError):
    """An online provider could not answer. ``kind``: offline, timeout, bad_key, quota, refused, bad_answer."""

    def __init__(self, zh: str, en: str, kind: str, provider: str):
        super().__init__(zh, en)
        self.kind, self.provider = kind, provider

    def __reduce__(self):  # copy/pickle with kind and provider (LifecircleError rebuilds from zh, en, path)
        return (self.__class__, (self.zh, self.en, self.kind, self.provider))


# --------------------------------------------------------------------------- keys, cache, pacing
def provider_key(provider: str, key: str | None = None) -> str:
    """The key to use: ``key`` when given (the app's field), else the environment variable, else ``''``."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    from . import settings

    return (key or "").strip() or settings.provider_key(KEY_ENV[provider])


def cache_dir() -> Path:
    """``<data>/cache/providers`` (``LIFECIRCLE_DATA_DIR`` moves ``data/``)."""
    from .settings import data_dir

    return data_dir() / "cache" / "providers"


_PACE_LOCK = threading.Lock()
_LAST_CALL: dict[str, float] = {}


def _similarity(query: str, found: str) -> float:
    """0-1 agreement of two names or addresses (NFKC; punctuation, brackets and 上海市 prefix ignored)."""
    from rapidfuzz import fuzz

    def norm(s: str) -> str:
        return re.sub(r"^上海市?", "", strip_punct(s).replace("（", "").replace("）", "").replace("(", "").replace(")", ""))

    a, b = norm(query), norm(found)
    if not a or not b:
        return 0.0
    return round(fuzz.ratio(a, b) / 100.0, 3)


# --------------------------------------------------------------------------- providers
class Provider:
    """Base class: HTTP GET with timeout, pacing, on-disk cache and error wording.

    Parameters
    ----------
    key : str
        The provider key (required: a provider object is never made without one).
    session : object with ``get(url, params=..., timeout=...)``, optional
        A ``requests.Session`` (default) or a test stub.
    cache : path or None
        Cache folder (default :func:`cache_dir`); ``False`` disables caching.
    min_interval : float, optional
        Seconds between requests (default :data:`MIN_INTERVAL_S`).
    """

    name = ""
    datum = "wgs84"

    def __init__(self, key: str, *, session: Any = None, cache: str | Path | bool | None = None,
                 min_interval: float | None = None, timeout: float = TIMEOUT_S,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        if not key:
            raise ValueError("a provider needs a key")
        self.key = key
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self.cache = None if cache is False else Path(cache) if isinstance(cache, (str, Path)) else cache_dir()
        self.min_interval = MIN_INTERVAL_S[self.name] if min_interval is None else float(min_interval)
        self.timeout = timeout
        self._sleep, self._clock = sleep, clock
        self.calls = 0  # requests actually sent (cache misses)

    @property
    def label(self) -> tuple[str, str]:
        return PROVIDERS[self.name]

    # ---- plumbing
    def _cache_path(self, endpoint: str, params: Mapping[str, Any]) -> Path | None:
        if self.cache is None:
            return None
        blob = json.dumps([self.name, endpoint, dict(sorted(params.items()))], ensure_ascii=False)
        return self.cache / self.name / (hashlib.sha1(blob.encode("utf-8")).hexdigest() + ".json")

    def _pace(self) -> None:
        with _PACE_LOCK:
            last = _LAST_CALL.get(self.name)
            now = self._clock()
            if last is not None and now - last < self.min_interval:
                self._sleep(self.min_interval - (now - last))
            _LAST_CALL[self.name] = self._clock()

    def _err(self, kind: str, zh: str, en: str) -> ProviderError:
        pz, pe = self.label
        return ProviderError(f"{pz}：{zh}", f"{pe}: {en}", kind, self.name)

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict:
        """JSON answer of ``endpoint`` for ``params`` (key added here, never cached or logged)."""
        path = self._cache_path(endpoint, params)
        if path is not None and path.exists():
            try:
                return json.loads(path.read_text(encoding="utf-8"))["response"]
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache entry is fetched again
        import requests

        self._pace()
        self.calls += 1
        try:
            resp = self.session.get(endpoint, params={**params, **self._key_param()}, timeout=self.timeout)
        except requests.Timeout:
            raise self._err("timeout", f"服务在 {self.timeout:.0f} 秒内没有应答，请稍后再试。",
                            f"the service did not answer within {self.timeout:.0f} s; try again later.") from None
        except requests.RequestException:
            raise self._err("offline", "无法连接服务（没有网络，或服务没有应答）；本次未做在线查询。",
                            "cannot reach the service (no internet, or it did not answer); nothing was looked up online.") from None
        data = self._parse(resp)
        self._check(resp.status_code, data)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as tmp:
                Path(tmp).write_text(json.dumps({"provider": self.name, "endpoint": endpoint, "params": params,
                                                 "response": data}, ensure_ascii=False), encoding="utf-8")
        return data

    def _parse(self, resp) -> dict:
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if resp.status_code in (401, 403):
                raise self._err("bad_key", "密钥被拒绝（无效、过期或无此服务权限）。",
                                "the key was refused (invalid, expired or not enabled for this service).")
            raise self._err("bad_answer", f"服务返回了无法识别的内容（HTTP {resp.status_code}）。",
                            f"the service sent an answer that is not JSON (HTTP {resp.status_code}).")
        return data

    def _key_param(self) -> dict[str, str]:
        raise NotImplementedError

    def _check(self, http_status: int, data: dict) -> None:
        raise NotImplementedError

    # ---- public
    def search(self, name: str, *, district: str = "") -> list[Place]:
        """POI search by name in Shanghai; places in ``district`` first. ``[]`` when nothing is found."""
        raise NotImplementedError

    def geocode_address(self, address: str) -> list[Place]:
        """Places for a street address (``双阳路399号``). ``[]`` when nothing is found."""
        raise NotImplementedError


# Tianditu gateway messages: these words mean a quota or rate limit; any other refusal is about the key
_QUOTA_WORDS = re.compile(r"超|配额|额度|频繁|访问量|次数|quota|limit|exceed|frequent", re.IGNORECASE)


class Tianditu(Provider):
    """天地图: geocoder for addresses, V2.0 administrative-area search for names. CGCS2000 ≈ WGS-84."""

    name = "tianditu"
    GEOCODER = "https://api.tianditu.gov.cn/geocoder"
    SEARCH = "https://api.tianditu.gov.cn/v2/search"

    def __init__(self, key: str, *, specify: str = SHANGHAI_TIANDITU, **kw):
        super().__init__(key, **kw)
        self.specify = specify

    def _key_param(self) -> dict[str, str]:
        return {"tk": self.key}

    def _check(self, http_status: int, data: dict) -> None:
        if "status" not in data and ("msg" in data or "code" in data) or http_status in (401, 403, 429):
            msg = nfkc(data.get("msg") or data.get("resolve") or "")
            if http_status == 429 or _QUOTA_WORDS.search(msg):
                raise self._err("quota", f"今日调用次数已用完或访问过于频繁（{msg or http_status}），请明天再试或换用其他密钥。",
                                f"the daily quota is used up or requests are too frequent ({msg or http_status}); "
                                "try tomorrow or use another key.")
            raise self._err("bad_key", f"密钥被拒绝（{msg or http_status}），请检查 {KEY_ENV[self.name]} 或应用中填写的密钥。",
                            f"the key was refused ({msg or http_status}); check {KEY_ENV[self.name]} or the key typed in the app.")
        status = data.get("status")
        if isinstance(status, dict):  # V2.0 search
            code = str(status.get("infocode", ""))
            if code not in ("1000", ""):
                desc = nfkc(status.get("cndesc", ""))
                raise self._err("refused", f"服务拒绝了查询（{code} {desc}）。", f"the service refused the query ({code} {desc}).")
        elif status is not None and str(status) not in ("0", "101"):  # geocoder: 0 ok, 101 no result
            msg = nfkc(data.get("msg", ""))
            raise self._err("refused", f"服务出错（{status} {msg}）。", f"the service failed ({status} {msg}).")
        if http_status >= 400:
            raise self._err("refused", f"服务出错（HTTP {http_status}）。", f"the service failed (HTTP {http_status}).")

    def geocode_address(self, address: str) -> list[Place]:
        q = nfkc(address)
        if not q:
            return []
        if not q.startswith("上海"):
            q = "上海市" + q
        data = self._get(self.GEOCODER, {"ds": json.dumps({"keyWord": q}, ensure_ascii=False)})
        loc = data.get("location")
        if str(data.get("status")) != "0" or not isinstance(loc, dict):
            return []
        try:
            lon, lat = float(loc["lon"]), float(loc["lat"])
        except (KeyError, TypeError, ValueError):
            return []
        if "score" in loc:
            conf = max(0.0, min(1.0, float(loc["score"]) / 100.0))
        else:  # no score: a door-number hit (门址) is good, a place-name hit is rough
            conf = 0.9 if "门址" in str(loc.get("level", "")) else 0.6
        return [Place(name="", address=q, lon=lon, lat=lat, provider=self.name, confidence=round(conf, 3),
                      kind="address")]

    def search(self, name: str, *, district: str = "") -> list[Place]:
        q = nfkc(name)
        if not q:
            return []
        post = {"keyWord": q, "queryType": 12, "specify": self.specify, "start": 0, "count": 10}
        data = self._get(self.SEARCH, {"postStr": json.dumps(post, ensure_ascii=False), "type": "query"})
        if int(data.get("resultType") or 1) != 1:  # 2 statistics, 3 an admin area, 4 suggestions: no POI
            return []
        out = []
        for p in data.get("pois") or []:
            xy = re.split(r"[,\s]+", str(p.get("lonlat", "")).strip())
            try:
                lon, lat = float(xy[0]), float(xy[1])
            except (IndexError, ValueError):
                continue
            out.append(Place(name=nfkc(p.get("name")), address=nfkc(p.get("address")), lon=lon, lat=lat,
                             provider=self.name, confidence=_similarity(q, p.get("name", "")),
                             ref=str(p.get("hotPointID", "")), district=nfkc(p.get("county"))))
        return _district_first(out, district)


# Amap infocodes (错误码说明): key problems and quota problems; anything else is a refusal
_AMAP_KEY = {"10001", "10002", "10005", "10006", "10007", "10008", "10009", "10010", "10011", "10012", "10013"}
_AMAP_QUOTA = {"10003", "10004", "10014", "10015", "10019", "10020", "10021", "10044", "10045"}


class Amap(Provider):
    """高德: POI search 2.0 (``/v5/place/text``) for names and addresses. GCJ-02, converted to WGS-84."""

    name = "amap"
    datum = "gcj02"
    SEARCH = "https://restapi.amap.com/v5/place/text"

    def __init__(self, key: str, *, region: str = "上海市", **kw):
        super().__init__(key, **kw)
        self.region = region

    def _key_param(self) -> dict[str, str]:
        return {"key": self.key}

    def _check(self, http_status: int, data: dict) -> None:
        if str(data.get("status")) == "1":
            return
        code, info = str(data.get("infocode", "")), nfkc(data.get("info", ""))
        if code in _AMAP_KEY:
            raise self._err("bad_key", f"密钥被拒绝（{info} {code}），请检查 {KEY_ENV[self.name]} 或应用中填写的密钥"
                            "（须为“Web服务”类型）。",
                            f"the key was refused ({info} {code}); check {KEY_ENV[self.name]} or the key typed in the "
                            "app (it must be a 'Web service' key).")
        if code in _AMAP_QUOTA:
            raise self._err("quota", f"调用次数已用完或访问过于频繁（{info} {code}），请稍后或明天再试。",
                            f"the quota is used up or requests are too frequent ({info} {code}); try later or tomorrow.")
        raise self._err("refused", f"服务拒绝了查询（{info} {code}）。", f"the service refused the query ({info} {code}).")

    def _pois(self, keywords: str) -> list[dict]:
        data = self._get(self.SEARCH, {"keywords": keywords, "region": self.region, "city_limit": "true",
                                       "page_size": 10, "page_num": 1})
        return [p for p in data.get("pois") or [] if isinstance(p, dict)]

    def _places(self, pois: list[dict], score: Callable[[dict], float], kind: str) -> list[Place]:
        rows = []
        for p in pois:
            xy = str(p.get("location", "")).split(",")
            try:
                rows.append((p, float(xy[0]), float(xy[1])))
            except (IndexError, ValueError):
                continue
        if not rows:
            return []
        lon, lat = to_wgs84([r[1] for r in rows], [r[2] for r in rows], self.datum)
        return [Place(name=nfkc(p.get("name")), address=nfkc(p.get("address")), lon=float(x), lat=float(y),
                      provider=self.name, confidence=score(p), kind=kind, ref=str(p.get("id", "")),
                      district=nfkc(p.get("adname")))
                for (p, _, _), x, y in zip(rows, lon, lat)]

    def search(self, name: str, *, district: str = "") -> list[Place]:
        q = nfkc(name)
        if not q:
            return []
        return _district_first(self._places(self._pois(q), lambda p: _similarity(q, p.get("name", "")), "poi"),
                               district)

    def geocode_address(self, address: str) -> list[Place]:
        q = nfkc(address)
        if not q:
            return []
        # a POI search on the address: the answer's address (or name) must agree with the query
        return self._places(self._pois(q), lambda p: max(_similarity(q, p.get("address", "")),
                                                         _similarity(q, p.get("name", ""))), "address")


def _district_first(places: list[Place], district: str) -> list[Place]:
    """Places in ``district`` (when any is), best confidence first."""
    d = re.sub(r"(区|县)$", "", nfkc(district))
    if d:
        inside = [p for p in places if p.district and re.sub(r"(区|县)$", "", p.district) == d]
        places = inside or places
    return sorted(places, key=lambda p: -p.confidence)


_CLASSES: dict[str, type[Provider]] = {"tianditu": Tianditu, "amap": Amap}


def provider_from_env(provider: str | None, **kw) -> Provider | None:
    """The CLI's ``--provider`` client, its key from :data:`KEY_ENV`; ``None`` without ``--provider``.

    Raises
    ------
    InputError
        ``--provider`` given but its environment variable is not set (before any request).
    """
    if not provider:
        return None
    client = make_provider(provider, **kw)
    if client is None:
        raise InputError(f"使用{provider_label(provider, 'zh')}需要密钥：请设置环境变量 {KEY_ENV[provider]}。",
                         f"{provider_label(provider, 'en')} needs a key: set the environment variable {KEY_ENV[provider]}.")
    return client


def make_provider(provider: str | None, key: str | None = None, **kw) -> Provider | None:
    """A provider client, or ``None`` when ``provider`` is empty or no key is known (nothing is called then).

    The key is ``key`` (typed in the app) or the environment variable :data:`KEY_ENV` ``[provider]``.
    """
    if not provider:
        return None
    k = provider_key(provider, key)
    return _CLASSES[provider](k, **kw) if k else None
