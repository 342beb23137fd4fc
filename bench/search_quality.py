"""Search quality on the labelled python3-doc question set (bench/search-quality-data/questions.json).

Run by bench/search-quality (which crawls the pages, serves the API and picks the moments);
usable alone against any running server whose org holds the crawled pages:

    python bench/search_quality.py evaluate --moment "after crawl" --api http://127.0.0.1:3000 \
        --token "$TOKEN" --db "$SUPERUSER_URL_OF_THE_DB" --org org_bench --out results/after-crawl.json [--slice]
    python bench/search_quality.py table results/after-crawl.json results/index-complete.json

Systems, all scored at page level:
- `full_text`, `vector`, `hybrid`: `POST /api/search {"query", "k": 10, "mode"}`. A mode the
  server refuses (400) is recorded as unavailable, not an error of the run.
- `default`: the same request without `mode`, what the app's users get.
- `bm25s`: the BM25 baseline (bm25s, Lucene variant, k1 1.5, b 0.75; English Snowball stemmer
  from PyStemmer; bm25s's English stop words) over the same chunks the server indexed (heading
  + text of each chunk of the org, read from Postgres as the superuser). Its ranked chunks are
  cut like an API answer: at most `--per-page` (2) chunks of a page, then the first 10.

Each result's `url` becomes a page path (scheme, host, leading slash, query and fragment
dropped); the first occurrence of each page is kept, in order. Per question: hits@3 and hits@10
(a relevant page among the first 3 / 10 pages), reciprocal rank within 10, nDCG@10 with binary
relevance (ideal DCG from the number of relevant pages, at most 10). Also counted: questions
where one of the hub pages (`slice_hubs`: pages naming many modules) that is not an answer
ranks above the first answer (or anywhere in the 10 when none is found). Questions none of
whose pages are in the org's library (a capped crawl) are left out and counted.

Needs bm25s and PyStemmer (bench/search-quality-data/requirements.txt) and `psql` on PATH.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
QUESTIONS = os.path.join(HERE, "search-quality-data", "questions.json")
API_MODES = ["full_text", "vector", "hybrid"]
SYSTEMS = API_MODES + ["default", "bm25s"]
K = 10


def page_of(url: str | None) -> str | None:
    """`http://host:port/library/time.html#x?y` → `library/time.html`."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    path = parts.path if (parts.scheme or parts.netloc) else url.split("#", 1)[0].split("?", 1)[0]
    return urllib.parse.unquote(path).lstrip("/") or None


def distinct_pages(urls) -> list[str]:
    seen, pages = set(), []
    for u in urls:
        p = page_of(u)
        if p and p not in seen:
            seen.add(p)
            pages.append(p)
    return pages


def score(pages: list[str], relevant: set[str], hubs: frozenset[str] = frozenset()) -> dict:
    """Page-level metrics of one ranked page list against the relevant pages."""
    top = pages[:K]
    ranks = [i + 1 for i, p in enumerate(top) if p in relevant]
    first = ranks[0] if ranks else None
    # Hub pages (naming many modules) that are not an answer, ranked above the first answer.
    hubs_above = [p for p in top[: (first or K + 1) - 1] if p in hubs and p not in relevant]
    dcg = sum(1 / math.log2(r + 1) for r in ranks)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))
    return {
        "first_relevant_rank": first,
        "relevant_ranks": ranks,
        "hits@3": 1.0 if first is not None and first <= 3 else 0.0,
        "hits@10": 1.0 if first is not None else 0.0,
        "mrr@10": 1 / first if first else 0.0,
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "hubs_above": hubs_above,
    }


METRICS = ["hits@3", "hits@10", "mrr@10", "ndcg@10"]


def summarize(per_question: list[dict]) -> dict:
    n = len(per_question)
    out = {m: (sum(q[m] for q in per_question) / n if n else 0.0) for m in METRICS}
    out["n"] = n
    out["hub_above_answer"] = sum(1 for q in per_question if q.get("hubs_above"))
    lat = [q["ms"] for q in per_question if q.get("ms") is not None]
    out["p50_ms"] = statistics.median(lat) if lat else None
    return out


# --- the API -------------------------------------------------------------------------------


class Api:
    def __init__(self, base: str, token: str, timeout: float = 60.0):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout

    def search(self, query: str, mode: str | None) -> tuple[int, dict, float]:
        body = {"query": query, "k": K}
        if mode:
            body["mode"] = mode
        data = json.dumps(body).encode()
        for attempt in range(20):
            req = urllib.request.Request(
                self.base + "/api/search",
                data=data,
                method="POST",
                headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    payload = json.load(r)
                    return r.status, payload, (time.perf_counter() - start) * 1000
            except urllib.error.HTTPError as e:
                ms = (time.perf_counter() - start) * 1000
                text = e.read().decode(errors="replace")
                if e.code in (429, 503) and attempt < 19:
                    time.sleep(min(float(e.headers.get("Retry-After") or 1), 10))
                    continue
                try:
                    payload = json.loads(text)
                except ValueError:
                    payload = {"body": text[:500]}
                return e.code, payload, ms
        raise AssertionError("unreachable")


def run_api(api: Api, questions: list[dict], mode: str | None, hubs: frozenset[str]) -> dict:
    name = mode or "default"
    per_q, errors, modes_seen = [], [], {}
    for i, q in enumerate(questions):
        status, payload, ms = api.search(q["question"], mode)
        if status == 400 and i == 0:
            why = f"{payload.get('code', '')}: {payload.get('detail', '')}" if "detail" in payload else payload
            return {"available": False, "reason": f"refused (400 {why})"[:300]}
        if status != 200:
            errors.append({"id": q["id"], "status": status, "body": payload})
            urls = []
        else:
            urls = [r.get("url") for r in payload.get("results", [])]
            m = payload.get("mode")
            modes_seen[m] = modes_seen.get(m, 0) + 1
        pages = distinct_pages(urls)
        row = {"id": q["id"], "pages": pages[:K], "results": len(urls), "ms": ms if status == 200 else None}
        row.update(score(pages, set(q["pages"]), hubs))
        per_q.append(row)
        if sys.stderr.isatty():
            print(f"\r  {name}: {i + 1}/{len(questions)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return {"available": True, "errors": errors, "modes_answered": modes_seen, "per_question": per_q}


# --- the BM25 baseline ---------------------------------------------------------------------


def load_chunks(db: str, org: str) -> list[tuple[str, str]]:
    """(url, heading + text) of every chunk of the org, read past row-level security."""
    sql = (
        "COPY (SELECT c.url, coalesce(ch.heading, '') || E'\\n' || ch.text FROM content_chunks ch "
        "JOIN contents c ON c.id = ch.content_id JOIN organizations o ON o.id = ch.org_id "
        f"WHERE o.clerk_org_id = '{org.replace(chr(39), chr(39) * 2)}' ORDER BY c.url, ch.position) "
        "TO STDOUT WITH (FORMAT csv)"
    )
    out = subprocess.run(["psql", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [(row[0], row[1]) for row in csv.reader(io.StringIO(out))]


class Bm25:
    def __init__(self, chunks: list[tuple[str, str]]):
        import bm25s
        import Stemmer

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.urls = [u for u, _ in chunks]
        tokens = bm25s.tokenize([t for _, t in chunks], stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        self.retriever.index(tokens, show_progress=False)
        self.vocab = tokens.vocab

    def ranked_urls(self, query: str, per_page: int, depth: int = 200) -> list[str]:
        words = self.bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, return_ids=False,
                                    show_progress=False)[0]
        words = [w for w in words if w in self.vocab]
        if not words:
            return []
        ids, scores = self.retriever.retrieve([words], k=min(depth, len(self.urls)), show_progress=False)
        out, per = [], {}
        for i, s in zip(ids[0], scores[0]):
            if s <= 0:
                break
            url = self.urls[int(i)]
            page = page_of(url)
            if per.get(page, 0) >= per_page:
                continue
            per[page] = per.get(page, 0) + 1
            out.append(url)
            if len(out) == K:
                break
        return out


def run_bm25(db: str, org: str, questions: list[dict], per_page: int, hubs: frozenset[str]) -> dict:
    start = time.perf_counter()
    chunks = load_chunks(db, org)
    index = Bm25(chunks)
    built = time.perf_counter() - start
    per_q = []
    for q in questions:
        t = time.perf_counter()
        urls = index.ranked_urls(q["question"], per_page)
        ms = (time.perf_counter() - t) * 1000
        pages = distinct_pages(urls)
        row = {"id": q["id"], "pages": pages[:K], "results": len(urls), "ms": ms}
        row.update(score(pages, set(q["pages"]), hubs))
        per_q.append(row)
    return {"available": True, "errors": [], "chunks": len(chunks), "index_seconds": round(built, 2),
            "per_page": per_page, "per_question": per_q}


# --- commands ------------------------------------------------------------------------------


def library_pages(db: str, org: str) -> set[str]:
    sql = ("SELECT c.url FROM contents c JOIN organizations o ON o.id = c.org_id "
           f"WHERE o.clerk_org_id = '{org.replace(chr(39), chr(39) * 2)}'")
    out = subprocess.run(["psql", db, "-X", "-qAt", "-c", sql], check=True, capture_output=True, text=True).stdout
    return {p for p in (page_of(u) for u in out.splitlines()) if p}


def evaluate(args) -> None:
    spec = json.load(open(args.questions))
    questions = [q for q in spec["questions"] if q.get("slice") or not args.slice]
    library = library_pages(args.db, args.org)
    answerable = [q for q in questions if set(q["pages"]) & library]
    missing_pages = sorted({p for q in questions for p in q["pages"]} - library)
    if len(answerable) < len(questions):
        print(f"search_quality: {len(questions) - len(answerable)} of {len(questions)} questions have no answering "
              f"page in the library (left out); pages missing: {', '.join(missing_pages[:10])}"
              f"{' …' if len(missing_pages) > 10 else ''}", file=sys.stderr)
    systems = args.systems.split(",")
    result = {"moment": args.moment, "questions_file": os.path.relpath(args.questions), "slice": args.slice,
              "questions": len(answerable), "questions_left_out": len(questions) - len(answerable),
              "library_pages": len(library), "answer_pages_missing": missing_pages, "extra": {}, "systems": {}}
    for kv in args.extra or []:
        k, _, v = kv.partition("=")
        result["extra"][k] = v
    api = Api(args.api, args.token) if args.api else None
    hubs = frozenset(spec.get("slice_hubs", []))
    result["hubs"] = sorted(hubs)
    for name in systems:
        if name == "bm25s":
            r = run_bm25(args.db, args.org, answerable, args.per_page, hubs)
        elif api is None:
            r = {"available": False, "reason": "no --api"}
        else:
            r = run_api(api, answerable, None if name == "default" else name, hubs)
        if r.get("available"):
            r["metrics"] = summarize(r["per_question"])
        result["systems"][name] = r
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(render([result]))
    print(f"per-question ranks: {args.out}", file=sys.stderr)


def rankings(api: Api, query: str) -> dict:
    """The lexical and the vector candidates of one query as the API ranks them (50 each, at
    most 10 per page): chunk id → (url, link density, text rank, vector rank)."""
    out: dict[str, list] = {}
    for mode, field in (("full_text", "text_rank"), ("vector", "vector_rank")):
        req = urllib.request.Request(
            api.base + "/api/search", method="POST",
            data=json.dumps({"query": query, "k": 50, "per_page": 10, "mode": mode}).encode(),
            headers={"Authorization": "Bearer " + api.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=api.timeout) as r:
            payload = json.load(r)
        for hit in payload["results"]:
            row = out.setdefault(hit["chunk_id"], [hit["url"], hit.get("link_density") or 0.0, None, None])
            row[2 if field == "text_rank" else 3] = hit[field]
    return out


def fuse(cands: dict, rrf_k: float, text_weight: float, link_penalty: float, per_page: int = 2) -> list[str]:
    """Pages of the top K chunks after reciprocal rank fusion, as lib/src/search/mod.rs fuses."""
    scored = []
    for cid, (url, density, tr, vr) in cands.items():
        s = (text_weight / (rrf_k + tr) if tr else 0.0) + ((1 - link_penalty * density) / (rrf_k + vr) if vr else 0.0)
        scored.append((-s, cid, url))
    scored.sort()
    seen: dict[str, int] = {}
    urls = []
    for _, _, url in scored:
        page = page_of(url)
        if seen.get(page, 0) < per_page:
            seen[page] = seen.get(page, 0) + 1
            urls.append(url)
            if len(urls) == K:
                break
    return distinct_pages(urls)


def fusion(args) -> None:
    """Grid of the fusion's constants over the questions, both rankings fetched once per query."""
    spec = json.load(open(args.questions))
    questions = [q for q in spec["questions"] if q.get("slice") or not args.slice]
    api = Api(args.api, args.token)
    cands = [rankings(api, q["question"]) for q in questions]
    grid = []
    for rrf_k in (5, 10, 20, 30, 60, 100):
        for w in (0.25, 0.35, 0.5, 0.75, 1.0, 1.5):
            for lp in (0.0, 0.5, 1.0):
                rows = [score(fuse(c, rrf_k, w, lp), set(q["pages"])) for c, q in zip(cands, questions)]
                grid.append((summarize(rows), rrf_k, w, lp))
    # Each ranking alone, with the link penalty the vector side would get.
    for name, (w, vw) in {"full_text alone": (1.0, 0.0), "vector alone": (0.0, 1.0)}.items():
        for lp in (0.0, 0.5, 1.0) if vw else (0.0,):
            rows = [score(fuse({k: [u, d, tr if w else None, vr if vw else None] for k, (u, d, tr, vr) in c.items()},
                               60, 1.0, lp), set(q["pages"])) for c, q in zip(cands, questions)]
            m = summarize(rows)
            print(f"{name}{f' (link penalty {lp})' if vw else ''}: " + ", ".join(f"{x} {m[x]:.3f}" for x in METRICS))
    grid.sort(key=lambda g: -g[0]["ndcg@10"])
    print("| RRF k | text weight | link penalty | hits@3 | hits@10 | MRR@10 | nDCG@10 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m, rrf_k, w, lp in grid[: args.top]:
        print(f"| {rrf_k} | {w} | {lp} | " + " | ".join(fmt(m[x]) for x in METRICS) + " |")


def fmt(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def render(results: list[dict]) -> str:
    lines = ["| system | moment | questions | hits@3 | hits@10 | MRR@10 | nDCG@10 | p50 ms |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    for res in results:
        refused: dict[str, list[str]] = {}
        for name, r in res["systems"].items():
            if not r.get("available"):
                lines.append(f"| {name} | {res['moment']} | — | unavailable | | | | |")
                refused.setdefault(str(r.get("reason")), []).append(name)
                continue
            m = r["metrics"]
            p50 = "—" if m.get("p50_ms") is None else f"{m['p50_ms']:.1f}"
            lines.append(f"| {name} | {res['moment']} | {m['n']} | {fmt(m['hits@3'])} | {fmt(m['hits@10'])} | "
                         f"{fmt(m['mrr@10'])} | {fmt(m['ndcg@10'])} | {p50} |")
            if m.get("hub_above_answer"):
                notes.append(f"{name} ({res['moment']}): a hub page ({', '.join(p.split('/')[-1] for p in res.get('hubs', []))}) "
                             f"ranked above the answer in {m['hub_above_answer']} of {m['n']} questions")
            if r.get("errors"):
                notes.append(f"{name} ({res['moment']}): {len(r['errors'])} requests failed, e.g. "
                             f"{json.dumps(r['errors'][0])[:200]}")
            if r.get("modes_answered"):
                notes.append(f"{name} ({res['moment']}): answered mode " +
                             ", ".join(f"{k} ×{v}" for k, v in r["modes_answered"].items()))
        for reason, names in refused.items():
            notes.append(f"{', '.join(names)} ({res['moment']}): {reason}")
        bm = res["systems"].get("bm25s", {})
        ft = res["systems"].get("full_text", {})
        if bm.get("available"):
            notes.append(f"bm25s ({res['moment']}): {bm['chunks']} chunks, indexed in {bm['index_seconds']} s, "
                         f"≤ {bm['per_page']} chunks per page")
        if bm.get("available") and ft.get("available") and bm["metrics"]["hits@10"]:
            ratio = ft["metrics"]["hits@10"] / bm["metrics"]["hits@10"]
            notes.append(f"ratio full_text / bm25s hits@10 ({res['moment']}): {ratio:.2f} (target ≥ 0.9)")
        elif bm.get("available"):
            notes.append(f"ratio full_text / bm25s hits@10 ({res['moment']}): — (full_text unavailable)")
        for k, v in res.get("extra", {}).items():
            notes.append(f"{k} ({res['moment']}): {v}")
    return "\n".join(lines + [""] + ["- " + n for n in notes])


def table(args) -> None:
    print(render([json.load(open(p)) for p in args.results]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evaluate", help="run every system on the questions at one moment")
    e.add_argument("--moment", required=True, help='label, e.g. "after crawl"')
    e.add_argument("--api", help="base URL of voiceforge serve, e.g. http://127.0.0.1:3000")
    e.add_argument("--token", default=os.environ.get("VF_TOKEN"), help="bearer token (default $VF_TOKEN)")
    e.add_argument("--db", required=True, help="superuser URL of the database holding the org's chunks")
    e.add_argument("--org", default="org_bench", help="Clerk org id whose library is searched")
    e.add_argument("--questions", default=QUESTIONS)
    e.add_argument("--slice", action="store_true", help="only the CI slice's questions")
    e.add_argument("--systems", default=",".join(SYSTEMS))
    e.add_argument("--per-page", type=int, default=2, help="bm25s: most chunks of one page among its 10 results")
    e.add_argument("--extra", action="append", help="key=value noted under the table")
    e.add_argument("--out", required=True, help="JSON file of per-question ranks")
    e.set_defaults(func=evaluate)
    f = sub.add_parser("fusion", help="grid of RRF k, lexical weight and link penalty on the questions")
    f.add_argument("--api", required=True)
    f.add_argument("--token", default=os.environ.get("VF_TOKEN"))
    f.add_argument("--questions", default=QUESTIONS)
    f.add_argument("--slice", action="store_true")
    f.add_argument("--top", type=int, default=15, help="rows of the grid printed, best nDCG@10 first")
    f.set_defaults(func=fusion)
    t = sub.add_parser("table", help="one markdown table of several moments' JSON files")
    t.add_argument("results", nargs="+")
    t.set_defaults(func=table)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
