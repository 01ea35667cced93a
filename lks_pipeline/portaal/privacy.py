"""Masking what a request names before it reaches the audit log or a log line (rules 8.3).

A path, a file name or a user name typed at login may hold a BSN, typed by mistake or on
purpose: every run of nine or more digits is masked (a BSN has nine; the dates in report names,
eight, stay readable). Pure, so logging can load it before Django.
"""

import logging
import re

NUMBER = re.compile(r"\d{9,}")


def mask(text: str) -> str:
    """Replace every run of nine or more digits by `*`s of the same length."""
    return NUMBER.sub(lambda m: "*" * len(m.group()), text)


class MaskNumbers(logging.Filter):
    """A logging filter that masks digit runs in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        return True
