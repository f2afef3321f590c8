"""Frame-sized buffers go back to the system once freed, so a handset's memory stays at what it holds.

A handset allocates and frees buffers of a whole frame (8.3 MB at 1080x1920)
for every new page. glibc's allocator serves a freed block of that size from
its heaps next time instead of mapping it afresh (its mmap threshold rises to
the largest block freed), and each thread that serves ADB gets a heap of its
own, so the freed frames of every thread stay resident: 150 MiB per handset
after all 29 screens. Fixing the threshold keeps large blocks in mappings of
their own, which ``free`` returns at once. Elsewhere than glibc this does nothing.

The setting is for the whole process, so only a process that is a handset
(``harness emulate``) makes it: in a test run or a desk tool, numpy's large
temporary arrays would each cost a fresh mapping and its page faults.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's mallopt parameter for the mmap threshold (malloc.h: M_MMAP_THRESHOLD).
_M_MMAP_THRESHOLD = -3
#: Blocks from this size up get a mapping of their own (a frame's rows, a page: far larger).
LARGE_BLOCK = 256 * 1024


def give_back_large_buffers() -> bool:
    """Ask the C allocator to map large blocks on their own; True if it agreed (glibc)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK) == 1
