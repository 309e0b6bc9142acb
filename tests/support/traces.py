"""Small trace files written by hand (SWF and Alibaba CSV), with their expected figures worked out in the tests."""

from __future__ import annotations

EPOCH = 1_000_000_000  # 2001-09-09 01:46:40 UTC

SWF = (
    f"""; Version: 2.2
; UnixStartTime: {EPOCH}
; MaxProcs: 64
    1     0   -1   100    8   -1  -1    8   -1  -1  1    1    1  -1  -1  1  -1  -1
    2    50   10   200   -1   -1  -1    4   -1  -1  1    2    3  -1  -1  1  -1  -1
    3    60   -1    -1    8   -1  -1    8   -1  -1  5    1    1  -1  -1  1  -1  -1
    4    70   -1    -5    8   -1  -1    8   -1  -1  1    1    1  -1  -1  1  -1  -1
    5    80   -1   abc    8   -1  -1    8   -1  -1  1    1    1  -1  -1  1  -1  -1
    6    90   -1    10    8   -1  -1    8   -1  -1
    7   100   -1     0    8   -1  -1    8   -1  -1  5    1    1  -1  -1  1  -1  -1
    8   110   -1    20   -1   -1  -1   -1   -1  -1  0    1    1  -1  -1  1  -1  -1
    9   120   -1    30    2   -1  -1    2   -1  -1  1   99   99  -1  -1  1  -1  -1
""".encode()
    + b"   10 \xff\xfe garbage\n"
    + b"   11   130   -1    40    8"
)


ALIBABA = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
    """pod-a,1000,1024,1,500,,LS,Running,0,1000,100
pod-b,1000,1024,2,1000,,BE,Succeeded,0,400,200
pod-c,1000,1024,0,0,,LS,Running,0,100,0
pod-d,1000,1024,1,1000,,LS,Pending,0,100,
pod-e,1000,1024,1,x,,LS,Running,0,100,0
pod-f,1000
pod-g,1000,1024,1,1000,,BE,Running,0,50,100
"""
)


# ---------------------------------------------------------------- a site's trace: 21 fields per line
# Like the Parallel Workloads Archive's site traces: the 18 standard fields, then 3 of the site's own;
# decimals where SWF wants integers, but only in fields the import does not use (6: average CPU time,
# 7: used memory, 19–21: the site's). Starts 2026-01-31 20:00 UTC, so that runs cross into February.
# At 1/4 GPU per processor (worked out by hand in tests/usage):
#   job 1: 22:00 → Feb 1 02:00, 8 × 14,400 s / 4 = 28,800 (Jan 14,400, Feb 14,400)
#   job 2: 20:01 → 20:11, 4 × 600 / 4 = 600 (user 2, group 3)
#   job 3: 20:02 → 21:02, 16 requested × 3,600 / 4 = 14,400
#   job 4: 20:03:10 → Feb 1 20:03:10, 2 × 86,400 / 4 = 43,200 (Jan 14,210 s of 86,400: 7,105; Feb 36,095)
#   job 5: run time 0 (zero usage)
#   job 6: 20:05 → 20:25, 8 × 1,200 / 4 = 2,400
# Jan 38,905 + Feb 50,495 = 89,400 billing GPU-seconds.

EPOCH_2026 = 1_769_889_600  # 2026-01-31 20:00:00 UTC

SWF21 = f"""; Version: 2.2
; Computer: a site's cluster
; UnixStartTime: {EPOCH_2026}
; Note: fields 19-21 are the site's own (queue wait class, power factor, reservation)
    1     0  7200  14400    8  3599.75  1024.5    8  20000  -1  1   1   1  -1  1  1  -1  -1   3  0.25  -1
    2    60     0    600    4    12.5      -1     4   900  -1  1   2   3  -1  1  1  -1  -1   0  1.00  -1
    3   120    -1   3600   -1    -1      2.5    16  3600  -1  1   1   1  -1  1  1  -1  -1   1  0.50   7
    4   180    10  86400    2  86399.9     -1     2 90000  -1  1   1   1  -1  1  1  -1  -1   2  0.75  -1
    5   240     0      0    8     0.0     -1     8   100  -1  5   1   1  -1  1  1  -1  -1   0  0.00  -1
    6   300     0   1200    8  1199.5      -1     8  1800  -1  1   1   1  -1  1  1  -1  -1   0  1.25  -1
""".encode()

SWF21_LINES = {"job 1": 5, "job 4": 8, "job 6": 10}  # line numbers in SWF21


def with_comment(trace: bytes) -> bytes:
    """The same records with a comment line added after the header (as a site's curator might)."""
    head, sep, rest = trace.partition(b"\n    1 ")
    return head + b"\n; Cleaned: 2026-02-10, one comment more\n" + sep.lstrip(b"\n") + rest


def crlf(trace: bytes) -> bytes:
    """The same bytes with CRLF line endings."""
    return trace.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def cut(trace: bytes, job: int, keep: int) -> bytes:
    """A copy cut mid-line: everything before job ``job``'s line, then its first ``keep`` characters."""
    at = trace.index(f"\n{job:5d} ".encode()) + 1
    return trace[: at + keep]
