"""`make audit`: known vulnerabilities in the locked dependencies (the Python lock, soketi's
npm lock, the vendored pusher-js), with waivers that expire (audit-waivers.toml).

Run ``python -m audit``. What a registry here cannot answer is reported as NOT CHECKED,
never as clean; only a finding that is not waived fails the audit.
"""
