"""Fault injection for the Hub emulator.

A ``FaultPlan`` is an ordered list of ``Fault`` rules. For every request the server walks the rules:
``delay`` rules that match sleep and let the walk go on; the first other rule that matches decides the
response. A rule matches a request when all its selectors match (route, author, page, model, path) and
its trigger allows it: ``nth`` (fire from the n-th matching request on), ``times`` (at most that many
firings) and ``prob`` (seeded coin). Faulted requests still count in the stats and against the quota.

Spec grammar (``--faults``), rules separated by ``;``::

    RULE    := KIND [ "=" VALUE ] { "," KEY "=" VALUE }
    KIND    := 429 | status | hang | truncate | html | delay | corrupt
             | trickle | loop | foreign | huge | echo                     (hostile Hubs)
    VALUE   := 429: the mode (ratelimit | retry-after | retry-after-date | bare), status: the code, delay and trickle:
               seconds (per byte for trickle), loop: the mode (self | fresh)
    KEY     := route (listing|info|other|any) | author | page | model | path (substring)
             | nth | times | prob | t (seconds announced by a 429; retry-after-date sends them as an
               HTTP-date) | status | mode | seconds
             | field, value, items (corrupt: set key `field` to the string `value`, or drop it when
               no value is given, in `items` items of the body; 0 = all; huge: the same with a JSON
               number, default 2^63, field default downloads)
             | url (foreign: the origin the next link points at)

Examples::

    429=ratelimit,t=1,times=2                 two 429s with RateLimit r=0;t=1, then normal service
    429=retry-after,t=2,prob=0.1              10 % of requests get 429 + Retry-After: 2 (no RateLimit)
    429=bare,route=listing,times=3            429 without RateLimit nor Retry-After (CloudFront-like)
    status=503,route=listing,author=Qwen,page=1,times=2
    status=500,route=info,nth=5,times=1       the 5th model-info call fails once
    hang,route=info,model=Qwen/Qwen3-8B       accept, never answer (until the server stops)
    truncate,route=listing,author=google,page=1  half a JSON body, status 200
    html,route=info,times=1                   an HTML error page with status 200
    delay=0.5,route=listing                   every listing page takes 0.5 s longer
    corrupt,field=likes,value=12,times=1      one listing item gets "likes": "12" (a string)
    trickle=0.2,route=listing                 headers at once, then the body one byte every 0.2 s
    loop,route=listing,page=2                 page 2 links to itself (Link: the same URL)
    loop=fresh,route=listing                  every page is page 1, linked with a new cursor each time
    foreign,url=http://127.0.0.1:9999         the next link points at another origin
    huge,field=downloadsAllTime,value=1e30    one item gets the JSON number 1e30
    echo,status=403                           an error whose body and X-Error-Message echo the
                                              request's Authorization header (a token leak)
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from dataclasses import field as dc_field

KINDS = ("429", "status", "hang", "truncate", "html", "delay", "corrupt", "trickle", "loop", "foreign", "huge", "echo")
MODES_LOOP = ("self", "fresh")
DROP = object()  # corrupt without a value: remove the field
MODES_429 = ("ratelimit", "retry-after", "retry-after-date", "bare")


@dataclass
class Fault:
    kind: str
    status: int = 503
    mode: str = "ratelimit"  # for 429: ratelimit | retry-after | bare
    t: int = 1  # seconds announced by a 429 (RateLimit t= or Retry-After)
    url: str | None = None  # foreign: the origin the next link points at
    seconds: float = 1.0  # for delay
    field: str | None = None  # for corrupt: the JSON key to alter in the response items
    value: object = DROP  # for corrupt: the value to put there (default: remove the key)
    items: int = 1  # for corrupt: how many items of a listing page (0 = all)
    route: str = "any"
    author: str | None = None
    page: int | None = None
    model: str | None = None
    path: str | None = None
    nth: int = 1
    times: int | None = None
    prob: float | None = None
    seen: int = dc_field(default=0, compare=False)
    fired: int = dc_field(default=0, compare=False)

    def __post_init__(self):
        self.kind = str(self.kind)
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.kind == "429" and self.mode not in MODES_429:
            raise ValueError(f"unknown 429 mode {self.mode!r}; expected one of {', '.join(MODES_429)}")
        if self.kind == "corrupt" and not self.field:
            raise ValueError("a corrupt fault needs field=<json key>")
        if self.kind == "huge" and not self.field:
            self.field = "downloads"
        if self.kind == "loop" and self.mode not in MODES_LOOP:
            self.mode = "self" if self.mode == "ratelimit" else self.mode  # the dataclass default
            if self.mode not in MODES_LOOP:
                raise ValueError(f"unknown loop mode {self.mode!r}; expected one of {', '.join(MODES_LOOP)}")
        if self.kind == "echo" and self.status == 503:
            self.status = 403
        if self.route not in ("any", "listing", "info", "other"):
            raise ValueError(f"unknown route {self.route!r}; expected any, listing, info or other")

    def selects(self, req: dict) -> bool:
        if self.route != "any" and req["route"] != self.route:
            return False
        if self.author is not None and (req.get("author") or "").lower() != self.author.lower():
            return False
        if self.page is not None and req.get("page") != self.page:
            return False
        if self.model is not None and req.get("model") != self.model:
            return False
        return self.path is None or self.path in req["path"]

    def spec(self) -> str:
        head = {
            "429": f"429={self.mode}",
            "status": f"status={self.status}",
            "delay": f"delay={self.seconds}",
            "trickle": f"trickle={self.seconds}",
            "loop": f"loop={self.mode}",
            "echo": f"echo,status={self.status}",
        }
        parts = [head.get(self.kind, self.kind)]
        if self.kind == "429":
            parts.append(f"t={self.t}")
        if self.kind == "foreign" and self.url:
            parts.append(f"url={self.url}")
        if self.kind in ("corrupt", "huge"):
            parts.append(f"field={self.field}")
            if self.value is not DROP:
                parts.append(f"value={self.value}")
            if self.items != 1:
                parts.append(f"items={self.items}")
        for key in ("route", "author", "page", "model", "path", "nth", "times", "prob"):
            v = getattr(self, key)
            if v is not None and not (key == "route" and v == "any") and not (key == "nth" and v == 1):
                parts.append(f"{key}={v}")
        return ",".join(parts)


_INT_KEYS = {"status", "t", "page", "nth", "times", "items"}
_FLOAT_KEYS = {"seconds", "prob"}


def parse_rule(text: str) -> Fault:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("empty fault rule")
    kind, _, value = parts[0].partition("=")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r} in {text.strip()!r}; kinds: {', '.join(KINDS)}")
    kw: dict = {}
    if value:
        if kind == "429":
            kw["mode"] = value.strip()
        elif kind == "status":
            kw["status"] = _number(int, value, "status", text)
        elif kind in ("delay", "trickle"):
            kw["seconds"] = _number(float, value, kind, text)
        elif kind == "loop":
            kw["mode"] = value.strip()
        else:
            raise ValueError(f"fault kind {kind!r} takes no value (got {parts[0]!r})")
    for p in parts[1:]:
        key, eq, val = p.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(f"expected KEY=VALUE in fault rule {text!r}, got {p!r}")
        if key not in Fault.__dataclass_fields__ or key in ("kind", "seen", "fired"):
            raise ValueError(f"unknown fault key {key!r} in {text!r}")
        kw[key] = (
            _number(int, val, key, text)
            if key in _INT_KEYS
            else _number(float, val, key, text)
            if key in _FLOAT_KEYS
            else val.strip()
        )
    return Fault(kind=kind, **kw)


def _number(kind: type, value: str, key: str, text: str):
    """`status=abc` says which key wants what, not "invalid literal for int()"."""
    try:
        return kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{key} must be {what}, got {value.strip()!r} in {text.strip()!r}") from None


class FaultPlan:
    """An ordered, thread-safe, mutable list of fault rules (seeded for ``prob`` rules)."""

    def __init__(self, rules=None, seed: int = 0):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rules: list[Fault] = []
        for r in rules or []:
            self.add(r)

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        for chunk in (spec or "").split(";"):
            if chunk.strip():
                plan.add(parse_rule(chunk))
        return plan

    def add(self, rule=None, /, **kw) -> Fault:
        """``add(Fault(...))``, ``add("status=503,page=3")`` or ``add("status", status=503, page=3)``."""
        if isinstance(rule, Fault):
            fault = rule
        elif isinstance(rule, str) and ("=" in rule or "," in rule) and not kw:
            fault = parse_rule(rule)
        else:
            fault = Fault(kind=str(rule if rule is not None else kw.pop("kind")), **kw)
        with self._lock:
            self.rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def __len__(self) -> int:
        return len(self.rules)

    def __str__(self) -> str:
        return ";".join(r.spec() for r in self.rules)

    def decide(self, req: dict) -> tuple[float, Fault | None]:
        """Return (total delay seconds, the terminal fault or None) for a request; updates counters."""
        delay = 0.0
        with self._lock:
            for f in self.rules:
                if not f.selects(req):
                    continue
                f.seen += 1
                if f.seen < f.nth or (f.times is not None and f.fired >= f.times):
                    continue
                if f.prob is not None and self._rng.random() >= f.prob:
                    continue
                f.fired += 1
                if f.kind == "delay":
                    delay += f.seconds
                    continue
                return delay, f
        return delay, None
