"""Made-up health service numbers with right (or deliberately wrong) check digits, for tests."""

from __future__ import annotations

from discretion.recognizers.base import mod11_check_digit


def valid(prefix: str) -> str:
    """The first ten-digit number starting with ``prefix`` whose Modulus 11 check digit is right."""
    free = 9 - len(prefix)
    for i in range(10**free):
        body = prefix + (str(i).zfill(free) if free else "")
        check = mod11_check_digit(body)
        if check is not None:
            return body + str(check)
    raise ValueError(f"no valid number starts with {prefix}")


def wrong(number: str) -> str:
    """The same number with a check digit that is wrong."""
    right = int(number[-1])
    return number[:-1] + str((right + 1) % 10)


def grouped(number: str, sep: str = " ") -> str:
    """3-3-4, the way NHS numbers are printed."""
    return f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"
