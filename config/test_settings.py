"""Test override: fixed keys, fast hashing; the database still comes from DATABASE_URL."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("LIANHU_DATA_KEY", "test-data-key-0123456789-0123456789-abcdef")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Lets several test runs share one PostgreSQL server without fighting over test_<name>.
if os.environ.get("LIANHU_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["LIANHU_TEST_DB_NAME"]}  # noqa: F405

# The worker's daily backup is tested where it is meant to be (tests/test_backup.py), not on every
# pass of the worker tests.
LIANHU_BACKUP_HOURS = 0
