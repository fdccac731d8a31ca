"""Secrets never reach a trace: environment variables that look secret are redacted by
name, and their values (and passwords inside URLs, and values of --password-like
options) are scrubbed wherever they show up later: audit arguments, exception
messages, the uncaught exception, argv, an exec's argv. Canaries are planted in each
place and looked for in every command's output and in every decompressed frame."""

import os
import re
import subprocess
import unittest

import pyreader
import rwtest

CANARY = re.compile(r"canary\d{3}")

ENV = {
    "GITHUB_TOKEN": "ghp_canary101",
    "DATABASE_URL": "postgres://bob:canary102@db.example/x",
    "DB_PASS": "canary103",
    "PGPASS": "canary104",
    "SENTRY_DSN": "https://canary105@sentry.example/1",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/canary106",
    "MY_API_KEY": "canary107key",
    "SESSION_COOKIE": "canary108",
    "AWS_SECRET_ACCESS_KEY": "canary109",
    "DEPLOY_PRIVATE": "canary110",
    "HARMLESS_URL": "https://alice:canary111@mirror.example/simple",  # creds in any var
}

PROG = '''\
import os, subprocess, sys
env = dict(os.environ)
subprocess.run(["true"], env=env)                       # audit: subprocess.Popen's env
for name in sorted(k for k in env if k != "PATH"):
    try:
        raise ValueError(name + " is " + env[name])     # exception messages
    except ValueError:
        pass
print(len(sys.argv))
if len(sys.argv) > 6:
    os.execv(sys.executable, [sys.executable, "-c", "pass", "--token", "canary" + str(100 + 15)])
raise RuntimeError("giving up with " + env["DATABASE_URL"])   # the uncaught exception
'''


class Secrets(rwtest.TestCase):

    def record_with_canaries(self, extra_args=()):
        prog = self.write("leaky.py", PROG)
        args = ["--password", "canary112", "--api-key=canary113", "--url",
                "ftp://u:canary114@h/", *extra_args]
        rec = self.record(prog, args, options=["-q"], env=ENV)
        self.assertIn("giving up" if not extra_args else "7", rec.stderr + rec.stdout)
        return rec

    def assert_clean(self, trace):
        outputs = {
            "info": ["info", trace], "info --json": ["info", "--json", trace],
            "events --json": ["events", trace, "--json"], "events": ["events", trace],
            "audit": ["audit", trace], "audit --json": ["audit", trace, "--json"],
            "export": ["export", trace, "--format", "chrome", "-o", "-"],
            "stats": ["stats", trace],
        }
        for what, args in outputs.items():
            p = rwtest.run([rwtest.rewind_bin(), *args])
            found = set(CANARY.findall(p.stdout + p.stderr))
            self.assertEqual(found, set(), f"{what} shows {sorted(found)}")
        tr = pyreader.Trace(trace)
        for fr in tr.frames:
            data = tr.payload(fr)
            found = set(m.decode() for m in re.findall(rb"canary\d{3}", data))
            self.assertEqual(found, set(), f"frame at {fr.offset} holds {sorted(found)}")

    def test_no_canary_anywhere(self):
        rec = self.record_with_canaries()
        self.assert_clean(rec.trace)
        info = rwtest.info(rec.trace)
        self.assertEqual(info["argv"][1:],
                         ["--password", "<redacted>", "--api-key=<redacted>", "--url",
                          "ftp://u:<redacted>@h/"])
        env = {e["name"]: e for e in info.get("env", [])} if "env" in info else {}
        for name in ENV:
            if name in env and name != "HARMLESS_URL":
                self.assertTrue(env[name]["redacted"], name)
        evs = [e for e in rwtest.events(rec.trace, "--kinds", "exception")
               if e["text"] and "is " in e["text"]]
        self.assertTrue(any("<redacted>" in e["text"] for e in evs))

    def test_exec_argv(self):
        rec = self.record_with_canaries(["x"])
        self.assert_clean(rec.trace)
        info = rwtest.info(rec.trace)
        self.assertEqual(info["exec"]["argv"][-2:], ["--token", "<redacted>"])
        child = os.path.join(self.tmp, info["exec"]["trace"])
        self.assert_clean(child)

    def test_reveals(self):
        prog = self.write("talks.py", """\
import os, socket, subprocess
open(os.path.join(os.path.dirname(__file__), "data.txt"), "w").write("x")
try:
    socket.create_connection(("127.0.0.1", 9), timeout=0.5)
except OSError:
    pass
subprocess.run(["true", "--flag"])
""")
        rec = self.record(prog, options=["-q"], env={**ENV, "HOME": "/home/alice"})
        self.assertEqual(rec.returncode, 0, rec.stderr)
        p = rwtest.rewind("info", "--reveals", "--json", rec.trace)
        rv = rwtest.parse_json_output(p.stdout)
        self.assertIn("alice", rv["users"])
        self.assertTrue({"GITHUB_TOKEN", "DB_PASS", "PGPASS", "SENTRY_DSN"} <= set(rv["env_redacted"]))
        self.assertIn("HARMLESS_URL", rv["env_kept"])
        self.assertIn(prog, rv["sources"])
        self.assertTrue(any("data.txt" in f for f in rv["files_opened"]), rv["files_opened"])
        self.assertIn("('127.0.0.1', 9)", rv["peers"])
        self.assertIn("['true', '--flag']", rv["programs_run"])
        self.assertEqual(rv["tls_draws"], 0)  # no TLS: no keys (test_values test_tls_in_...)
        text = rwtest.rewind("info", "--reveals", rec.trace).stdout
        self.assertNotIn("TLS keys", text)
        self.assertIn("what ", text)
        self.assertIn("redacted", text)
        self.assertEqual(set(CANARY.findall(p.stdout + text)), set())


if __name__ == "__main__":
    unittest.main()
