#!/usr/bin/env python3
"""Load-tests a running Argus deployment (`argus serve`, or web replicas behind a load
balancer) and reports what its clients saw: answers by status, connection errors, lost
results, throughput and latency percentiles.

    bench/loadtest.py --url http://127.0.0.1:8080                       # the course workload
    bench/loadtest.py --url URL --files photos/ --rate 40 --duration 30 --unique
    bench/loadtest.py --url URL --mode api --token argus_... --concurrency 16 --json

Exit status: 0 when every request was answered with a result, 1 when any was not (refused,
failed, unanswered or lost), 2 for a usage error.
"""
import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import ssl
import statistics
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COURSE_WORKLOAD = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "cse546-imagenet-100"))
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif")


class UsageError(Exception):
    pass


def image_files(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in sorted(os.walk(path)):
                files += [os.path.join(folder, n) for n in sorted(names)
                          if n.lower().endswith(IMAGE_SUFFIXES)]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not files:
        raise UsageError(f"no image file in {', '.join(paths)}")
    return files


def made_unique(data, path):
    """The same picture with a random comment, so that the service classifies it anew
    instead of answering from the stored result of identical bytes."""
    tag = uuid.uuid4().hex.encode()
    if data[:2] == b"\xff\xd8":  # JPEG: a COM segment right after the start of image
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag + data[2:]
    if data[:8] == b"\x89PNG\r\n\x1a\n":  # PNG: a tEXt chunk right after IHDR
        header_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
        text = b"Comment\x00" + tag
        chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(
            ">I", zlib.crc32(b"tEXt" + text))
        return data[:header_end] + chunk + data[header_end:]
    raise UsageError(f"--unique changes JPEG and PNG files only; {path} is neither")


def multipart(field, filename, data):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{os.path.basename(filename)}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


class Target:
    """The deployment's base URL, with one keep-alive connection per client thread."""

    def __init__(self, url, token, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--url {url}: expected http://HOST[:PORT] or https://HOST[:PORT]")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.base = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.local = threading.local()

    def connection(self):
        if not hasattr(self.local, "connection"):
            if self.scheme == "https":
                self.local.connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                self.local.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout)
        return self.local.connection

    def request(self, method, path, body=None, content_type=None):
        """(status, body bytes); raises OSError or HTTPException when nothing came back."""
        headers = {"Content-Type": content_type} if content_type else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = self.connection()
        try:
            connection.request(method, self.base + path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            del self.local.connection
            raise


def error_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class Outcome:
    """One request: what came back and when."""

    def __init__(self, kind, status=None, code=None, seconds=None):
        # ok; refused: answered with an error status; failed: the image could not be
        # classified; unanswered: no answer (connection error or timeout); lost: accepted
        # (202) but no result came within --result-timeout.
        self.kind = kind
        self.status = status  # the HTTP status of the answer, if one came
        self.code = code  # the error's code, or the exception's name
        self.seconds = seconds  # until the result, for ok and failed


def classify_course(target, name, data, started):
    """The course protocol: POST / with the file in `myfile`, answered with the label."""
    body, content_type = multipart("myfile", name, data)
    try:
        status, text = target.request("POST", "/", body, content_type)
    except (OSError, http.client.HTTPException) as error:
        return Outcome("unanswered", code=type(error).__name__)
    seconds = time.perf_counter() - started
    if status == 200 and text.strip():
        return Outcome("ok", status, seconds=seconds)
    if status == 422:
        return Outcome("failed", status, error_code(text), seconds)
    return Outcome("refused", status, error_code(text), seconds)


def classify_api(target, name, data, started, result_timeout):
    """POST /api/v1/images, then long-polls the image until it is done or failed."""
    body, content_type = multipart("file", name, data)
    try:
        status, text = target.request("POST", "/api/v1/images", body, content_type)
    except (OSError, http.client.HTTPException) as error:
        return Outcome("unanswered", code=type(error).__name__)
    if status != 202:
        return Outcome("refused", status, error_code(text), time.perf_counter() - started)
    image = json.loads(text)["images"][0]
    deadline = time.perf_counter() + result_timeout
    while image["status"] not in ("done", "failed"):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return Outcome("lost", 202, "no_result")
        # The long poll ends before the connection's own timeout does.
        wait = int(max(1, min(30, remaining, target.timeout / 2)))
        try:
            status, text = target.request("GET", f"/api/v1/images/{image['id']}?wait={wait}")
        except (OSError, http.client.HTTPException) as error:
            return Outcome("lost", 202, type(error).__name__)
        if status != 200:
            return Outcome("lost", status, error_code(text))
        image = json.loads(text)
    seconds = time.perf_counter() - started
    if image["status"] == "failed":
        return Outcome("failed", 202, "classification_failed", seconds)
    return Outcome("ok", 202, seconds=seconds)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(options):
    if options.mode == "api" and not options.token:
        raise UsageError("--mode api needs --token (or ARGUS_TOKEN): an API token of an account")
    files = image_files(options.files)
    contents = []
    for path in files:
        try:
            with open(path, "rb") as f:
                contents.append((path, f.read()))
        except OSError as error:  # a link to nothing in a folder, a file that is not readable
            raise UsageError(f"{path}: {error.strerror}") from None
    if options.unique:
        for path, data in contents:
            made_unique(data, path)  # refuses an unsupported file before any request is sent
    target = Target(options.url, options.token, options.timeout)

    def send(index, started):
        path, data = contents[index % len(contents)]
        if options.unique:
            data = made_unique(data, path)
        if options.mode == "course":
            return classify_course(target, path, data, started)
        return classify_api(target, path, data, started, options.result_timeout)

    outcomes = []
    lock = threading.Lock()
    count = options.requests or (None if options.duration else len(contents))
    begin = time.perf_counter()
    end = begin + options.duration if options.duration else None

    def more(index, at):
        return (count is None or index < count) and (end is None or at < end)

    if options.rate:
        # Open loop: request i is due at begin + i / rate whatever came back before, and its
        # latency counts from when it was due, so that a slow service cannot hide its
        # backlog by slowing the client down (coordinated omission).
        with concurrent.futures.ThreadPoolExecutor(options.concurrency) as pool:
            futures, index = [], 0
            while more(index, begin + index / options.rate):
                due = begin + index / options.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                futures.append(pool.submit(send, index, due))
                index += 1
            outcomes = [future.result() for future in futures]
    else:
        next_index = [0]

        def client():
            while True:
                with lock:
                    index = next_index[0]
                    if not more(index, time.perf_counter()):
                        return
                    next_index[0] += 1
                outcome = send(index, time.perf_counter())
                with lock:
                    outcomes.append(outcome)

        threads = [threading.Thread(target=client) for _ in range(options.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - begin
    return summarize(options, outcomes, wall)


def summarize(options, outcomes, wall):
    kinds = collections.Counter(o.kind for o in outcomes)
    answered = [o.seconds for o in outcomes if o.kind == "ok"]
    report = {
        "url": options.url,
        "mode": options.mode,
        "requests": len(outcomes),
        "ok": kinds["ok"],
        "refused": kinds["refused"],
        "failed": kinds["failed"],
        "unanswered": kinds["unanswered"],
        "lost": kinds["lost"],
        "statuses": dict(sorted(collections.Counter(
            str(o.status) for o in outcomes if o.status is not None).items())),
        "errors": dict(sorted(collections.Counter(
            o.code for o in outcomes if o.kind != "ok" and o.code).items())),
        "wall_seconds": round(wall, 3),
        "results_per_second": round(kinds["ok"] / wall, 1) if wall > 0 else 0,
    }
    if answered:
        report["latency_ms"] = {
            "p50": round(1000 * percentile(answered, 50), 1),
            "p95": round(1000 * percentile(answered, 95), 1),
            "p99": round(1000 * percentile(answered, 99), 1),
            "max": round(1000 * max(answered), 1),
            "mean": round(1000 * statistics.fmean(answered), 1),
        }
    return report


def print_report(report):
    print(f"{report['requests']} requests to {report['url']} ({report['mode']} mode) "
          f"in {report['wall_seconds']:.3f} s: {report['results_per_second']} results/s")
    print(f"  ok {report['ok']}, refused {report['refused']}, failed {report['failed']}, "
          f"unanswered {report['unanswered']}, lost {report['lost']}")
    if report["statuses"]:
        print("  statuses: " + ", ".join(f"{s} x{n}" for s, n in report["statuses"].items()))
    if report["errors"]:
        print("  errors: " + ", ".join(f"{c} x{n}" for c, n in report["errors"].items()))
    if "latency_ms" in report:
        latency = report["latency_ms"]
        print(f"  latency of answered requests: p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
              f"p99 {latency['p99']} ms, max {latency['max']} ms")


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return parse


def parse_options(argv):
    parser = argparse.ArgumentParser(
        description="Load-tests a running Argus deployment and reports what its clients saw.")
    parser.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8080")
    parser.add_argument("--mode", choices=("course", "api"), default="course",
                        help="course: POST / answered with the label (default); api: "
                             "POST /api/v1/images, then wait for each result")
    parser.add_argument("--files", nargs="+", metavar="PATH",
                        help="image files or folders to send in turn (default: the course "
                             "workload's 100 photos in ../shared/data/cse546-imagenet-100)")
    parser.add_argument("--token", default=os.environ.get("ARGUS_TOKEN"),
                        help="API token sent as a Bearer token (default: $ARGUS_TOKEN); "
                             "needed by --mode api")
    parser.add_argument("--concurrency", type=positive(int), default=100,
                        help="requests in flight at most (default 100, the course generator's)")
    parser.add_argument("--rate", type=positive(float),
                        help="send at this many requests per second (open loop) instead of "
                             "as fast as --concurrency allows")
    parser.add_argument("--requests", type=positive(int),
                        help="how many requests (default: each file once, or as many as "
                             "--duration allows)")
    parser.add_argument("--duration", type=positive(float),
                        help="stop sending after this many seconds")
    parser.add_argument("--unique", action="store_true",
                        help="give every request different bytes (a random JPEG comment or "
                             "PNG text chunk), so that none is answered from a stored result")
    parser.add_argument("--timeout", type=positive(float), default=120,
                        help="seconds to wait for an answer (default 120)")
    parser.add_argument("--result-timeout", type=positive(float), default=300,
                        help="api mode: seconds to wait for a result after 202 (default 300)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    options = parser.parse_args(argv)
    if options.files is None:
        if not os.path.isdir(COURSE_WORKLOAD):
            parser.error(f"--files is needed: {COURSE_WORKLOAD} is not here")
        options.files = [COURSE_WORKLOAD]
    return options


def main(argv):
    options = parse_options(argv)
    try:
        report = run(options)
    except UsageError as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    if options.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0 if report["ok"] == report["requests"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
