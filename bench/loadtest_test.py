#!/usr/bin/env python3
"""Runs bench/loadtest.py against a real `argus serve` and checks its report.

Usage: loadtest_test.py ARGUS_BINARY SHARED_DATA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import e2e_bench

HERE = os.path.dirname(os.path.abspath(__file__))
LOADTEST = os.path.join(HERE, "loadtest.py")
SHARED = None


def loadtest(*args):
    """(exit status, report or None, stderr)."""
    done = subprocess.run([sys.executable, LOADTEST, "--json", *args],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, report, done.stderr


class LoadTestAgainstArgusServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # `argus serve` on a free port with its own data directory, an account and its token.
        cls.service = e2e_bench.Service()
        cls.url = f"http://127.0.0.1:{cls.service.port}"
        cls.course = os.path.join(SHARED, "cse546-imagenet-100")

    @classmethod
    def tearDownClass(cls):
        cls.service.close()

    def test_the_course_workload_is_answered_in_full(self):
        status, report, _ = loadtest("--url", self.url, "--files", self.course)
        self.assertEqual(status, 0, report)
        self.assertEqual(report["requests"], 100)
        self.assertEqual(report["ok"], 100)
        self.assertEqual(report["statuses"], {"200": 100})
        self.assertLessEqual(report["latency_ms"]["p50"], report["latency_ms"]["p99"])
        self.assertGreater(report["results_per_second"], 0)

    def test_unique_uploads_are_each_classified_through_the_api(self):
        photos = [os.path.join(self.course, f"test_{i}.JPEG") for i in range(4)]
        before = self.service.done_count()
        status, report, _ = loadtest("--url", self.url, "--mode", "api", "--token",
                                     self.service.token, "--files", *photos, "--requests", "12",
                                     "--concurrency", "4", "--unique")
        self.assertEqual(status, 0, report)
        self.assertEqual(report["ok"], 12)
        self.assertEqual(report["statuses"], {"202": 12})
        # Every request's bytes differ, so none was answered from a stored result.
        self.assertEqual(self.service.done_count() - before, 12)

    def test_an_open_loop_sends_at_the_rate_asked(self):
        status, report, _ = loadtest("--url", self.url, "--files", self.course,
                                     "--rate", "20", "--duration", "1.5", "--unique")
        self.assertEqual(status, 0, report)
        self.assertEqual(report["requests"], 30)
        self.assertEqual(report["ok"], 30)

    def test_refusals_are_counted_with_their_codes(self):
        status, report, _ = loadtest("--url", self.url, "--mode", "api", "--token",
                                     "argus_not-a-token", "--files", self.course,
                                     "--requests", "5")
        self.assertEqual(status, 1)
        self.assertEqual(report["refused"], 5)
        self.assertEqual(report["statuses"], {"401": 5})
        self.assertEqual(report["errors"], {"unauthenticated": 5})

    def test_a_service_that_is_not_there_leaves_every_request_unanswered(self):
        status, report, _ = loadtest("--url", f"http://127.0.0.1:{e2e_bench.free_port()}",
                                     "--files", self.course, "--requests", "3",
                                     "--concurrency", "1")
        self.assertEqual(status, 1)
        self.assertEqual(report["unanswered"], 3)
        self.assertEqual(report["ok"], 0)

    def test_usage_errors_are_named(self):
        status, report, error = loadtest("--url", self.url, "--mode", "api",
                                         "--files", self.course)
        self.assertEqual((status, report), (2, None))
        self.assertIn("--mode api needs --token", error)
        with tempfile.NamedTemporaryFile(suffix=".gif") as animated:
            animated.write(b"GIF89a" + bytes(20))
            animated.flush()
            status, _, error = loadtest("--url", self.url, "--files", animated.name,
                                        "--unique")
        self.assertEqual(status, 2)
        self.assertIn("JPEG and PNG files only", error)
        status, _, error = loadtest("--url", "ftp://example.com", "--files", self.course)
        self.assertEqual(status, 2)
        self.assertIn("expected http://", error)
        status, _, error = loadtest("--url", self.url, "--concurrency", "0")
        self.assertEqual(status, 2)
        self.assertIn("must be above 0", error)
        with tempfile.TemporaryDirectory() as folder:
            os.symlink(os.path.join(folder, "gone.jpg"), os.path.join(folder, "broken.jpg"))
            status, _, error = loadtest("--url", self.url, "--files", folder)
        self.assertEqual(status, 2)
        self.assertIn("broken.jpg: No such file or directory", error)


if __name__ == "__main__":
    e2e_bench.ARGUS, SHARED = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1])
