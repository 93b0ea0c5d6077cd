#!/usr/bin/env python3
"""Runs bench/loadtest.py against a real `argus serve` and checks its report.

Usage: loadtest_test.py ARGUS_BINARY SHARED_DATA_DIR
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LOADTEST = os.path.join(HERE, "loadtest.py")
ARGUS = None
SHARED = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadtest(*args):
    """(exit status, report or None, stderr)."""
    done = subprocess.run([sys.executable, LOADTEST, "--json", *args],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, report, done.stderr


class Service:
    """`argus serve` on a free port with its own data directory and an account's token."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="argus-loadtest-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.process = subprocess.Popen(
            [ARGUS, "serve", "--host=127.0.0.1", f"--port={self.port}",
             f"--data-dir={self.dir}/data"], stdout=self.log, stderr=self.log)
        for _ in range(600):
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("argus serve did not get ready")
        self.token = self.create_token()

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), response.getheaders()
        finally:
            connection.close()

    def create_token(self):
        _, _, headers = self.request(
            "POST", "/api/v1/auth/signup",
            json.dumps({"email": "load@example.com", "password": "load-test-only"}),
            {"Content-Type": "application/json"})
        cookies = dict(value.split(";")[0].split("=", 1)
                       for name, value in headers if name.lower() == "set-cookie")
        status, body, _ = self.request(
            "POST", "/api/v1/tokens", json.dumps({"name": "load"}),
            {"Content-Type": "application/json",
             "Cookie": f"argus_session={cookies['argus_session']}",
             "X-CSRF-Token": cookies["argus_csrf"]})
        assert status == 201, (status, body)
        return json.loads(body)["token"]

    def images_done(self):
        _, body, _ = self.request("GET", "/api/v1/ops/status",
                                  headers={"Authorization": f"Bearer {self.token}"})
        return json.loads(body)["images"]["done"]

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class LoadTestAgainstArgusServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = Service()
        cls.course = os.path.join(SHARED, "cse546-imagenet-100")

    @classmethod
    def tearDownClass(cls):
        cls.service.close()

    def test_the_course_workload_is_answered_in_full(self):
        status, report, _ = loadtest("--url", self.service.url, "--files", self.course)
        self.assertEqual(status, 0, report)
        self.assertEqual(report["requests"], 100)
        self.assertEqual(report["ok"], 100)
        self.assertEqual(report["statuses"], {"200": 100})
        self.assertLessEqual(report["latency_ms"]["p50"], report["latency_ms"]["p99"])
        self.assertGreater(report["results_per_second"], 0)

    def test_unique_uploads_are_each_classified_through_the_api(self):
        photos = [os.path.join(self.course, f"test_{i}.JPEG") for i in range(4)]
        before = self.service.images_done()
        status, report, _ = loadtest("--url", self.service.url, "--mode", "api", "--token",
                                     self.service.token, "--files", *photos, "--requests", "12",
                                     "--concurrency", "4", "--unique")
        self.assertEqual(status, 0, report)
        self.assertEqual(report["ok"], 12)
        self.assertEqual(report["statuses"], {"202": 12})
        # Every request's bytes differ, so none was answered from a stored result.
        self.assertEqual(self.service.images_done() - before, 12)

    def test_an_open_loop_sends_at_the_rate_asked(self):
        status, report, _ = loadtest("--url", self.service.url, "--files", self.course,
                                     "--rate", "20", "--duration", "1.5", "--unique")
        self.assertEqual(status, 0, report)
        self.assertEqual(report["requests"], 30)
        self.assertEqual(report["ok"], 30)

    def test_refusals_are_counted_with_their_codes(self):
        status, report, _ = loadtest("--url", self.service.url, "--mode", "api", "--token",
                                     "argus_not-a-token", "--files", self.course,
                                     "--requests", "5")
        self.assertEqual(status, 1)
        self.assertEqual(report["refused"], 5)
        self.assertEqual(report["statuses"], {"401": 5})
        self.assertEqual(report["errors"], {"unauthenticated": 5})

    def test_a_service_that_is_not_there_leaves_every_request_unanswered(self):
        status, report, _ = loadtest("--url", f"http://127.0.0.1:{free_port()}",
                                     "--files", self.course, "--requests", "3",
                                     "--concurrency", "1")
        self.assertEqual(status, 1)
        self.assertEqual(report["unanswered"], 3)
        self.assertEqual(report["ok"], 0)

    def test_usage_errors_are_named(self):
        status, report, error = loadtest("--url", self.service.url, "--mode", "api",
                                         "--files", self.course)
        self.assertEqual((status, report), (2, None))
        self.assertIn("--mode api needs --token", error)
        with tempfile.NamedTemporaryFile(suffix=".gif") as animated:
            animated.write(b"GIF89a" + bytes(20))
            animated.flush()
            status, _, error = loadtest("--url", self.service.url, "--files", animated.name,
                                        "--unique")
        self.assertEqual(status, 2)
        self.assertIn("JPEG and PNG files only", error)
        status, _, error = loadtest("--url", "ftp://example.com", "--files", self.course)
        self.assertEqual(status, 2)
        self.assertIn("expected http://", error)
        status, _, error = loadtest("--url", self.service.url, "--concurrency", "0")
        self.assertEqual(status, 2)
        self.assertIn("must be above 0", error)


if __name__ == "__main__":
    ARGUS, SHARED = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1])
