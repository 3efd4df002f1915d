"""`make audit`: known vulnerabilities in the locked dependencies (the Python lock, the npm
locks of soketi and of the page test's axe-core runner, the vendored pusher-js), with
waivers that expire (audit-waivers.toml).

Run ``python -m audit``. What a registry here cannot answer is reported as NOT CHECKED,
never as clean; only a finding that is not waived fails the audit.
"""
