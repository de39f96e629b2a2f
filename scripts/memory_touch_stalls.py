#!/usr/bin/env python3
"""How often the first read of an anonymous memory page stalls on this machine.

Usage: scripts/memory_touch_stalls.py [--mib 256] [--idle 0,2,10,30,60,0]

For each idle time: map `--mib` MiB of anonymous memory, write every page once, sleep that
many seconds, then read one byte of 20,000 distinct pages in random order, timing each read;
prints the fraction above 100 us and the load average. No file, no syscall and no page fault
is involved in a timed read (every page was written first), so a stall here is the machine's,
not the program's: it bounds what any in-memory cache can achieve.
"""

import argparse
import mmap
import random
import time


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--idle", default="0,2,10,30,60,0")
    args = parser.parse_args()
    size = args.mib << 20
    pages = size // 4096
    clock = time.perf_counter_ns
    for idle in (int(s) for s in args.idle.split(",")):
        m = mmap.mmap(-1, size)
        for off in range(0, size, 4096):
            m[off] = 1
        time.sleep(idle)
        order = random.sample(range(pages), min(20_000, pages))
        samples = []
        for p in order:
            o = p * 4096 + 100
            t0 = clock()
            m[o]
            samples.append(clock() - t0)
        samples.sort()
        n = len(samples)
        over = sum(1 for x in samples if x > 100_000)
        print(
            f"{args.mib} MiB anon, idle {idle:3d} s after writing every page: first reads "
            f"> 100 us: {over}/{n} ({100 * over / n:.2f} %), p99 {samples[int(n * 0.99)] / 1000:.1f} us, "
            f"load {load()}",
            flush=True,
        )
        m.close()


if __name__ == "__main__":
    main()
