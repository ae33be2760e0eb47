"""The protocol: config/config.yaml loaded, validated and turned into the requests a capture sends.

Validation is JSON Schema (workflow/schemas/config.schema.yaml) plus the checks a schema cannot
express (a date range that runs backwards, a written PubMed query that no longer matches its
structured term and limits, two searches with one id). Every failure is one line naming the key
path, e.g. ``config/config.yaml: searches[0].term: must not be empty``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from reprisma.errors import ReprismaError
from reprisma.paths import SCHEMA_DIR

CONFIG_SCHEMA = SCHEMA_DIR / "config.schema.yaml"
EUTILS_DEFAULT = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
CTGOV_DEFAULT = "https://clinicaltrials.gov/api/v2"
PUBMED_EARLIEST = "1800/01/01"
PUBMED_LATEST = "3000/12/31"


class ProtocolError(ReprismaError, ValueError):
    """A protocol file that cannot be used; the message is one line naming the key."""


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(key path, what was expected) for one schema error."""
    path = list(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return _key_path(path + [extra[0]]), f"unknown key (allowed here: {', '.join(allowed)})"
    if v == "required":
        missing = error.message.split("'")[1]
        return _key_path(path + [missing]), "required key is missing"
    if v == "type":
        return _key_path(path), f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if v == "enum":
        return _key_path(path), f"expected one of {', '.join(map(str, error.validator_value))}, got {error.instance!r}"
    if v in ("minLength", "pattern") and isinstance(error.instance, str) and not error.instance.strip():
        return _key_path(path), "must not be empty"
    if v == "pattern":
        return _key_path(path), f"{error.instance!r} does not match {error.validator_value!r}"
    if v == "minItems":
        return _key_path(path), f"needs at least {error.validator_value} item(s)"
    if v == "anyOf" and path and str(path[-1]).startswith("date"):
        return _key_path(path), f"expected a date YYYY-MM-DD or null, got {error.instance!r}"
    return _key_path(path), error.message


def _with_defaults(validator_cls):
    """A validator that also fills in schema defaults (the jsonschema FAQ recipe)."""
    validate_props = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


_SCHEMA = yaml.safe_load(CONFIG_SCHEMA.read_text())
_Validator = _with_defaults(jsonschema.Draft202012Validator)


def pubmed_query(term: str, limits: dict, window: tuple[str | None, str | None]) -> str:
    """The PubMed query string for a term, its language limit and a publication-date window."""
    parts = [term if " " not in term.strip() else f"({term})"]
    langs = limits.get("languages") or []
    if langs:
        lang = " OR ".join(f"{x}[la]" for x in langs)
        parts.append(lang if len(langs) == 1 else f"({lang})")
    start, end = window
    if start or end:
        field = limits["date_field"]
        lo = start.replace("-", "/") if start else PUBMED_EARLIEST
        hi = end.replace("-", "/") if end else PUBMED_LATEST
        parts.append(f'("{lo}"[{field}] : "{hi}"[{field}])')
    return " AND ".join(parts)


def ctgov_params(search: dict, window: tuple[str | None, str | None]) -> dict[str, str]:
    """The /api/v2/studies query parameters of a registry search (paging parameters excluded)."""
    params: dict[str, str] = {}
    for key, param in (("intervention", "query.intr"), ("condition", "query.cond"), ("term", "query.term")):
        if search.get(key):
            params[param] = search[key]
    if search.get("overall_status"):
        params["filter.overallStatus"] = ",".join(search["overall_status"])
    start, end = window
    if start or end:
        params["filter.advanced"] = f"AREA[StudyFirstPostDate]RANGE[{start or 'MIN'},{end or 'MAX'}]"
    return params


@dataclass(frozen=True)
class Search:
    """One search as the capture sends it."""

    id: str
    source: str
    window: tuple[str | None, str | None]
    query: str  # the PubMed term as sent, or the CT.gov parameters as a query string
    params: dict
    reported_count: int | None
    spec: dict
    limits: dict  # PubMed: the limits as applied (refresh date field included); CT.gov: {}

    @property
    def database(self) -> str:
        return {"pubmed": "PubMed", "ctgov": "ClinicalTrials.gov"}[self.source]


@dataclass(frozen=True)
class Protocol:
    config: dict
    source_path: str

    @property
    def id(self) -> str:
        return self.config["protocol"]["id"]

    @property
    def refresh(self) -> dict | None:
        r = self.config.get("refresh")
        return r if r and r.get("enabled") else None

    def window(self, spec: dict) -> tuple[str | None, str | None]:
        if self.refresh:
            # A registry search is rerun in full (no lower bound), so that a trial registered
            # before the cut-off that has become "completed" since is found.
            if spec["source"] == "ctgov":
                return None, self.refresh.get("date_to")
            return self.refresh.get("date_from"), self.refresh.get("date_to")
        lim = spec.get("limits") or {}
        if spec["source"] == "pubmed":
            return lim.get("date_from"), lim.get("date_to")
        return lim.get("first_posted_from"), lim.get("first_posted_to")

    def limits(self, spec: dict) -> dict:
        """A PubMed search's limits, with the refresh's date field when a refresh is on."""
        if self.refresh:
            return {**spec["limits"], "date_field": self.refresh["date_field"]}
        return spec["limits"]

    @property
    def searches(self) -> list[Search]:
        out = []
        for spec in self.config["searches"]:
            window = self.window(spec)
            if spec["source"] == "pubmed":
                limits = self.limits(spec)
                q = pubmed_query(spec["term"], limits, window)
                params = {"db": "pubmed", "term": q}
            else:
                limits = {}
                params = ctgov_params(spec, window)
                q = "&".join(f"{k}={v}" for k, v in params.items())
            out.append(Search(spec["id"], spec["source"], window, q, params, spec.get("reported_count"), spec, limits))
        return out

    @property
    def inherits(self) -> dict | None:
        """What an update protocol inherited (file, protocol id, hash) and the values it changed,
        each with the assumption stated next to the new value (None for a protocol of its own)."""
        inh = self.config.get("inherits")
        if not inh:
            return None
        out = [{**change, "assumption": _assumption_for(self.config, change["key"])} for change in inh["overrides"]]
        return {**inh, "overrides": out}

    @property
    def known_items(self) -> list[dict]:
        return list(self.config.get("known_items") or [])

    def searches_sha256(self) -> str:
        """Hash of exactly what a capture sends: a snapshot stays valid while this is unchanged."""
        payload = [{"id": s.id, "source": s.source, "params": s.params} for s in self.searches]
        return sha256_json({"protocol": self.id, "searches": payload})

    def assumptions(self) -> list[dict]:
        """Every stated assumption with the key path of the value it explains."""
        out = []

        def collect(prefix: str, block: dict):
            for key, text in (block.get("assumptions") or {}).items():
                value = block.get(key, (block.get("limits") or {}).get(key))
                out.append({"key": f"{prefix}.{key}", "value": value, "assumption": " ".join(text.split())})

        for i, spec in enumerate(self.config["searches"]):
            collect(f"searches[{i}]({spec['id']})", spec)
        for name in ("refresh", "eligibility"):
            if self.config.get(name):
                collect(name, self.config[name])
        return out


def _assumption_for(config: dict, key: str) -> str | None:
    """The assumption stated next to the value at ``key`` (``refresh.date_to``,
    ``searches[ctgov_lsd].limits.first_posted_to``, ``searches[new_search]``)."""
    parts = key.split(".")
    block = config
    head = parts[0]
    if head.startswith("searches["):
        sid = head[len("searches["):-1]
        block = next((s for s in config.get("searches", []) if s.get("id") == sid), {})
        parts = parts[1:]
    else:
        block = config.get(head) or {}
        parts = parts[1:]
    if parts and parts[0] == "limits":
        parts = parts[1:]
    stated = (block.get("assumptions") or {}) if isinstance(block, dict) else {}
    if not parts:  # a whole block added: all it states
        return " ".join(" ".join(str(v).split()) for v in stated.values()) or None
    text = stated.get(parts[-1])
    return " ".join(text.split()) if text else None


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def _check_dates(where: str, start: str | None, end: str | None):
    if start and end and date.fromisoformat(start) > date.fromisoformat(end):
        raise ProtocolError(f"{where}: date range reversed ({start} is after {end})")


def validate_config(config: dict, source_path: str = "config/config.yaml") -> Protocol:
    """Validate a config dict (as Snakemake loaded it), fill defaults, return the Protocol."""
    config = copy.deepcopy(config)
    errors = sorted(_Validator(_SCHEMA).iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        # the deepest error is the most specific one (if/then branches report at the leaf)
        err = max(errors, key=lambda e: len(e.absolute_path))
        key, what = _describe(err)
        raise ProtocolError(f"{source_path}: {key}: {what}")
    seen = set()
    for i, spec in enumerate(config["searches"]):
        where = f"{source_path}: searches[{i}]"
        if spec["id"] in seen:
            raise ProtocolError(f"{where}.id: duplicate search id {spec['id']!r}")
        seen.add(spec["id"])
        lim = spec.get("limits") or {}
        if spec["source"] == "pubmed":
            _check_dates(f"{where}.limits", lim.get("date_from"), lim.get("date_to"))
            expected = pubmed_query(spec["term"], lim, (lim.get("date_from"), lim.get("date_to")))
            if " ".join(spec["query"].split()) != expected:
                raise ProtocolError(
                    f"{where}.query: does not match term and limits; expected {expected!r}")
        else:
            _check_dates(f"{where}.limits", lim.get("first_posted_from"), lim.get("first_posted_to"))
    r = config.get("refresh")
    if r and r.get("enabled"):
        for k in ("date_from", "date_to"):
            if not r.get(k):
                raise ProtocolError(f"{source_path}: refresh.{k}: required key is missing when refresh is enabled")
        _check_dates(f"{source_path}: refresh", r["date_from"], r["date_to"])
    # The PRISMA2020 R package / Shiny app reads exclusion reasons as "reason, n; reason, n": it
    # cuts a reason at its first comma and splits at every semicolon (reports/prisma2020.csv)
    for i, reason in enumerate((config.get("screening") or {}).get("exclusion_reasons") or []):
        bad = sorted({c for c in reason if c in ",;"})
        if bad:
            raise ProtocolError(
                f"{source_path}: screening.exclusion_reasons[{i}]: {reason!r} contains {' and '.join(map(repr, bad))}; "
                "the PRISMA2020 app reads reasons as 'reason, n; reason, n' and would cut it there: reword it "
                "(e.g. with a dash or 'or')")
    return Protocol(config, source_path)


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ProtocolError(f"{path}:{line}:{col}: not UTF-8 (byte 0x{data[e.start]:02x}, as a Latin-1 "
                            "editor writes é); save the file as UTF-8") from None


def _yaml_error(path: Path, e: yaml.YAMLError) -> ProtocolError:
    mark = getattr(e, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    return ProtocolError(f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}")


def _key_lines(path: Path, node, keys: tuple = (), lines: dict | None = None) -> dict:
    """Line of every key path in a composed YAML document; a key given twice in one mapping is
    an error naming both lines (PyYAML would silently keep the last)."""
    lines = {} if lines is None else lines
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            if k.tag == "tag:yaml.org,2002:merge":
                _key_lines(path, v, keys, lines)
                continue
            line = k.start_mark.line + 1
            if k.value in seen:
                raise ProtocolError(f"{path}:{line}: {_key_path(keys + (k.value,))}: duplicate key (first given at "
                                    f"line {seen[k.value]}); a YAML key counts once, remove or merge one of them")
            seen[k.value] = line
            lines[keys + (k.value,)] = line
            _key_lines(path, v, keys + (k.value,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[keys + (i,)] = item.start_mark.line + 1
            _key_lines(path, item, keys + (i,), lines)
    return lines


def read_protocol_file(path: str | Path) -> tuple[dict, dict]:
    """A protocol file strictly read: (config, line of every key path). UTF-8 only, valid YAML,
    no key given twice; every problem is one ``file:line: ...`` line."""
    path = Path(path)
    data = path.read_bytes()  # OSError as before: callers say where to run from
    text = _decode(path, data)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines = _key_lines(path, node)
        config = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise _yaml_error(path, e) from None
    if not isinstance(config, dict):
        raise ProtocolError(f"{path}: (top level): expected a mapping of keys")
    return config, lines


_KEY_PART = re.compile(r"([^.\[\]()]+)|\[(\d+)\]|\([^)]*\)")


def locate(error: ProtocolError, path: str | Path, lines: dict) -> ProtocolError:
    """``file: key.path: what`` -> ``file:line: key.path: what`` (the line of the deepest part of
    the key path the file has)."""
    msg, prefix = str(error), f"{path}: "
    if not msg.startswith(prefix):
        return error
    rest = msg[len(prefix):]
    keys = []
    for m in _KEY_PART.finditer(rest.split(": ", 1)[0]):
        if m.group(1) is not None:
            keys.append(m.group(1))
        elif m.group(2) is not None:
            keys.append(int(m.group(2)))
    while keys and tuple(keys) not in lines:
        keys.pop()
    return ProtocolError(f"{path}:{lines[tuple(keys)]}: {rest}") if keys else error


def validate_config_file(config: dict, path: str | Path) -> Protocol:
    """:func:`validate_config` for a config that came from ``path`` (as Snakemake loads it): the
    file is also read strictly (duplicate keys, encoding, syntax) and errors carry its lines."""
    lines = read_protocol_file(path)[1] if Path(path).is_file() else {}
    try:
        return validate_config(config, str(path))
    except ProtocolError as e:
        raise locate(e, path, lines) from None


def read_protocol_yaml(path: Path) -> dict:
    """One protocol file as a mapping, strictly read (no inheritance resolved, nothing validated)."""
    return read_protocol_file(path)[0]


def load_protocol(path: str | Path, overrides: dict | None = None) -> Protocol:
    """Read a protocol YAML file strictly (its ``extends:`` chain resolved, plus --config style
    overrides) and validate it; every error is one line naming the file and, where the file has
    the key, its line."""
    path = Path(path)
    config, lines = read_protocol_file(path)
    if "extends" in config:
        config = resolve_extends(config, path)
        # the merged searches are renumbered: only a key path written exactly so in this file
        # may take its line (an inherited key has none here)
        lines = {k: v for k, v in lines.items() if "searches" not in k}
    if overrides:
        config = deep_update(config, coerce_overrides(overrides))
    try:
        return validate_config(config, str(path))
    except ProtocolError as e:
        raise locate(e, path, lines) from None


def resolve_extends(config: dict, path: Path, _chain: tuple[str, ...] = ()) -> dict:
    """An update protocol (``extends: other.yaml``, a path relative to this file, or the id of a
    protocol in a ``.yaml`` file beside it) merged over the protocol it extends.

    Mappings merge key by key; ``searches`` merge by search ``id`` (a search with an inherited id
    changes only the keys it names, a new id adds a search); any other value replaces the
    inherited one. The result records what it inherited and every value it changed, under
    ``inherits`` (the report prints it)."""
    if "extends" not in config:
        return config
    ref = config["extends"]
    if not isinstance(ref, str) or not ref.strip():
        raise ProtocolError(f"{path}: extends: expected the path or protocol id of the protocol this one "
                            f"updates, got {ref!r}")
    base_path = _find_base(ref, path)
    key = str(base_path.resolve())
    if key in _chain or key == str(path.resolve()):
        raise ProtocolError(f"{path}: extends: {ref!r} leads back to itself (a protocol cannot extend itself)")
    base = resolve_extends(read_protocol_yaml(base_path), base_path, _chain + (str(path.resolve()),))
    base.pop("inherits", None)
    child = {k: v for k, v in config.items() if k != "extends"}
    merged = _merge(base, child, "", changes := [])
    merged["inherits"] = {
        "file": _display_path(base_path, path),
        "protocol_id": ((base.get("protocol") or {}).get("id")),
        "sha256": hashlib.sha256(base_path.read_bytes()).hexdigest(),
        "overrides": changes,
    }
    return merged


def _display_path(base_path: Path, path: Path) -> str:
    try:
        return base_path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return base_path.as_posix()


def _find_base(ref: str, path: Path) -> Path:
    folder = path.parent
    candidate = folder / ref
    if candidate.is_file():
        return candidate
    for other in sorted(folder.glob("*.yaml")):
        if other.resolve() == path.resolve():
            continue
        try:
            data = yaml.safe_load(other.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and (data.get("protocol") or {}).get("id") == ref:
            return other
    raise ProtocolError(f"{path}: extends: {ref!r}: no such file in {folder}/ and no protocol there has this id")


def _merge(base, child, where: str, changes: list) -> Any:
    """``child`` over ``base`` (see resolve_extends); appends every changed value to ``changes``."""
    if isinstance(base, dict) and isinstance(child, dict):
        out = copy.deepcopy(base)
        for k, v in child.items():
            sub = f"{where}.{k}" if where else k
            if k in base:
                out[k] = _merge(base[k], v, sub, changes)
            else:
                out[k] = copy.deepcopy(v)
                if k != "assumptions":
                    changes.append({"key": sub, "inherited": None, "value": v, "change": "added"})
        return out
    if where == "searches" and isinstance(base, list) and isinstance(child, list):
        out = [copy.deepcopy(s) for s in base]
        index = {s.get("id"): i for i, s in enumerate(out) if isinstance(s, dict)}
        for s in child:
            sid = s.get("id") if isinstance(s, dict) else None
            if sid in index:
                out[index[sid]] = _merge(out[index[sid]], s, f"searches[{sid}]", changes)
            else:
                out.append(copy.deepcopy(s))
                changes.append({"key": f"searches[{sid}]", "inherited": None, "value": s, "change": "added"})
        return out
    if base != child and not where.endswith("assumptions") and ".assumptions." not in where:
        changes.append({"key": where, "inherited": base, "value": child, "change": "changed"})
    return copy.deepcopy(child)


def coerce_overrides(values, schema: dict = None):
    """``--config`` values as the schema types them: Snakemake hands nested values over as text
    (``services="{eutils: {batch_size: 5}}"`` gives ``'5'``), so an integer, number or boolean key
    given as its text becomes that value; anything else is left for validation to judge."""
    schema = _SCHEMA if schema is None else schema
    if isinstance(values, dict):
        props = schema.get("properties") or {}
        return {k: coerce_overrides(v, props[k]) if k in props else v for k, v in values.items()}
    if isinstance(values, str):
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        text = values.strip()
        if "integer" in types and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if "number" in types and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            return float(text)
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if "null" in types and text.lower() in ("null", "none", "~"):
            return None
    return values


def deep_update(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
