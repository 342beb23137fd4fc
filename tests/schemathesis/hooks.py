"""Schemathesis hooks for scripts/schemathesis: who is calling, and where crawls may go.

Loaded through SCHEMATHESIS_HOOKS. Everything comes from environment variables the script
sets after it has started `voiceforge serve` and seeded the organization:

  VF_FUZZ_SESSION_TOKEN   dev session token of the fuzzed organization's admin
  VF_FUZZ_OPERATOR_TOKEN  VOICEFORGE_ADMIN_TOKEN (PATCH /api/organizations/limits)
  VF_FUZZ_CRON_SECRET     CRON_SECRET (GET /api/cron/crawl)
  VF_FUZZ_SITE            base URL of the loopback site crawls and page fetches may reach
  VF_FUZZ_IDS             JSON object: path template -> ids of seeded objects
  VF_FUZZ_LIMITS_ORG      Clerk id of a second organization whose limits the operator
                          calls change (changing the fuzzed one's could lock it out)
"""

import json
import os
import random
import uuid

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

SESSION = os.environ["VF_FUZZ_SESSION_TOKEN"]
OPERATOR = os.environ["VF_FUZZ_OPERATOR_TOKEN"]
CRON = os.environ["VF_FUZZ_CRON_SECRET"]
SITE = os.environ["VF_FUZZ_SITE"].rstrip("/")
IDS = json.loads(os.environ.get("VF_FUZZ_IDS", "{}"))
LIMITS_ORG = os.environ["VF_FUZZ_LIMITS_ORG"]

# Every URL the fuzzer sends in a body is replaced by one of these, so no generated request can
# make the server fetch anything but the loopback site, whatever the server's URL parser makes
# of the generated string. The list keeps the interesting outcomes: pages, a subtree, and
# strings the URL check must refuse. A missing page is left out on purpose: fetching a page the
# site answers 404 for is 502 `fetch_failed` by contract (the upstream failed), which the
# not_a_server_error check would report.
SAFE_URLS = [
    SITE + "/",
    SITE + "/",
    SITE + "/blog/",
    SITE + "/blog/first.html",
    "not a url",
    "ftp://127.0.0.1/",
    "http://",
]

# The longest URL the contract accepts (maxLength of every `url` field).
MAX_URL_LENGTH = 2048

OPERATOR_PATHS = {"/api/organizations/limits"}
CRON_PATHS = {"/api/cron/crawl"}
OPEN_PATHS = {"/api/health", "/api/webhooks/clerk"}


def _token_for(path):
    if path in OPERATOR_PATHS:
        return OPERATOR
    if path in CRON_PATHS:
        return CRON
    if path in OPEN_PATHS:
        return None
    return SESSION


def _bearer(case, token):
    if case.headers is None:
        case.headers = {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth().apply_to(path=sorted(OPERATOR_PATHS))
class OperatorToken:
    """The deployment operator's token, on operator-only routes."""

    def get(self, case, ctx):
        return OPERATOR

    def set(self, case, data, ctx):
        _bearer(case, data)


@schemathesis.auth().apply_to(path=sorted(CRON_PATHS))
class CronSecret:
    """Vercel cron's bearer secret, on cron routes."""

    def get(self, case, ctx):
        return CRON

    def set(self, case, data, ctx):
        _bearer(case, data)


@schemathesis.auth().skip_for(path=sorted(OPERATOR_PATHS | CRON_PATHS | OPEN_PATHS))
class SessionToken:
    """An organization admin's session token, everywhere else."""

    def get(self, case, ctx):
        return SESSION

    def set(self, case, data, ctx):
        _bearer(case, data)


# scripts/schemathesis runs the negative phase on its own and says so: cases without
# metadata (explicit examples) count as negative there too.
NEGATIVE_RUN = os.environ.get("VF_FUZZ_MODE") == "negative"


def _is_negative(case):
    if case.meta is None:
        return NEGATIVE_RUN
    return case.meta.generation.mode == GenerationMode.NEGATIVE


def _negative_at(case, location):
    return case.meta is not None and case.meta.is_negative_at(location)


def _is_stateful(case):
    return case.meta is not None and case.meta.phase.name == TestPhase.STATEFUL


@schemathesis.hook
def filter_case(ctx, case):
    """Drops, in the negative run, writes that are invalid nowhere.

    Schemathesis' negative mode now and then yields a case with no negative part (its
    metadata says positive everywhere), and it may reuse ids seen in earlier responses: such a
    case is a valid write (a draft generated, a seeded template deleted), and the negative run
    is the one that must change nothing. Writes with an unsupported method stay: they are
    invalid by their method."""
    if not NEGATIVE_RUN or case.meta is None:
        return True
    method = case.method.upper()
    if method in ("GET", "HEAD", "OPTIONS") or method != case.operation.method.upper():
        return True
    return any(case.meta.is_negative_at(location) for location in ParameterLocation)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Confines URLs to the loopback site, points some ids at real objects, and keeps the
    caller authenticated when the case is negative elsewhere than in its headers (so invalid
    bodies and parameters reach validation instead of stopping at 401)."""
    token = _token_for(case.operation.path)
    if token and _is_negative(case) and not _negative_at(case, ParameterLocation.HEADER):
        _bearer(case, token)
    body = case.body
    url = body.get("url") if isinstance(body, dict) else None
    # An over-long URL stays over-long (on the loopback site): replacing it with a valid one
    # would turn a negative case into a valid request that writes.
    if isinstance(url, str):
        if _is_negative(case) and len(url) > MAX_URL_LENGTH:
            body["url"] = SITE + "/" + "a" * MAX_URL_LENGTH
        else:
            body["url"] = random.choice(SAFE_URLS)
    # A write whose body is valid and whose only invalid part is elsewhere (a query parameter
    # the API ignores, say) is a valid write as far as the server can tell: aim it at an id
    # that names nothing, so it is still sent and judged but the fingerprint, which checks
    # that invalid bodies write nothing, is not moved by it.
    if (
        _is_negative(case)
        and case.method.upper() in ("DELETE", "PATCH", "PUT", "POST")
        and not _negative_at(case, ParameterLocation.BODY)
        and case.path_parameters
        and "id" in case.path_parameters
    ):
        case.path_parameters["id"] = str(uuid.uuid4())
    ids = None if NEGATIVE_RUN else IDS.get(case.operation.path)
    # Deletes hit seeded objects rarely, so later operations still find some.
    share = 0.2 if case.method.upper() == "DELETE" else 0.6
    # In the stateful phase the id comes from the object the previous step created: keep it.
    if ids and not _is_negative(case) and not _is_stateful(case) and case.path_parameters and random.random() < share:
        case.path_parameters["id"] = random.choice(ids)
    # A limits change names a known organization (or, now and then, an unknown one).
    if case.operation.path in OPERATOR_PATHS and isinstance(body, dict) and "organization" in body:
        if not _is_negative(case) and random.random() < 0.8:
            body["organization"] = LIMITS_ORG


# With VF_FUZZ_WRITE_LOG set, every write the server accepted during the negative run is logged
# there (one JSON line each), so a moved fingerprint names the request that moved it.
WRITE_LOG = os.environ.get("VF_FUZZ_WRITE_LOG")


@schemathesis.hook
def after_call(ctx, case, response):
    if not (WRITE_LOG and NEGATIVE_RUN) or case.method.upper() in ("GET", "HEAD", "OPTIONS") or response.status_code >= 300:
        return
    meta = case.meta
    entry = {
        "method": case.method.upper(),
        "path": case.formatted_path,
        "status": response.status_code,
        "query": case.query,
        "body": case.body if isinstance(case.body, (dict, list, str, int, float, bool, type(None))) else repr(case.body),
        "negative_at": None if meta is None else [loc.name for loc in ParameterLocation if meta.is_negative_at(loc)],
        "phase": None if meta is None else str(meta.phase.name),
    }
    with open(WRITE_LOG, "a") as f:
        f.write(json.dumps(entry, default=repr) + "\n")
