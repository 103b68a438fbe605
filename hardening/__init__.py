"""Hardening (issue 7): API fuzzing, LLM abuse, limits and revocation tests, security checks.

``python -m hardening.run`` (``make hardening``) runs the slow part: the tests marked
``hardening`` (Schemathesis against a live server), bandit, ``check --deploy`` with production
settings and ``pip check``. The fast tests in ``hardening/tests/`` also run under ``make test``.
"""
