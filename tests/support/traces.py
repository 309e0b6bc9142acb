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
