"""qpan.extract.regex_literals reads CPython's private regex parse tree: pinned to the Python it
was checked on, and to the results the extraction's pre-tests rely on."""
from __future__ import annotations

import sys

import pytest

from qpan.extract.regex_literals import required_literals


def test_pinned_to_the_python_it_was_checked_on():
    # re._parser's tree (op codes, SUBPATTERN's and BRANCH's argument layout) is CPython-internal:
    # on another minor version, check the cases below and then move this pin.
    assert sys.version_info[:2] == (3, 11)


@pytest.mark.parametrize("pattern, literals", [
    (r"(?:ab|cd)ef", (("ab", "cd"), ("ef",))),
    (r"(?<!\w)xyz(?!\w)", (("xyz",),)),           # look-arounds consume nothing
    (r"x(?=yy)zz", (("zz",),)),
    (r"huyện\s+(?:Thọ Xuân|Đông Sơn)", (("huyện",), ("Thọ Xuân", "Đông Sơn"))),
    (r"a+bc", (("bc",),)),                        # one-character strings are left out
    (r"(ab)?cd", (("cd",),)),                     # an optional group is not required
    (r"[ab]cd", (("cd",),)),
    (r"(?i)abc", ()),                             # case-insensitive: nothing exact to look for
    (r"(", ()),                                   # unparsable: no pre-test
])
def test_required_literals(pattern, literals):
    assert required_literals(pattern) == literals
